import { dirname, sep } from "node:path";
import type { ZipArchive } from "./zip.js";

/**
 * Archives read in place, by the folder path they stand in for. A path under a mount is served from
 * its archive (see files.ts); every other path from the disk. Mount folders are never created: they
 * are names under the temporary folder, unique to this process.
 */
const mounts = new Map<string, ZipArchive>();
let counter = 0;

/** A fresh, never-created folder path for an archive, under `parent`, named `name`. */
export function mountPoint(parent: string, name: string): string {
  counter++;
  return `${parent}${sep}selfharness-zip-${process.pid}-${counter}${sep}${name}`;
}

export function mount(root: string, archive: ZipArchive): void {
  mounts.set(root, archive);
}

export function unmount(root: string): void {
  mounts.delete(root);
}

/** The archive serving `path` and the path inside it (`""` for its root), or undefined for the disk. */
export function inArchive(path: string): { archive: ZipArchive; path: string } | undefined {
  if (mounts.size === 0) return undefined;
  for (let dir = path; ; ) {
    const archive = mounts.get(dir);
    if (archive) return { archive, path: dir === path ? "" : path.slice(dir.length + 1).split(sep).join("/") };
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

import { createReadStream } from "node:fs";
import { mkdir, open, readdir, rename, stat, unlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import type { IngestResult } from "../../traces/types.js";
import { packageVersion } from "../../version.js";

/**
 * Parsed trials on disk, keyed by artifact id: an artifact never changes once uploaded, so an entry
 * never goes stale. The format tag changes when the trial shape does, which orphans old entries.
 * An entry is JSON Lines, one trial or error a line, written and read a record at a time: a large
 * artifact's trials never become one string of hundreds of megabytes on either side. An entry is
 * keyed by the reader too (this package's version and the configured trace format): an upgraded
 * reader, or a corrected `eval.format`, parses again instead of serving the old reading.
 */
const FORMAT = "v2";
const DEFAULT_MAX_BYTES = 1024 * 1024 * 1024;
/** Largest entry kept: a parse bigger than this is cheaper to redo than to hold whole in a cache. */
const MAX_ENTRY_BYTES = 256 * 1024 * 1024;

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.SELFHARNESS_CACHE_DIR || path.join(os.tmpdir(), "selfharness-cache");
}

function maxBytes(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.SELFHARNESS_CACHE_MAX_BYTES);
  return Number.isFinite(value) && value > 0 ? value : DEFAULT_MAX_BYTES;
}

/** What a parse depends on: the artifact and the trace format it was read as. */
export interface CacheKey {
  artifactId: number;
  format: string;
}

let reader: string | undefined;

function entryPath(dir: string, key: CacheKey): string {
  reader ??= packageVersion().replace(/[^\w.-]/g, "_");
  return path.join(dir, `${FORMAT}-${reader}-${key.format.replace(/[^\w-]/g, "_")}-artifact-${key.artifactId}.jsonl`);
}

type Line = { trial: IngestResult["trials"][number] } | { error: IngestResult["errors"][number] };

/** The cached parse of an artifact, or null when absent, unreadable or cut short (then it is parsed again). */
export async function readCachedTrials(key: CacheKey, dir = cacheDir()): Promise<IngestResult | null> {
  const file = entryPath(dir, key);
  try {
    if ((await stat(file)).size > MAX_ENTRY_BYTES) return null;
    const result: IngestResult = { trials: [], errors: [] };
    let complete = false;
    const lines = createInterface({ input: createReadStream(file, "utf8"), crlfDelay: Infinity });
    for await (const text of lines) {
      if (text === "") continue;
      const line = JSON.parse(text) as Line | { end: true };
      if ("trial" in line && line.trial && typeof line.trial === "object") result.trials.push(line.trial);
      else if ("error" in line && line.error && typeof line.error === "object") result.errors.push(line.error);
      else if ("end" in line) complete = true;
      else return null;
    }
    return complete ? result : null;
  } catch {
    return null;
  }
}

/** Stores a parse; a failure to write only costs a parse next time, so it is not an error. */
export async function writeCachedTrials(key: CacheKey, result: IngestResult, dir = cacheDir()): Promise<boolean> {
  const limit = Math.min(maxBytes(), MAX_ENTRY_BYTES);
  const target = entryPath(dir, key);
  // Write then rename: a concurrent reader sees the old entry or the whole new one, never half.
  const temporary = `${target}.${process.pid}.${Date.now()}.tmp`;
  try {
    await mkdir(dir, { recursive: true });
    const handle = await open(temporary, "w");
    let written = 0;
    try {
      const records: Line[] = [...result.trials.map((trial) => ({ trial })), ...result.errors.map((error) => ({ error }))];
      for (const record of records) {
        const text = `${JSON.stringify(record)}\n`;
        written += Buffer.byteLength(text);
        if (written > limit) break;
        await handle.write(text);
      }
      if (written <= limit) await handle.write(`${JSON.stringify({ end: true })}\n`);
    } finally {
      await handle.close();
    }
    if (written > limit) {
      await unlink(temporary).catch(() => undefined);
      return false;
    }
    await rename(temporary, target);
    await evictOldest(dir, maxBytes());
    return true;
  } catch {
    await unlink(temporary).catch(() => undefined);
    return false;
  }
}

/** Removes the least recently written entries until the directory fits the limit. */
async function evictOldest(dir: string, limit: number): Promise<void> {
  const names = (await readdir(dir)).filter((name) => name.startsWith(`${FORMAT}-`) && name.endsWith(".jsonl"));
  const entries = await Promise.all(
    names.map(async (name) => {
      const info = await stat(path.join(dir, name)).catch(() => null);
      return { name, size: info?.size ?? 0, mtime: info?.mtimeMs ?? 0 };
    }),
  );
  let total = entries.reduce((sum, e) => sum + e.size, 0);
  for (const entry of entries.sort((a, b) => a.mtime - b.mtime)) {
    if (total <= limit) break;
    await unlink(path.join(dir, entry.name)).catch(() => undefined);
    total -= entry.size;
  }
}

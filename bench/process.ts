/**
 * Whole-process measurements, the way a user runs the CLI: wall time from spawn to exit, and peak
 * RSS and CPU time as the process itself saw them (bench/process/rss.mjs, preloaded into every
 * measured process alike, started from a small shell so that it does not inherit this process's
 * peak). Paired runs alternate which side goes first, so drift on a shared machine hits both.
 */
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from "node:fs";
import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(here, "..");
const RSS = join(here, "process", "rss.mjs");
const OPEN_LOG = join(here, "process", "open-log.mjs");
export const FLOOR = join(here, "process", "floor.mjs");
export const CLI = join(repoRoot, "bin", "selfharness.cjs");

export interface Run {
  seconds: number;
  rssMiB: number;
  /** CPU time of all the process's threads (user and system): the work done, however many cores ran it. */
  cpuSeconds: number;
  /** Minor page faults: pages of memory the process touched afresh (each one costs CPU time in the kernel). */
  pageFaults: number;
  status: number | null;
}

const scratch = mkdtempSync(join(tmpdir(), "selfharness-bench-"));
process.on("exit", () => rmSync(scratch, { recursive: true, force: true }));

/**
 * Runs `node <args>` to completion with stdout to /dev/null, in an empty folder (no configuration file
 * to pick up); stderr is kept only to explain a failure. `measured: false` leaves out the preload that
 * reports peak RSS, CPU time and page faults (they read 0 then): the start-up figures time a process
 * as a user starts it, and the preload would start Node's ES module loader, which `--help` skips.
 */
export function runNode(args: string[], options: { allowFailure?: boolean; env?: NodeJS.ProcessEnv; cwd?: string; measured?: boolean } = {}): Promise<Run> {
  const rssFile = join(scratch, `rss-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const out = openSync("/dev/null", "w");
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    // Through a shell that waits for it: Linux keeps a process's peak RSS across exec, so a child
    // forked straight from this (large) process would report this process's size as its own peak.
    const preload = options.measured === false ? [] : ["--import", RSS];
    const child = spawn("/bin/sh", ["-c", '"$0" "$@"; exit $?', process.execPath, ...preload, ...args], {
      stdio: ["ignore", out, "pipe"],
      cwd: options.cwd ?? scratch,
      env: { ...process.env, ...options.env, BENCH_RSS_FILE: rssFile },
    });
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      if (stderr.length < 4000) stderr += chunk.toString("utf8");
    });
    child.on("error", reject);
    child.on("close", (status) => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      closeSync(out);
      if (status !== 0 && !options.allowFailure) return reject(new Error(`node ${args.join(" ")} exited with ${status}: ${stderr.slice(0, 2000)}`));
      let rssKiB = 0;
      let cpuMicros = 0;
      let pageFaults = 0;
      try {
        [rssKiB, cpuMicros, pageFaults] = readFileSync(rssFile, "utf8").split(" ").map(Number) as [number, number, number];
        rmSync(rssFile, { force: true });
      } catch {
        // killed before it could say
      }
      resolve({ seconds, rssMiB: rssKiB / 1024, cpuSeconds: cpuMicros / 1e6, pageFaults, status });
    });
  });
}

/** The files `node <args>` opens for reading under `root` (bench/process/open-log.mjs). */
export function filesOpened(args: string[], root: string): string[] {
  const log = join(scratch, `opened-${Math.random().toString(36).slice(2)}`);
  // The preload hooks this thread only (Node 20 does not pass --import on to worker threads): the
  // trial pool's workers are turned off here; they open the same files, only elsewhere.
  const run = spawnSync(process.execPath, ["--import", OPEN_LOG, ...args], { stdio: ["ignore", "ignore", "pipe"], cwd: scratch, env: { ...process.env, BENCH_OPEN_LOG: log, SELFHARNESS_READ_WORKERS: "0" }, encoding: "utf8" });
  if (run.status !== 0) throw new Error(`node ${args.join(" ")} exited with ${run.status}: ${run.stderr.slice(0, 2000)}`);
  // Opens that failed (a file a reader looks for and does not find) cost next to nothing: not listed.
  const files = readFileSync(log, "utf8").split("\n").filter((f) => f.startsWith(`${root}/`) && existsSync(f));
  return [...new Set(files)].sort();
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface Paired {
  a: Run[];
  b: Run[];
  /** b's time over a's, per pair. */
  ratios: number[];
}

/** `pairs` runs of each, alternating which goes first. */
export async function paired(a: () => Promise<Run>, b: () => Promise<Run>, pairs: number): Promise<Paired> {
  const result: Paired = { a: [], b: [], ratios: [] };
  for (let i = 0; i < pairs; i++) {
    let first: Run;
    let second: Run;
    if (i % 2 === 0) {
      first = await a();
      second = await b();
    } else {
      second = await b();
      first = await a();
    }
    result.a.push(first);
    result.b.push(second);
    result.ratios.push(second.seconds / first.seconds);
  }
  return result;
}

/** Total bytes of `files`. */
export function bytesOf(files: string[]): number {
  return files.reduce((sum, f) => sum + statSync(f).size, 0);
}

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

/** The CLI runs from dist/ (its bundle), as installed: rebuild it when a source file is newer. */
export function ensureBuilt(): void {
  let built = 0;
  try {
    built = statSync(join(repoRoot, "dist", "bundle", "selfharness.js")).mtimeMs;
  } catch {
    built = 0;
  }
  if (built >= newest(join(repoRoot, "src"))) return;
  process.stderr.write("bench: building dist/ ...\n");
  const run = spawnSync("npm", ["run", "-s", "build"], { cwd: repoRoot, stdio: "inherit" });
  if (run.status !== 0) throw new Error("the build failed");
}

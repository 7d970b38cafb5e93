import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { markBounded } from "./bound.js";
import { READ_AHEAD } from "./concurrency.js";
import { inArchive } from "./mount.js";
// Types only: the readers import this module, and the worker's entry (trial-worker.ts) imports them.
import type { TrialJob, TrialJobResult } from "./trial-job.js";

/**
 * Trial folders parsed on worker threads. Parsing a trial (terminal cleanup, step splitting) is most
 * of the CPU a read costs, and each trial is a pure function of its folder, so on a machine with
 * several cores the folders of a run go to a few workers while this thread mines. Results come back
 * as plain data (structured clone) and the callers still yield them in order (`inOrder`).
 *
 * Only folders on the disk go to a worker: an archive is mounted in this thread's memory (mount.ts).
 * Small runs never start a worker (starting one costs more than it saves), and the pool falls back to
 * this thread whenever a worker cannot start or dies, so no trial is ever lost to it.
 * `SELFHARNESS_READ_WORKERS` sets how many workers (0: none); the default is one per core but one.
 */

/** Jobs this thread runs before the pool starts workers: a run this small is read faster without. */
export const LOCAL_FIRST = 16;

/** Reads a job on this thread: the caller's own reader, so that this module never imports one. */
export type ReadHere = () => Promise<TrialJobResult>;

interface Pending {
  job: TrialJob;
  here: ReadHere;
  resolve: (result: TrialJobResult) => void;
  reject: (error: unknown) => void;
}

interface PoolWorker {
  worker: Worker;
  pending: Map<number, Pending>;
}

let workers: PoolWorker[] | null = null;
let broken = false;
let nextId = 0;
let dispatched = 0;
let sent = 0;
let died = 0;

/** The most workers `SELFHARNESS_READ_WORKERS` may ask for. */
const MOST_WORKERS = 16;

/**
 * The workers `SELFHARNESS_READ_WORKERS` asks for, else one per core but one (at most three: reading
 * is partly bound by the disk). A value that is not a whole number in range is an error, never a
 * silent default: a person who set it to turn workers off must not get them.
 */
export function workerCount(env: NodeJS.ProcessEnv = process.env): number {
  const set = env.SELFHARNESS_READ_WORKERS;
  if (set === undefined || set.trim() === "") return Math.min(3, Math.max(0, availableParallelism() - 1));
  const wanted = /^\d{1,3}$/.test(set.trim()) ? Number(set.trim()) : NaN;
  if (!(wanted <= MOST_WORKERS)) throw new Error(`SELFHARNESS_READ_WORKERS must be a whole number from 0 to ${MOST_WORKERS} (0: read on one thread), not ${JSON.stringify(set.slice(0, 40))}`);
  return wanted;
}

/**
 * A worker's young generation, in MB (Node 20's default: 48; the old generation keeps its default).
 * What a worker allocates lives for one trial, yet V8 grows the young generation as a read goes on:
 * reading 1,600 Terminal-Bench 1 trials, the worker's heap doubled to 56 MB after about 600 of them.
 * Capped, the peak memory of `mine` at 1,600 trials fell from 179 to 156 MB (TB1) at no cost in time
 * (bench corpora, 2 cores, medians of 5 runs).
 */
const YOUNG_GENERATION_MB = 16;

/**
 * A new worker on the entry beside this module: compiled JavaScript, or (tests, which run the
 * sources) TypeScript loaded through tsx, registered in the worker first since Node 20 does not pass
 * `--import` on to workers. Null when there is no entry: a bundle (the Action) reads on this thread.
 */
function newWorker(): Worker | null {
  const typescript = import.meta.url.endsWith(".ts");
  const url = new URL(`./trial-worker.${typescript ? "ts" : "js"}`, import.meta.url);
  if (url.protocol !== "file:" || !existsSync(fileURLToPath(url))) return null;
  const resourceLimits = { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB };
  if (!typescript) return new Worker(url, { resourceLimits });
  return new Worker(`import("tsx/esm/api").then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); });`, { eval: true, resourceLimits });
}

function start(count: number): PoolWorker[] {
  const started: PoolWorker[] = [];
  for (let i = 0; i < count; i++) {
    try {
      const worker = newWorker();
      if (!worker) break;
      const own: PoolWorker = { worker, pending: new Map() };
      worker.on("message", (message: { id: number; result?: TrialJobResult; error?: string }) => {
        const job = own.pending.get(message.id);
        if (!job) return;
        own.pending.delete(message.id);
        if (own.pending.size === 0) worker.unref();
        if (message.error !== undefined) job.reject(new Error(message.error));
        else job.resolve({ ...message.result!, trial: markBounded(message.result!.trial) });
      });
      const fail = () => {
        // A worker that died hands its jobs back to this thread; the pool stops using workers, unless
        // it was closed on purpose (the next read starts afresh).
        if (workers?.includes(own)) broken = true;
        const left = [...own.pending.values()];
        own.pending.clear();
        for (const job of left) job.here().then(job.resolve, job.reject);
      };
      worker.on("error", fail);
      // Every worker that ends emits "exit", after "error" if it failed.
      worker.on("exit", () => {
        if (workers?.includes(own)) died++;
        fail();
      });
      // An idle worker never keeps the process alive; one with work does (see `send`). Only after the
      // "message" listener, since attaching one refs the port again (Node's worker_threads docs,
      // port.ref): a worker that never got a job would hold the process.
      worker.unref();
      started.push(own);
    } catch {
      break;
    }
  }
  return started;
}

function send(target: PoolWorker, job: TrialJob, here: ReadHere): Promise<TrialJobResult> {
  sent++;
  return new Promise((resolve, reject) => {
    const id = nextId++;
    target.pending.set(id, { job, here, resolve, reject });
    target.worker.ref();
    target.worker.postMessage({ id, job });
  });
}

/**
 * Jobs a worker may hold before this thread takes the next one itself: as many as a reader has in
 * flight, so that once workers run, this thread reads nothing and only mines and writes what they
 * send back. When this thread took a share, it was the one both waited on: a fixed share was 20-30%
 * slower (TB1 and Harbor runs of 400 trials on 2 cores), and reading only while it would otherwise
 * wait still cost Harbor's `ingest --json`, whose writing keeps this thread busy, 13%.
 */
const WORKER_QUEUE = READ_AHEAD;

/**
 * Reads one trial folder, on a worker when there is one: the least busy worker takes it, unless every
 * worker already holds WORKER_QUEUE jobs; then `here` reads it on this thread. `here` must read exactly
 * what the worker would (trial-job.ts runs the same readers there).
 */
export function readTrialJob(job: TrialJob, here: ReadHere): Promise<TrialJobResult> {
  // The setting is checked on the first read of every pool, small runs included, so a bad value
  // shows up on the run that has it, not on the first large one.
  const count = dispatched === 0 ? workerCount() : undefined;
  const turn = dispatched++;
  if (broken || turn < LOCAL_FIRST || inArchive(job.dir)) return here();
  workers ??= start(count ?? workerCount());
  const idlest = workers.reduce<PoolWorker | undefined>((best, w) => (!best || w.pending.size < best.pending.size ? w : best), undefined);
  return idlest && idlest.pending.size < WORKER_QUEUE ? send(idlest, job, here) : here();
}

/** How many workers run, how many jobs went to them and how many of them died since the pool last started. */
export function trialPoolStats(): { workers: number; sent: number; died: number } {
  return { workers: workers?.length ?? 0, sent, died };
}

/** Stops the workers; a job they still held is read on this thread. The next read starts afresh. */
export async function closeTrialPool(): Promise<void> {
  const closing = workers ?? [];
  workers = null;
  broken = false;
  dispatched = 0;
  sent = 0;
  died = 0;
  await Promise.all(closing.map((w) => w.worker.terminate()));
}

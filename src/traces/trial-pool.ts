import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { inArchive } from "./mount.js";
import type { TrialJob, TrialJobResult } from "./trial-job.js";
import { runTrialJob } from "./trial-job.js";

/**
 * Trial folders parsed on worker threads. Parsing a trial (terminal cleanup, step splitting) is most
 * of the CPU a read costs, and each trial is a pure function of its folder, so on a machine with
 * several cores the folders of a run are shared between this thread and a few workers. Results come
 * back as plain data (structured clone) and the callers still yield them in order (`inOrder`).
 *
 * Only folders on the disk go to a worker: an archive is mounted in this thread's memory (mount.ts).
 * Small runs never start a worker (starting one costs more than it saves), and the pool falls back to
 * this thread whenever a worker cannot start or dies, so no trial is ever lost to it.
 * `SELFHARNESS_READ_WORKERS` sets how many workers (0: none); the default is one per core but one.
 */

/** Jobs this thread runs before the pool starts workers: a run this small is read faster without. */
export const LOCAL_FIRST = 16;

interface Pending {
  job: TrialJob;
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

function workerCount(env: NodeJS.ProcessEnv = process.env): number {
  const set = env.SELFHARNESS_READ_WORKERS;
  if (set !== undefined && /^\d{1,2}$/.test(set.trim())) return Number(set.trim());
  return Math.min(3, Math.max(0, availableParallelism() - 1));
}

/**
 * A new worker on the entry beside this module: compiled JavaScript, or (tests, which run the
 * sources) TypeScript loaded through tsx, registered in the worker first since Node 20 does not pass
 * `--import` on to workers. Null when there is no entry: a bundle (the Action) reads on this thread.
 */
function newWorker(): Worker | null {
  const typescript = import.meta.url.endsWith(".ts");
  const url = new URL(`./trial-worker.${typescript ? "ts" : "js"}`, import.meta.url);
  if (url.protocol !== "file:" || !existsSync(fileURLToPath(url))) return null;
  if (!typescript) return new Worker(url);
  return new Worker(`import("tsx/esm/api").then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); });`, { eval: true });
}

function start(): PoolWorker[] {
  const started: PoolWorker[] = [];
  for (let i = 0; i < workerCount(); i++) {
    try {
      const worker = newWorker();
      if (!worker) break;
      const own: PoolWorker = { worker, pending: new Map() };
      // An idle worker never keeps the process alive; one with work does (see `send`).
      worker.unref();
      worker.on("message", (message: { id: number; result?: TrialJobResult; error?: string }) => {
        const job = own.pending.get(message.id);
        if (!job) return;
        own.pending.delete(message.id);
        if (own.pending.size === 0) worker.unref();
        if (message.error !== undefined) job.reject(new Error(message.error));
        else job.resolve(message.result!);
      });
      const fail = () => {
        // A worker that died hands its jobs back to this thread; the pool stops using workers, unless
        // it was closed on purpose (the next read starts afresh).
        if (workers?.includes(own)) broken = true;
        const left = [...own.pending.values()];
        own.pending.clear();
        for (const job of left) runTrialJob(job.job).then(job.resolve, job.reject);
      };
      worker.on("error", fail);
      worker.on("exit", fail);
      started.push(own);
    } catch {
      break;
    }
  }
  return started;
}

function send(target: PoolWorker, job: TrialJob): Promise<TrialJobResult> {
  sent++;
  return new Promise((resolve, reject) => {
    const id = nextId++;
    target.pending.set(id, { job, resolve, reject });
    target.worker.ref();
    target.worker.postMessage({ id, job });
  });
}

/** Jobs a worker may hold before this thread takes the next one itself. */
const WORKER_QUEUE = 2;

/**
 * Reads one trial folder, on a worker when that helps: the least busy worker takes it, unless every
 * worker already holds WORKER_QUEUE jobs; then this thread reads it. This thread also mines and
 * writes what the workers send back, so it takes only what they cannot.
 */
export function readTrialJob(job: TrialJob): Promise<TrialJobResult> {
  const turn = dispatched++;
  if (broken || turn < LOCAL_FIRST || inArchive(job.dir)) return runTrialJob(job);
  workers ??= start();
  const idlest = workers.reduce<PoolWorker | undefined>((best, w) => (!best || w.pending.size < best.pending.size ? w : best), undefined);
  return idlest && idlest.pending.size < WORKER_QUEUE ? send(idlest, job) : runTrialJob(job);
}

/** How many workers run and how many jobs went to them since the pool last started. */
export function trialPoolStats(): { workers: number; sent: number } {
  return { workers: workers?.length ?? 0, sent };
}

/** Stops the workers; a job they still held is read on this thread. The next read starts afresh. */
export async function closeTrialPool(): Promise<void> {
  const closing = workers ?? [];
  workers = null;
  broken = false;
  dispatched = 0;
  sent = 0;
  await Promise.all(closing.map((w) => w.worker.terminate()));
}

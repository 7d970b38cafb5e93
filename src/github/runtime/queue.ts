import { AsyncLocalStorage } from "node:async_hooks";
import type { Log } from "../types.js";
import { bindToJob, jobDeadlineMs, withDeadline, type GitHubClient } from "./deadline.js";

/**
 * Webhook deliveries are answered at once and the work continues here: GitHub gives a delivery ten
 * seconds, mining and proposing take minutes.
 *
 * Jobs of one repository run one at a time, in order: two jobs of the same repository would otherwise
 * race to open pull requests for the same weakness. Repositories take turns, and only a few jobs run
 * at once (they download artifacts and call the model), each under a deadline (deadline.ts) so that
 * no stalled job holds its repository's turn. The bound on waiting jobs only guards memory
 * against a flood (a job is a small closure); a job that does not fit is logged as an error with its
 * run id, never dropped silently. Tests may lower the limits.
 *
 * This is the default work queue, for an app without REDIS_URL. With REDIS_URL the deliveries
 * themselves are queued on Redis (redis/), and a worker hands each to the handlers inside
 * `collectWork`, under its repository's lock: the handlers' `enqueue` then runs the work at once and
 * reports its outcome to the Redis job. The Action does the same for its one event.
 */
export const queueLimits: { concurrency: number; maxWaiting: number; deadlineMs?: number } = { concurrency: 2, maxWaiting: 10_000 };

/** A job under its deadline (see deadline.ts): by default SELFHARNESS_JOB_DEADLINE_SECONDS. */
async function runJob(job: Job): Promise<void> {
  try {
    await withDeadline(job.name, queueLimits.deadlineMs ?? jobDeadlineMs(process.env), async () => {
      if (job.client) bindToJob(job.client);
      await job.run();
    });
  } catch (error) {
    job.release?.();
    throw error;
  }
}

export interface Job {
  /** For logs: what the job does and for what. */
  name: string;
  /** Jobs with the same key (the repository's full name) never run at the same time. */
  key: string;
  /** The workflow run the job handles, when there is one: named in the log if the job is dropped. */
  runId?: number;
  run: () => Promise<void>;
  log: Log;
  /** The event's GitHub client: bound to the job, it makes no request past the job's deadline. */
  client?: GitHubClient;
  /**
   * Gives the delivery's claim back when the job fails or is refused, so a redelivery (or the Redis
   * queue's retry of it, in the same process) does the work instead of finding it claimed.
   */
  release?: () => void;
}

/** Waiting jobs per key, in arrival order; a key stays here while one of its jobs runs. */
const byKey = new Map<string, Job[]>();
/** Keys with a waiting job and none running, in the order they take turns. */
const ready: string[] = [];
const active = new Set<string>();
let waiting = 0;
let idle: { promise: Promise<void>; resolve: () => void } | null = null;

/**
 * Where handlers put their work. By default the in-process queue below; inside `collectWork` (a worker
 * of the Redis queue holding the repository's lock, or the Action handling its one event) the work
 * runs at once and its outcome belongs to the delivery being processed.
 */
export interface WorkQueue {
  /** Takes a job; false when it was refused (and logged). */
  enqueue(job: Job): boolean;
}

/** What the work a delivery enqueued came to. */
export interface WorkOutcome {
  /** Jobs the handlers enqueued for the delivery. */
  jobs: number;
  /** The jobs that threw, with their errors (already logged as "background job failed"). */
  failures: { job: string; runId?: number; error: Error }[];
  /** Claims the work gave back (`releaseClaim`): it did not act, so a later delivery of the same event may. */
  released: string[];
}

interface DeliveryScope extends WorkQueue {
  pending: Promise<void>[];
  outcome: WorkOutcome;
}

const scope = new AsyncLocalStorage<DeliveryScope>();

/**
 * Runs `receive` (the handlers of one delivery) and waits for all the work they enqueue, including work
 * that work enqueues. Nothing goes through the shared in-process queue: the caller already decided
 * this delivery may run now.
 */
export async function collectWork(receive: () => Promise<void>): Promise<WorkOutcome> {
  const outcome: WorkOutcome = { jobs: 0, failures: [], released: [] };
  const current: DeliveryScope = {
    pending: [],
    outcome,
    enqueue(job) {
      outcome.jobs++;
      current.pending.push(
        runJob(job).catch((error: unknown) => {
          const err = error instanceof Error ? error : new Error(String(error));
          job.log.error({ job: job.name, runId: job.runId, err: err.message }, "background job failed");
          outcome.failures.push({ job: job.name, ...(job.runId !== undefined ? { runId: job.runId } : {}), error: err });
        }),
      );
      return true;
    },
  };
  await scope.run(current, receive);
  while (current.pending.length > 0) await Promise.all(current.pending.splice(0));
  return outcome;
}

/** Records a claim given back inside `collectWork`, so the caller knows the delivery may be tried again. */
export function noteReleased(key: string): void {
  scope.getStore()?.outcome.released.push(key);
}

/** Queues a job on the current work queue; false when it was dropped (logged as an error). */
export function enqueue(job: Job): boolean {
  const current = scope.getStore();
  return current ? current.enqueue(job) : enqueueInProcess(job);
}

/** The in-process queue: per repository in order, a few at a time. */
function enqueueInProcess(job: Job): boolean {
  if (waiting >= queueLimits.maxWaiting) {
    job.log.error({ job: job.name, runId: job.runId, waiting }, "work queue full; job dropped");
    job.release?.();
    return false;
  }
  const jobs = byKey.get(job.key);
  if (jobs) {
    jobs.push(job);
    if (jobs.length === 1 && !active.has(job.key)) ready.push(job.key);
  } else {
    byKey.set(job.key, [job]);
    ready.push(job.key);
  }
  waiting++;
  pump();
  return true;
}

/** Resolves when no job is running or waiting. */
export function whenIdle(): Promise<void> {
  if (active.size === 0 && waiting === 0) return Promise.resolve();
  if (!idle) {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    idle = { promise, resolve };
  }
  return idle.promise;
}

/** Jobs running and waiting, and how many repositories have work queued or running. */
export function queueSize(): { running: number; waiting: number; keys: number } {
  return { running: active.size, waiting, keys: byKey.size };
}

function pump(): void {
  while (active.size < queueLimits.concurrency && ready.length > 0) {
    const key = ready.shift()!;
    const job = byKey.get(key)!.shift()!;
    waiting--;
    active.add(key);
    void runJob(job)
      .catch((error: unknown) => job.log.error({ job: job.name, runId: job.runId, err: error instanceof Error ? error.message : String(error) }, "background job failed"))
      .finally(() => finish(key));
  }
}

function finish(key: string): void {
  active.delete(key);
  if (byKey.get(key)!.length > 0) ready.push(key);
  else byKey.delete(key);
  pump();
  if (active.size === 0 && waiting === 0 && idle) {
    idle.resolve();
    idle = null;
  }
}

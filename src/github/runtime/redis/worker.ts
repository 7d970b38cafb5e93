/**
 * The worker side of the Redis queue: takes delivery jobs, one per repository at a time across every
 * worker process (see repo-lock.ts), and hands each to the app's handlers.
 *
 * - Retries: a job whose work failed is retried with exponential backoff, a few times (producer.ts).
 * - Crashes: a job whose worker died stops renewing its lock; BullMQ's stalled-job check moves it back
 *   to waiting and another worker takes it. The repository lock expires the same way. Redis away for
 *   longer than the lease is the same to BullMQ (at least once, not exactly once): the job runs again.
 * - Malformed jobs fail at once with the reason, never retried.
 * - Draining (SIGTERM): no new job is taken; running ones finish, or are handed back to the queue
 *   when the deadline passes, and the process must then exit.
 */
import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import type { Probot } from "probot";
import type { Log } from "../../types.js";
import { deliver, describeFailures } from "../deliver.js";
import { within } from "../shutdown.js";
import { lockedRepositoryOf, parseDeliveryJob, type DeliveryJob } from "./jobs.js";
import { defaultQueueSettings, QUEUE_NAME, type QueueSettings } from "./producer.js";
import { repoLocks } from "./repo-lock.js";

export interface WorkerSettings {
  /** Jobs this process works on at once (of different repositories). */
  concurrency: number;
  /**
   * How long a job's lock and its repository's lock last without renewal: after a crash, the time
   * before another worker may take the job over. Renewed at a third of it while the work runs.
   */
  lockMs: number;
  /** How often BullMQ looks for jobs whose worker died. */
  stalledCheckMs: number;
}

export const defaultWorkerSettings: WorkerSettings = { concurrency: 2, lockMs: 30_000, stalledCheckMs: 30_000 };

export interface DeliveryWorkerOptions {
  /** A Probot with the app's handlers loaded: it authenticates each job from its installation id. */
  probot: Probot;
  connection: Redis;
  log: Log;
  queue?: Partial<QueueSettings>;
  worker?: Partial<WorkerSettings>;
}

export interface JobResult {
  jobs: number;
  /** Claims the work gave back: the delivery was not acted on, and the job is removed so a redelivery may be. */
  released: string[];
}

export interface DeliveryWorker {
  /**
   * Stops taking jobs and waits up to `deadlineMs` for the running ones. Past the deadline they are
   * handed back to the queue (another worker starts them again) and the caller must exit the process.
   */
  drain(deadlineMs: number): Promise<"finished" | "handed-back">;
  /** Jobs running in this process now. */
  running(): number;
}

interface Running {
  job: Job<DeliveryJob>;
  token: string;
  repo: string | null;
  owner: string;
}

export function startDeliveryWorker(options: DeliveryWorkerOptions): DeliveryWorker {
  const queueSettings = { ...defaultQueueSettings, ...options.queue };
  const settings = { ...defaultWorkerSettings, ...options.worker };
  const { probot, connection, log } = options;
  const locks = repoLocks(connection, { prefix: queueSettings.prefix, ttlMs: settings.lockMs });
  const queue = new Queue<DeliveryJob>(QUEUE_NAME, { connection, prefix: queueSettings.prefix });
  queue.on("error", () => undefined);
  const running = new Map<string, Running>();

  /** Wakes the next parked job of the repository; one that is not delayed (yet) gets a few tries, then its own delay wakes it. */
  async function wake(repo: string, next: string | null): Promise<void> {
    for (let id = next; id !== null; id = await locks.popParked(repo)) {
      const job = await queue.getJob(id);
      if (!job) continue;
      for (const pause of [0, 20, 50, 100, 200, 400]) {
        if (pause) await sleep(pause);
        const state = await job.getState();
        if (state === "delayed") {
          await job.promote().catch(() => undefined);
          return;
        }
        // Waiting or about to run: it takes the lock itself. Still active: it is parking right now.
        if (state !== "active") return;
      }
      return;
    }
  }

  /**
   * This process's runs of each job. A job whose lease ran out while it ran (Redis away longer than
   * the lease) may come back to this same process: the handlers' in-process claim would answer it
   * "already handled" at once, and BullMQ would record it done even if the first run then failed,
   * which it could no longer report (its lease is gone). The second run waits for the first and
   * takes its outcome instead, so a failure is retried like any other.
   */
  const runs = new Map<string, Promise<JobResult>>();

  async function processJob(job: Job<DeliveryJob>, token?: string): Promise<JobResult> {
    const parsed = parseDeliveryJob(job.data);
    if (!parsed.ok) throw new UnrecoverableError(`malformed job ${job.id}: ${parsed.reason}`);
    if (!token || !job.id) throw new UnrecoverableError(`job ${job.id} taken without a lock token`);
    const earlier = runs.get(job.id);
    if (earlier) {
      log.warn({ jobId: job.id }, "job handed back while this process still runs it; its outcome is this run's");
      const result = await earlier;
      log.debug({ jobId: job.id, joined: true }, "job done");
      return result;
    }
    const repo = lockedRepositoryOf(parsed.job);
    const owner = `${job.id}@${token}`;
    if (repo) {
      const lock = await locks.acquire(repo, owner, job.id, job.timestamp);
      if (!lock.acquired) {
        log.debug({ jobId: job.id, repo, waitMs: lock.waitMs }, "repository busy; job parked");
        await job.moveToDelayed(Date.now() + lock.waitMs, token);
        throw new DelayedError();
      }
    }
    const run = work(job, parsed.job, token, { id: job.id, repo, owner });
    runs.set(job.id, run);
    try {
      return await run;
    } finally {
      runs.delete(job.id);
    }
  }

  /** The job's work, its repository's lock (if it needs one) held. */
  async function work(job: Job<DeliveryJob>, data: DeliveryJob, token: string, { id, repo, owner }: { id: string; repo: string | null; owner: string }): Promise<JobResult> {
    running.set(id, { job, token, repo, owner });
    const renewal = repo ? locks.keepAlive(repo, owner, log) : null;
    const startedAt = Date.now();
    try {
      const outcome = await deliver(probot, { id: data.delivery, name: data.event, payload: data.payload });
      if (outcome.failures.length > 0) throw new Error(`work failed (attempt ${job.attemptsMade + 1} of ${job.opts.attempts ?? 1}): ${describeFailures(outcome)}`);
      log.debug({ jobId: job.id, repo, startedAt, endedAt: Date.now() }, "job done");
      return { jobs: outcome.jobs, released: outcome.released };
    } finally {
      renewal?.stop();
      running.delete(id);
      if (repo) {
        await locks
          .release(repo, owner)
          .then((next) => wake(repo, next))
          .catch((error: unknown) => log.warn({ repo, err: String(error) }, "repository lock not released; it expires by itself"));
      }
    }
  }

  const worker = new Worker<DeliveryJob, JobResult>(QUEUE_NAME, processJob, {
    connection,
    prefix: queueSettings.prefix,
    concurrency: settings.concurrency,
    lockDuration: settings.lockMs,
    stalledInterval: settings.stalledCheckMs,
    // A job whose worker died twice is failed instead of handed on forever.
    maxStalledCount: 2,
    autorun: true,
  });
  worker.on("error", () => undefined); // the connection logs its own outages
  worker.on("completed", (job, result) => {
    // Not acted on (no configuration yet, say): forget the job, so a redelivery may act.
    if (result?.released?.length) void job.remove().catch(() => undefined);
  });
  worker.on("failed", (job, error) => {
    if (!job) return;
    const final = error instanceof UnrecoverableError || error.name === "UnrecoverableError" || job.attemptsMade >= (job.opts.attempts ?? 1);
    log.error({ jobId: job.id, attempt: job.attemptsMade, err: error.message }, final ? "job failed; not retried" : "job failed; retried with backoff");
  });
  worker.on("stalled", (jobId) => log.warn({ jobId }, "job stalled (its worker stopped); handed to another worker"));
  // Redis away for longer than the lease looks like a crash: the job may run again on another worker.
  worker.on("lockRenewalFailed", (jobIds) => log.warn({ jobIds }, "job lease lost (Redis was away longer than the lease); another worker may run the job again, from the state on GitHub"));

  async function drain(deadlineMs: number): Promise<"finished" | "handed-back"> {
    if ((await within(worker.close(), deadlineMs)) === "done") {
      await queue.close();
      return "finished";
    }
    for (const { job, token, repo, owner } of running.values()) {
      log.warn({ jobId: job.id }, "drain deadline passed; job handed back to the queue");
      await job.moveToWait(token).catch((error: unknown) => log.warn({ jobId: job.id, err: String(error) }, "job not handed back; the stalled check recovers it"));
      if (repo) await locks.release(repo, owner).then((next) => wake(repo, next)).catch(() => undefined);
    }
    return "handed-back";
  }

  return { drain, running: () => running.size };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

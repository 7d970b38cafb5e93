/**
 * Running on Redis: the app's webhook endpoint turns deliveries into jobs, and worker processes (the
 * app itself, and any number of `selfharness worker`) take them. Settings come from the environment:
 *
 *   REDIS_URL                  redis://[user:password@]host:port[/db] (rediss:// for TLS)
 *   SELFHARNESS_WORKERS        jobs a process works on at once (default 2); 0 in the app = webhooks only
 *   SELFHARNESS_DRAIN_SECONDS  on SIGTERM, how long running jobs may take before they are handed back (default 20)
 *   SELFHARNESS_QUEUE_PREFIX   BullMQ's key prefix (default "bull"), to share one Redis between deployments
 */
import { createProbot, type Probot } from "probot";
import type { Redis } from "ioredis";
import { handledEvents } from "./app.js";
import { drainOnSigterm } from "./runtime/shutdown.js";
import { integerSetting } from "./runtime/settings.js";
import { checkRedisUrl, openRedis, probeRedis } from "./runtime/redis/connection.js";
import { deliveryProducer, type QueueSettings } from "./runtime/redis/producer.js";
import { startDeliveryWorker, type DeliveryWorker, type WorkerSettings } from "./runtime/redis/worker.js";

export interface RedisSettings {
  url: string;
  workers: number;
  drainMs: number;
  prefix: string;
}

/** Reads the settings; a bad value is an error naming its variable. */
export function redisSettings(env: NodeJS.ProcessEnv): RedisSettings {
  const url = checkRedisUrl(env.REDIS_URL);
  return {
    url,
    workers: integerSetting(env, "SELFHARNESS_WORKERS", 2, 0, 64),
    drainMs: drainMs(env),
    prefix: env.SELFHARNESS_QUEUE_PREFIX?.trim() || "bull",
  };
}

/** SELFHARNESS_DRAIN_SECONDS, in milliseconds: how long SIGTERM lets running work finish. */
export function drainMs(env: NodeJS.ProcessEnv): number {
  return integerSetting(env, "SELFHARNESS_DRAIN_SECONDS", 20, 0, 3600) * 1000;
}

export interface ScaleOutOptions {
  env?: NodeJS.ProcessEnv;
  /** The Probot the workers authenticate with; by default one from APP_ID / PRIVATE_KEY, as `probot run` builds. */
  workerProbot?: Probot;
  queue?: Partial<QueueSettings>;
  worker?: Partial<WorkerSettings>;
  /** Drain on SIGTERM, then exit (default true; tests drain by hand). */
  handleSignals?: boolean;
}

export interface ScaleOut {
  worker: DeliveryWorker | null;
  connection: Redis;
  /** Drains this process's worker (if any) and closes the connections. */
  close(deadlineMs?: number): Promise<"finished" | "handed-back">;
}

/** The app with REDIS_URL set: deliveries become jobs, and this process works on them unless SELFHARNESS_WORKERS=0. */
export async function serveWithRedis(app: Probot, register: (app: Probot) => void, options: ScaleOutOptions = {}): Promise<ScaleOut> {
  const env = options.env ?? process.env;
  const settings = redisSettings(env);
  await probeRedis(settings.url, { log: app.log });
  const connection = openRedis(settings.url, app.log);
  const producer = deliveryProducer({ connection, settings: { ...options.queue, prefix: options.queue?.prefix ?? settings.prefix }, handles: handledEvents(register) });
  app.onAny(async (context) => {
    await producer.push({ id: context.id, name: context.name, payload: context.payload }, app.log);
  });
  const worker = settings.workers > 0 ? await startWorkers(register, connection, settings, options) : null;
  app.log.info({ workers: settings.workers }, worker ? "deliveries go to the Redis queue; this process works on them too" : "deliveries go to the Redis queue; workers elsewhere take them");
  const close = async (deadlineMs = settings.drainMs) => {
    const outcome = worker ? await worker.drain(deadlineMs) : "finished";
    await producer.close();
    await connection.quit().catch(() => undefined);
    return outcome;
  };
  if (options.handleSignals !== false) drainOnSigterm(close, app.log);
  return { worker, connection, close };
}

/** A Probot for a worker, from the app's environment; it logs at `info` unless LOG_LEVEL says otherwise, as `probot run` does. */
export function workerProbot(env: NodeJS.ProcessEnv): Probot {
  return createProbot({ env: { LOG_LEVEL: "info", ...env } });
}

/** Starts a worker on `connection` with a Probot of its own (handlers loaded). */
export async function startWorkers(register: (app: Probot) => void, connection: Redis, settings: RedisSettings, options: ScaleOutOptions = {}): Promise<DeliveryWorker> {
  const probot = options.workerProbot ?? workerProbot(options.env ?? process.env);
  // Probot 14's load calls `appFn(probot, options)` (lib/probot.js): passed as is, `registerHandlers`
  // took those options for the app's login, and every dashboard read in a worker failed.
  await probot.load((app: Probot) => register(app));
  return startDeliveryWorker({
    probot,
    connection,
    log: probot.log,
    queue: { ...options.queue, prefix: options.queue?.prefix ?? settings.prefix },
    worker: { concurrency: settings.workers, ...options.worker },
  });
}

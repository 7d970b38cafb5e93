/**
 * `selfharness worker`: a process that takes delivery jobs from the Redis queue and runs the app's
 * handlers on them. Start as many as the work needs, beside the app (which takes jobs too unless
 * SELFHARNESS_WORKERS=0). Configured by the app's own environment (APP_ID, PRIVATE_KEY or
 * PRIVATE_KEY_PATH, GHE_HOST, OPENAI_*) plus REDIS_URL; see scale-out.ts for the queue's settings.
 * With PORT set it answers `GET /ping`, as the app does, for container health checks.
 */
import { createServer, type Server } from "node:http";
import type { Probot } from "probot";
import { registerHandlers } from "./app.js";
import { jobDeadlineMs } from "./runtime/deadline.js";
import { queueLimits } from "./runtime/queue.js";
import { openRedis, probeRedis } from "./runtime/redis/connection.js";
import { drainOnSigterm } from "./runtime/shutdown.js";
import { redisSettings, startWorkers, workerProbot, type ScaleOutOptions } from "./scale-out.js";

export const WORKER_USAGE = `Usage: selfharness worker

Takes webhook deliveries from the Redis queue (REDIS_URL) and works on them: mining, proposing,
validating, judging. Needs the app's environment: APP_ID, PRIVATE_KEY (or PRIVATE_KEY_PATH),
REDIS_URL, and OPENAI_BASE_URL / OPENAI_API_KEY for a model. Optional: SELFHARNESS_WORKERS (jobs at
once, default 2), SELFHARNESS_JOB_DEADLINE_SECONDS (default 3600), SELFHARNESS_DRAIN_SECONDS (default 20),
SELFHARNESS_QUEUE_PREFIX, GHE_HOST, PORT
(answers GET /ping there), LOG_LEVEL.
`;

export interface RunningWorker {
  close(deadlineMs?: number): Promise<"finished" | "handed-back">;
}

/** Starts a worker; every configuration problem is an error naming the variable. */
export async function runWorker(options: ScaleOutOptions = {}): Promise<RunningWorker> {
  const env = options.env ?? process.env;
  const settings = redisSettings(env);
  queueLimits.deadlineMs = jobDeadlineMs(env);
  if (settings.workers === 0) throw new Error("SELFHARNESS_WORKERS is 0: a worker with no job slots would take nothing");
  if (!options.workerProbot) {
    if (!env.APP_ID) throw new Error("APP_ID is not set: the worker authenticates as the GitHub App");
    if (!env.PRIVATE_KEY && !env.PRIVATE_KEY_PATH) throw new Error("PRIVATE_KEY (or PRIVATE_KEY_PATH) is not set: the worker authenticates as the GitHub App");
  }
  let probot: Probot;
  try {
    probot = options.workerProbot ?? workerProbot(env);
  } catch (error) {
    throw new Error(`PRIVATE_KEY (or PRIVATE_KEY_PATH) does not hold the app's private key (PEM): ${error instanceof Error ? error.message : String(error)}`);
  }
  await probeRedis(settings.url, { log: probot.log });
  const connection = openRedis(settings.url, probot.log);
  const worker = await startWorkers(registerHandlers, connection, settings, { ...options, workerProbot: probot });
  const ping = env.PORT ? await servePing(Number(env.PORT), env.HOST || "localhost") : null;
  probot.log.info({ concurrency: settings.workers }, "worker started; taking jobs from the Redis queue");
  const close = async (deadlineMs = settings.drainMs) => {
    const outcome = await worker.drain(deadlineMs);
    await connection.quit().catch(() => undefined);
    if (ping) await new Promise((resolve) => ping.close(resolve));
    return outcome;
  };
  if (options.handleSignals !== false) {
    drainOnSigterm(close, probot.log);
    // Interrupting a worker started by hand drains it the same way (the app leaves SIGINT to `probot run`).
    process.once("SIGINT", () => void close().then(() => process.exit(0), () => process.exit(1)));
  }
  return { close };
}

function servePing(port: number, host: string): Promise<Server> {
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`PORT must be a TCP port number (got "${port}")`);
  const server = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/ping") res.writeHead(200, { "content-type": "text/plain" }).end("PONG");
    else res.writeHead(404).end();
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}

/** The command line entry: `selfharness worker [--help]`. Resolves to an exit code when it cannot start. */
export async function main(argv: string[] = process.argv, env: NodeJS.ProcessEnv = process.env): Promise<number | null> {
  const args = argv.slice(3);
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(WORKER_USAGE);
    return 0;
  }
  if (args.length > 0) {
    process.stderr.write(`selfharness worker: unexpected argument ${args[0]}\n\n${WORKER_USAGE}`);
    return 2;
  }
  try {
    await runWorker({ env });
    return null;
  } catch (error) {
    process.stderr.write(`selfharness worker: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

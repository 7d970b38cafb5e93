import type { ApplicationFunctionOptions, Probot } from "probot";
import { registerHandlers } from "./app.js";
import { rootWebhooks } from "./root-webhooks.js";
import { jobDeadlineMs } from "./runtime/deadline.js";
import { queueLimits, whenIdle } from "./runtime/queue.js";
import { drainOnSigterm, within } from "./runtime/shutdown.js";
import { drainMs, serveWithRedis } from "./scale-out.js";

export { registerHandlers } from "./app.js";

/**
 * The Probot app. Without REDIS_URL the handlers run here and their work goes to the in-process
 * queue. With REDIS_URL every delivery becomes a job on Redis, and this process is one of the workers
 * taking them (unless SELFHARNESS_WORKERS=0); `selfharness worker` starts more.
 */
export default async function selfharness(app: Probot, options?: Partial<ApplicationFunctionOptions>): Promise<void> {
  // Read once, at start: a bad value stops the app here rather than failing every job.
  queueLimits.deadlineMs = jobDeadlineMs(process.env);
  try {
    options?.addHandler?.(rootWebhooks(app));
  } catch {
    // Probot without an HTTP server (`probot.receive`, serverless hosts) has nowhere to add a route.
  }
  if (!process.env.REDIS_URL) {
    registerHandlers(app);
    // Work in this queue is lost on exit (the reason for REDIS_URL); SIGTERM at least lets it finish.
    const deadline = drainMs(process.env);
    drainOnSigterm(async () => ((await within(whenIdle(), deadline)) === "done" ? "finished" : "work cut short"), app.log);
    return;
  }
  await serveWithRedis(app, registerHandlers);
}

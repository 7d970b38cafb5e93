import { parentPort } from "node:worker_threads";
import { readWithBlockingCalls } from "./files.js";
import { runTrialJob, type TrialJob } from "./trial-job.js";

readWithBlockingCalls();

/** A worker thread of the trial pool (trial-pool.ts): reads the trial folders it is sent, one at a time. */
parentPort?.on("message", ({ id, job }: { id: number; job: TrialJob }) => {
  runTrialJob(job).then(
    (result) => parentPort!.postMessage({ id, result }),
    (error: unknown) => parentPort!.postMessage({ id, error: error instanceof Error ? error.message : String(error) }),
  );
});

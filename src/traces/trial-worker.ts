import { parentPort } from "node:worker_threads";
import { boundTrial } from "./bound.js";
import { readWithBlockingCalls } from "./files.js";
import { runTrialJob, type TrialJob } from "./trial-job.js";

readWithBlockingCalls();

/** A worker thread of the trial pool (trial-pool.ts): reads the trial folders it is sent, one at a time. */
parentPort?.on("message", ({ id, job }: { id: number; job: TrialJob }) => {
  runTrialJob(job).then(
    // Bounded here, off the main thread; it takes the trial as it comes (trial-pool.ts). Not copied:
    // the message is a copy.
    (result) => parentPort!.postMessage({ id, result: { ...result, trial: boundTrial(result.trial, { copy: false }) } }),
    (error: unknown) => parentPort!.postMessage({ id, error: error instanceof Error ? error.message : String(error) }),
  );
});

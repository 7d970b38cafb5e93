import { readHarborTrial, type HarborTrialInput } from "./harbor.js";
import { readTb1Trial, type Tb1RunInfo } from "./tb1.js";
import type { IngestError, Trial } from "./types.js";

/** One trial folder to read, as plain data: what a worker thread is sent (trial-pool.ts). */
export type TrialJob = { reader: "tb1"; dir: string; info: Tb1RunInfo } | { reader: "harbor"; dir: string; input: HarborTrialInput };

export interface TrialJobResult {
  trial: Trial;
  errors: IngestError[];
  /** Terminal-Bench 1: the folder's own results.json was unusable (the run's entry may rebuild it). */
  brokenRecord?: boolean;
}

export function runTrialJob(job: TrialJob): Promise<TrialJobResult> {
  return job.reader === "tb1" ? readTb1Trial(job.dir, job.info) : readHarborTrial(job.input);
}

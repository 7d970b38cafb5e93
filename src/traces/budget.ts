import { DEFAULT_READ_LIMITS, type ReadLimits } from "./limits.js";
import { DEFAULT_ZIP_LIMITS, type ZipLimits, type ZipSpent } from "./zip.js";

/**
 * One input's allowance of archive entries, extracted bytes, trials and time, shared by every archive
 * nested in it: a budget that started afresh in each nested archive would let a few KB write
 * gigabytes. Created once per input; the readers and the extraction draw on it.
 */
export class InputBudget {
  readonly limits: ReadLimits;
  readonly zipLimits: ZipLimits;
  readonly spent: ZipSpent;
  private trials = 0;

  constructor(limits: Partial<ReadLimits> = {}, zipLimits: Partial<ZipLimits> = {}, now = Date.now()) {
    this.limits = { ...DEFAULT_READ_LIMITS, ...limits };
    this.zipLimits = { ...DEFAULT_ZIP_LIMITS, ...zipLimits };
    this.spent = { entries: 0, bytes: 0, deadline: now + this.limits.maxSeconds * 1000 };
  }

  /** True once the input's time is up or its archives' bytes are spent: every loop of the walk stops at its next file. */
  get stopped(): boolean {
    return this.spent.exhausted !== undefined || Date.now() > this.spent.deadline!;
  }

  /** Counts one trial; false when it is one more than the input may yield. */
  takeTrial(): boolean {
    this.trials++;
    return this.trials <= this.limits.maxTrials;
  }

  /** Why reading stopped early, for the error that names the input. */
  stopMessage(read: number): string {
    const kept = `${read} trial${read === 1 ? "" : "s"} read, the rest not`;
    if (this.spent.exhausted) return `${this.spent.exhausted}: ${kept}`;
    return `reading stopped after ${this.limits.maxSeconds} s, the time allowed per artifact: ${kept}`;
  }

  trialMessage(): string {
    return `more than ${this.limits.maxTrials} trials in one artifact: the first ${this.limits.maxTrials} were read, the rest not`;
  }
}

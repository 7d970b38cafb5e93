import type { Trial } from "../traces/types.js";

/**
 * accept: the improvement is shown and nothing shows harm. reject: the data show harm, or rule out the
 * minimum effect worth merging. needs-more-evidence: neither yet; `next` says what to run, or is null
 * when the budget is spent and a person decides. inconclusive: the input cannot be judged (no comparable
 * tasks, or invalid trials beyond what the budget can replace).
 */
export type Decision = "accept" | "reject" | "needs-more-evidence" | "inconclusive";
export type SplitName = "heldIn" | "heldOut";
export type Side = "baseline" | "candidate";

/**
 * The trials of one round of a stage: its dispatch on both sides, from any number of runs per side.
 * A stage run again (`/selfharness retry regression`) has a round per run, and each round is a look of
 * its own, so repeats never get the alpha of a look that was already taken.
 */
export interface StageTrials {
  baseline: readonly Trial[];
  candidate: readonly Trial[];
  /** The 1-based stage this round belongs to; rounds of one stage share it. Default: its position. */
  stage?: number;
}

/** What to run next: the same tasks, the same number of trials, on both sides. */
export interface StagePlan {
  /** 1-based number of the stage this plan starts. */
  stage: number;
  tasks: string[];
  /** Trials per task on each side. */
  trials: number;
  /** Task-trials the stage costs, both sides counted. */
  cost: number;
}

/** One set of paired tasks (a split, the targeted tasks, or all of them) compared between baseline and candidate. */
export interface SplitResult {
  /** Tasks with at least one valid trial on both sides. */
  tasks: number;
  /** Mean per-task pass fraction. */
  baseline: number;
  candidate: number;
  delta: number;
  /** Two-sided (1 - 2 alpha) interval of Δ (Agresti-Min adjusted, so it never collapses to a point). */
  interval: [number, number];
  /** One-sided p-values of the stratified exact test, for a gain and for a loss; null when the split is empty. */
  pValue: number | null;
  lossPValue: number | null;
  /** Tasks whose pass fraction went up, went down. */
  gained: number;
  lost: number;
}

/** A task whose pass fraction differs between the two sides. */
export interface TaskFlip {
  task: string;
  split: SplitName;
  baseline: { passes: number; valid: number };
  candidate: { passes: number; valid: number };
  /** Candidate pass fraction minus baseline pass fraction. */
  delta: number;
  targeted: boolean;
  /** One-sided exact p-value (Fisher) that the candidate does worse on this task. */
  lossPValue: number;
  /** The loss is significant with every task's chance of a false alarm accounted for. */
  hardRegression: boolean;
}

export interface InvalidTrial {
  trial: string;
  task: string;
  side: Side;
  kind: string;
}

/** One rule of the decision, with its outcome in words. */
export interface RuleCheck {
  rule: string;
  passed: boolean;
  reason: string;
}

/** One look of the group-sequential improvement test. */
export interface LookResult {
  /** 1-based. */
  look: number;
  /** Share of the budget spent at this look (1 at the final look). */
  fraction: number;
  /** Alpha the spending function allows up to and including this look. */
  alphaSpent: number;
  /**
   * Of it, what the boundaries so far used: a discrete test can rarely use all it may. What is left
   * stays for a later look, such as a stage run again after the last one.
   */
  alphaUsed: number;
  /**
   * Candidate passes over all compared trials so far (each times its task's weight, when the test
   * weighs tasks), and their expectation under no difference.
   */
  observed: number;
  expected: number;
  /** Fewest candidate passes that accept at this look; null when no count could. */
  boundary: number | null;
  crossed: boolean;
  /** P(at least `observed`) under no difference, ignoring earlier looks; and the same for `boundary`. */
  nominalP: number;
  nominalThreshold: number | null;
}

export interface Verdict {
  decision: Decision;
  rule: "paper" | "statistical";
  /** adaptive: staged, alpha spent across looks. fixed: one look with all the trials there will be. */
  design: "adaptive" | "fixed";
  /** Human-readable, one per rule. */
  reasons: string[];
  /** The same rules as data. */
  checks: RuleCheck[];
  /** All compared tasks together: what the improvement test judges. */
  overall: SplitResult;
  splits: Record<SplitName, SplitResult>;
  /** The targeted tasks compared on their own; null when the proposal named none. */
  targeted: SplitResult | null;
  flips: TaskFlip[];
  /** Trials left out of every pass fraction. */
  invalid: InvalidTrial[];
  /** Tasks without a valid trial on one side or both, so they could not be compared. */
  unpaired: { task: string; missing: Side[] }[];
  /** Looks the improvement test has taken, oldest first (none under the paper rule, or before a testable stage). */
  looks: LookResult[];
  /** Whether the improvement test weighs tasks unequally (`taskWeights`): the looks' counts are then weighted. */
  weighted: boolean;
  /** Task-trials, both sides counted: the most this validation may spend, and what it has spent. */
  budget: { total: number; spent: number };
  /** The stage to run next; null unless the decision is needs-more-evidence and the budget allows another stage. */
  next: StagePlan | null;
  alpha: number;
  margin: number;
  minEffect: number;
  seed: number;
}

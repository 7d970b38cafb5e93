import type { Trial } from "../traces/types.js";
import { judge, type JudgeConfig } from "./judge.js";
import type { Verdict } from "./types.js";
import type { TaskWeights } from "./weights.js";

export interface DecideInput {
  baseline: readonly Trial[];
  candidate: readonly Trial[];
  /** Held-out task names; tasks not listed are held-in. */
  heldOut: readonly string[];
  /** The tasks the proposal aimed to fix. */
  targeted: readonly string[];
  config: Omit<JudgeConfig, "sequential">;
  /** The tasks the regression was meant to cover (default: those either side ran); targeted tasks always count. */
  tasks?: readonly string[];
  /** How much each task counts in the improvement test (`taskWeights` of earlier runs); default: every task 1. */
  weights?: TaskWeights;
}

/**
 * The verdict of a fixed design: the trials given are all there will be, so the one look spends all of
 * alpha and no next stage is ever asked for ("needs more evidence" then means a person decides). A staged
 * validation calls `judge` with its stages instead.
 */
export function decide(input: DecideInput): Verdict {
  const { baseline, candidate, config, ...rest } = input;
  return judge({ ...rest, stages: [{ baseline, candidate }], config: { ...config, sequential: { enabled: false, stages: [1], budget: 2 } } });
}

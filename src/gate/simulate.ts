import { judgeCounts, type JudgeConfig } from "./judge.js";
import type { TaskCounts } from "./outcomes.js";
import type { Random } from "./random.js";
import type { PairCounts } from "./counts.js";
import { firstStage } from "./sequential.js";
import type { Decision, StagePlan } from "./types.js";
import type { TaskWeights } from "./weights.js";

/**
 * Validations simulated from known per-task pass probabilities and decided by the real gate (`judgeCounts`,
 * the counting half of `judge`): the power plan and the bench both measure the gate this way, so what they
 * report is what the gate does, stage plans and vetoes included.
 */

export interface SimulatedTask {
  task: string;
  /** Pass probability of a valid trial on each side. */
  baseline: number;
  candidate: number;
}

export interface SimulationInput {
  tasks: readonly SimulatedTask[];
  heldOut: readonly string[];
  targeted: readonly string[];
  config: JudgeConfig;
  /** Trials per task and side of a fixed design. */
  fixedTrials: number;
  /** Chance that a trial ends without a verdict (infrastructure). */
  invalidRate: number;
  random: Random;
  /**
   * Times a person runs the last stage again (`/selfharness retry regression`) while the verdict neither
   * accepts nor rejects and asks for nothing more: what the gate's alpha must hold against. Default 0.
   */
  repeats?: number;
  /** How much each task counts in the improvement test (`taskWeights`); default: every task 1. */
  weights?: TaskWeights;
}

export interface SimulatedValidation {
  decision: Decision;
  /** Task-trials run, both sides counted. */
  spent: number;
  stages: number;
}

function draw(trials: number, pass: number, invalidRate: number, random: Random): TaskCounts {
  const counts = { passes: 0, valid: 0, invalid: 0 };
  for (let k = 0; k < trials; k++) {
    if (random() < invalidRate) counts.invalid++;
    else {
      counts.valid++;
      if (random() < pass) counts.passes++;
    }
  }
  return counts;
}

function drawStage(plan: StagePlan, tasks: readonly SimulatedTask[], invalidRate: number, random: Random): Map<string, PairCounts> {
  const running = new Set(plan.tasks);
  const none = { passes: 0, valid: 0, invalid: 0 };
  return new Map(
    tasks.map((t) => [
      t.task,
      running.has(t.task)
        ? { baseline: draw(plan.trials, t.baseline, invalidRate, random), candidate: draw(plan.trials, t.candidate, invalidRate, random) }
        : { baseline: none, candidate: none },
    ]),
  );
}

export function simulateValidation(input: SimulationInput): SimulatedValidation {
  const tasks = [...input.tasks].sort((a, b) => a.task.localeCompare(b.task));
  const names = tasks.map((t) => t.task);
  const rounds: Map<string, PairCounts>[] = [];
  const stageOf: number[] = [];
  let plan: StagePlan = firstStage(names, input.config, input.fixedTrials);
  let spent = 0;
  let repeats = input.repeats ?? 0;
  for (;;) {
    rounds.push(drawStage(plan, tasks, input.invalidRate, input.random));
    stageOf.push(plan.stage);
    spent += plan.cost;
    const verdict = judgeCounts({ stages: rounds, stageOf, tasks: names, heldOut: input.heldOut, targeted: input.targeted, config: input.config, invalid: [], ...(input.weights ? { weights: input.weights } : {}) });
    if (verdict.next) plan = verdict.next;
    else if (repeats > 0 && (verdict.decision === "needs-more-evidence" || verdict.decision === "inconclusive")) repeats--;
    else return { decision: verdict.decision, spent, stages: new Set(stageOf).size };
  }
}

/**
 * Where a simulated gain falls: on a few tasks, which then mostly pass; over every task by its headroom
 * (tasks that never pass included); or over the tasks whose outcome varies (VARYING), by their headroom.
 */
export type EffectShape = "concentrated" | "spread" | "spread-varying";

/** Pass rates of a task whose outcome varies from trial to trial: neither (nearly) always nor never passing. */
export const VARYING = { above: 0.05, below: 0.95 } as const;
const varies = (p: number) => p > VARYING.above && p < VARYING.below;

/** Pass probability of a task that a concentrated gain fixes. */
const FIXED = 0.9;

/**
 * Candidate pass probabilities that raise the mean by `effect` (as far as the headroom allows).
 * concentrated: tasks in `order` go to 90% one after another until the gain is spent (the targeted tasks
 * come first when the caller lists them first). spread: every task gains the same share of its
 * headroom. spread-varying: so does every task whose outcome varies, and no other.
 */
export function applyEffect(baseline: readonly number[], effect: number, shape: EffectShape, order: readonly number[]): number[] {
  const candidate = [...baseline];
  if (effect <= 0) return candidate;
  if (shape !== "concentrated") {
    const gains = (p: number) => shape === "spread" || varies(p);
    const headroom = baseline.reduce((sum, p) => sum + (gains(p) ? 1 - p : 0), 0) / baseline.length;
    const lift = headroom > 0 ? Math.min(1, effect / headroom) : 0;
    return baseline.map((p) => (gains(p) ? p + (1 - p) * lift : p));
  }
  let need = effect * baseline.length;
  for (const i of order) {
    if (need <= 0) break;
    const gain = Math.min(need, FIXED - baseline[i]!);
    if (gain <= 0) continue;
    candidate[i] = baseline[i]! + gain;
    need -= gain;
  }
  return candidate;
}

import type { SelfharnessConfig } from "../config/schema.js";
import { breathe } from "../traces/pace.js";
import { formatPoints } from "./format.js";
import type { TaskCounts } from "./outcomes.js";
import { betaDraw, mulberry32 } from "./random.js";
import { firstStage, validationBudget } from "./sequential.js";
import { applyEffect, simulateValidation, type EffectShape } from "./simulate.js";
import type { StagePlan } from "./types.js";
import { TASK_WEIGHT, taskWeights, weightsVary, type TaskWeights } from "./weights.js";

export type PlanConfig = { gate: SelfharnessConfig["gate"]; regression: Pick<SelfharnessConfig["regression"], "trials"> };

export interface PlanInput {
  /** The regression tasks. */
  tasks: readonly string[];
  /** The baseline in earlier eval runs, per task (`countByTask`). Tasks without any trial get the pooled rate. */
  history: ReadonlyMap<string, TaskCounts>;
  heldOut: readonly string[];
  /** A concentrated gain falls on these first. */
  targeted: readonly string[];
  config: PlanConfig;
  /** Simulated validations per power estimate (default 100: power within about ±5 points). */
  simulations?: number;
}

export interface PowerPlan {
  design: "adaptive" | "fixed";
  tasks: number;
  /** Most task-trials the validation may spend, both sides counted. */
  budget: number;
  /** The stage to dispatch now, and the most stages the validation may run. */
  first: StagePlan;
  stages: number;
  alpha: number;
  power: number;
  minEffect: number;
  /** Smallest gain accepted with the configured power within the budget, by where it falls; null when none is (or under the paper rule). */
  detectable: { concentrated: number | null; spread: number | null };
  /**
   * What a concentrated gain of minEffect needs for the configured power: task-trials (both sides) and
   * stages (the configured schedule, or one extended by repeating its last entry up to 10 stages); null
   * when not even 20 task-trials per task would do.
   */
  needed: { taskTrials: number; stages: number } | null;
  /** How much each task counts in the improvement test, from the history: record it, and judge with it. */
  weights: TaskWeights;
  /** Whether the budget reaches minEffect (concentrated) with the configured power. */
  reachable: boolean;
  /** Mean task-trials spent when nothing changes, and under a concentrated gain of minEffect. */
  expectedCost: { none: number; minEffect: number };
  /** The plan in words, for a check run. */
  summary: string;
}

/** Terminal-Bench-like shape of per-task pass rates when the history cannot show it (Beta concentration a + b). */
const DEFAULT_CONCENTRATION = 0.55;
const MAX_BUDGET_PER_TASK = 20;
/** The schema's limit on `gate.sequential.stages`. */
const MAX_STAGES = 10;

/**
 * An empirical-Bayes Beta prior over the tasks' pass rates. The mean is the pooled rate; the spread between
 * tasks comes from tasks with two or more trials (beta-binomial moments: E(f - mu)^2 = mu(1 - mu)(1/n +
 * (1 - 1/n) rho), rho = 1 / (a + b + 1)); with a single trial per task it cannot be told from trial noise,
 * and the Terminal-Bench shape stands in.
 */
export function baselinePrior(counts: readonly Pick<TaskCounts, "passes" | "valid">[]): { a: number; b: number } {
  const seen = counts.filter((c) => c.valid > 0);
  const trials = seen.reduce((sum, c) => sum + c.valid, 0);
  const mu = Math.min(0.99, Math.max(0.01, trials > 0 ? seen.reduce((sum, c) => sum + c.passes, 0) / trials : 0.5));
  let concentration = DEFAULT_CONCENTRATION;
  const repeated = seen.filter((c) => c.valid >= 2);
  if (repeated.length >= 5) {
    const spread = repeated.reduce((sum, c) => sum + (c.passes / c.valid - mu) ** 2, 0) / repeated.length / (mu * (1 - mu));
    const inverse = repeated.reduce((sum, c) => sum + 1 / c.valid, 0) / repeated.length;
    const rho = Math.min(0.98, Math.max(0.02, (spread - inverse) / (1 - inverse)));
    concentration = 1 / rho - 1;
  }
  return { a: mu * concentration, b: (1 - mu) * concentration };
}

/**
 * The power plan of a validation, before dispatch: the first stage, the smallest gains the budget detects
 * with the configured power (a gain on a few tasks, and one spread over all), and the budget minEffect
 * would need. Every figure comes from validations simulated through the gate itself, with each task's
 * baseline rate drawn from its posterior given the history, so uncertain rates widen the plan honestly.
 * Thousands of validations are simulated (seconds of work for a few hundred tasks), with turns of the
 * event loop between them: the app answering GitHub in the same process must not wait for a plan.
 */
export async function planValidation(input: PlanInput): Promise<PowerPlan> {
  const { gate } = input.config;
  const tasks = [...new Set([...input.tasks, ...input.targeted])].sort();
  const first = firstStage(tasks, gate, input.config.regression.trials);
  const design = gate.rule !== "paper" && gate.sequential.enabled ? "adaptive" : "fixed";
  const budget = design === "adaptive" ? validationBudget(gate, tasks.length) : first.cost;
  const stages = design === "adaptive" ? gate.sequential.stages.length : 1;
  const weights = taskWeights(tasks, input.history);
  const base = { design, tasks: tasks.length, budget, first, stages, alpha: gate.alpha, power: gate.power, minEffect: gate.minEffect, weights } as const;
  if (gate.rule === "paper") {
    return {
      ...base,
      detectable: { concentrated: null, spread: null },
      needed: null,
      reachable: false,
      expectedCost: { none: first.cost, minEffect: first.cost },
      summary: `The paper rule compares point estimates without error rates, so it has no power to plan: ${tasks.length} tasks, ${first.trials} trial${first.trials === 1 ? "" : "s"} each side (${first.cost} task-trials).`,
    };
  }

  const prior = baselinePrior([...input.history.values()]);
  // Invalid trials cost budget and pair nothing: the history says how often they happen.
  const ran = [...input.history.values()].reduce((sum, c) => sum + c.valid + c.invalid, 0);
  const invalidRate = ran > 0 ? [...input.history.values()].reduce((sum, c) => sum + c.invalid, 0) / ran : 0;
  const simulations = input.simulations ?? 100;
  const targeted = new Set(input.targeted);
  const heldOut = input.heldOut.filter((t) => tasks.includes(t));
  // One draw of baseline rates per simulation, the same for every effect and budget tried (common random
  // numbers), so that power rises smoothly with the effect and the searches below converge.
  const draws = Array.from({ length: simulations }, (_, j) => {
    const random = mulberry32(gate.seed * 7919 + j);
    const p = tasks.map((task) => {
      const h = input.history.get(task);
      return betaDraw(random, prior.a + (h?.passes ?? 0), prior.b + (h ? h.valid - h.passes : 0));
    });
    // The gain falls first on the targeted tasks, then on the others from the least passing.
    const order = tasks.map((_, i) => i).sort((x, y) => Number(targeted.has(tasks[y]!)) - Number(targeted.has(tasks[x]!)) || p[x]! - p[y]!);
    return { p, order };
  });
  const measure = async (effect: number, shape: EffectShape, sequential: typeof gate.sequential, fixedTrials: number) => {
    const config = { ...gate, sequential };
    let accepted = 0;
    let spent = 0;
    for (const [j, { p, order }] of draws.entries()) {
      const q = applyEffect(p, effect, shape, order);
      const result = simulateValidation({
        tasks: tasks.map((task, i) => ({ task, baseline: p[i]!, candidate: q[i]! })),
        heldOut,
        targeted: input.targeted,
        config,
        fixedTrials,
        invalidRate,
        weights,
        random: mulberry32(gate.seed * 104729 + j),
      });
      if (result.decision === "accept") accepted++;
      spent += result.spent;
      await breathe();
    }
    return { power: accepted / simulations, cost: spent / simulations };
  };

  const trials = input.config.regression.trials;
  const configured = gate.sequential;
  const detect = (shape: EffectShape) => smallest(0, 1, async (effect) => (await measure(effect, shape, configured, trials)).power >= gate.power, 0.01);
  const detectable = { concentrated: await detect("concentrated"), spread: await detect("spread") };
  const reachable = detectable.concentrated !== null && detectable.concentrated <= gate.minEffect;
  const needed =
    design === "adaptive"
      ? await neededBudget(configured, async (sequential) => (await measure(gate.minEffect, "concentrated", sequential, trials)).power >= gate.power, tasks.length)
      : await neededTrials(async (t) => (await measure(gate.minEffect, "concentrated", configured, t)).power >= gate.power, tasks.length);
  const expectedCost = { none: (await measure(0, "concentrated", configured, trials)).cost, minEffect: (await measure(gate.minEffect, "concentrated", configured, trials)).cost };
  return { ...base, detectable, needed, reachable, expectedCost, summary: describePlan({ ...base, detectable, needed, reachable, expectedCost }) };
}

/**
 * The budget an adaptive validation needs, with the configured stages; when more budget cannot help because
 * the stages run out first, with the last stage repeated up to the most stages allowed.
 */
async function neededBudget(configured: SelfharnessConfig["gate"]["sequential"], ok: (sequential: SelfharnessConfig["gate"]["sequential"]) => Promise<boolean>, tasks: number): Promise<PowerPlan["needed"]> {
  const extended = [...configured.stages, ...Array<number>(Math.max(0, MAX_STAGES - configured.stages.length)).fill(configured.stages.at(-1)!)];
  for (const stages of [configured.stages, extended]) {
    const found = await smallest(2, MAX_BUDGET_PER_TASK, (budget) => ok({ ...configured, stages, budget }), 0.25);
    if (found !== null) return { taskTrials: validationBudget({ sequential: { ...configured, budget: found } }, tasks), stages: stages.length };
  }
  return null;
}

/** The trials per task and side a fixed validation needs. */
async function neededTrials(ok: (trials: number) => Promise<boolean>, tasks: number): Promise<PowerPlan["needed"]> {
  const found = await smallest(1, MAX_BUDGET_PER_TASK / 2, (x) => ok(Math.ceil(x)), 1);
  return found === null ? null : { taskTrials: 2 * Math.ceil(found) * tasks, stages: 1 };
}

/** The smallest x in [low, high] where `ok` holds (assumed monotone), to within `precision`; null when not even `high`. */
async function smallest(low: number, high: number, ok: (x: number) => Promise<boolean>, precision: number): Promise<number | null> {
  if (!(await ok(high))) return null;
  while (high - low > precision) {
    const middle = (low + high) / 2;
    if (await ok(middle)) high = middle;
    else low = middle;
  }
  return high;
}

function describeWeights(weights: TaskWeights): string {
  if (!weightsVary(weights, [...weights.keys()])) return "";
  const count = (weight: number) => [...weights.values()].filter((w) => w === weight).length;
  const tasks = (n: number) => (n === 1 ? "1 task" : `${n} tasks`);
  const where = (
    [
      [TASK_WEIGHT.neverPassed, (n: number) => `the ${tasks(n)} the base never passed in the mined eval runs`],
      [TASK_WEIGHT.alwaysPassed, (n: number) => `the ${tasks(n)} it always passed`],
      [TASK_WEIGHT.sometimesPassed, (n: number) => `the other ${tasks(n)}`],
    ] as const
  )
    .filter(([weight]) => count(weight) > 0)
    .map(([weight, which]) => `${weight} on ${which(count(weight))}`);
  return ` Its improvement test counts a pass ${where.join(", ")}: a gain can only show where the base fails.`;
}

function describePlan(plan: Omit<PowerPlan, "summary">): string {
  const { tasks, budget, power, minEffect, detectable, needed, reachable } = plan;
  const percent = `${Math.round(power * 100)}% power`;
  const points = (x: number) => formatPoints(x).replace(" pts", " points");
  const spend = `${budget} task-trials (${(budget / tasks).toFixed(1)} per task, both sides)`;
  const shapes =
    detectable.concentrated === null
      ? `detects no gain with ${percent}, not even one that fixes every failing task`
      : `detects ${points(detectable.concentrated)} with ${percent} when the gain falls on a few tasks` +
        (detectable.spread === null ? " (a gain spread thinly over every failing task is out of reach)" : ` (${points(detectable.spread)} when it is spread over every failing task)`);
  const cost = ` It expects to spend ${Math.round(plan.expectedCost.minEffect)} task-trials on a gain of ${points(minEffect)}, ${Math.round(plan.expectedCost.none)} on none.`;
  const what =
    needed === null
      ? `not even ${MAX_BUDGET_PER_TASK} task-trials per task would`
      : `about ${needed.taskTrials} task-trials (${(needed.taskTrials / tasks).toFixed(1)} per task)${needed.stages > plan.stages ? ` over up to ${needed.stages} stages` : ""} would`;
  const verdict = reachable ? "" : ` The budget cannot reach the ${points(minEffect)} worth merging with ${percent}: ${what}.`;
  return `With ${tasks} tasks and a budget of ${spend}, this ${plan.design === "adaptive" ? "staged" : "fixed"} validation ${shapes}.${verdict}${cost}${describeWeights(plan.weights)}`;
}

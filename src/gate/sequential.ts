import type { GateConfig } from "../config/schema.js";
import { isPaired, toStratum, type PairCounts } from "./counts.js";
import { stratumInformation } from "./exact.js";
import { taskHashUnit } from "./split.js";
import type { StagePlan } from "./types.js";

/**
 * Tasks that can still tell the sides apart: outcomes that disagree somewhere (some trial passed and some
 * failed, over both sides), or no valid trial yet on a side. A task whose every trial agrees adds nothing
 * to the test until it disagrees, so it is not run again. The choice looks at totals only, never at
 * which side passed, which keeps the test's null distribution intact.
 */
export function undecidedTasks(pooled: ReadonlyMap<string, PairCounts>): string[] {
  return [...pooled].filter(([, c]) => !isPaired(c) || (c.baseline.passes + c.candidate.passes > 0 && c.baseline.passes + c.candidate.passes < c.baseline.valid + c.candidate.valid)).map(([task]) => task);
}

/**
 * The budget of a validation in task-trials, both sides counted: never less than its first stage,
 * which always runs whole (the plan and the verdict read this one figure).
 */
export function validationBudget(config: Pick<GateConfig, "sequential">, tasks: number): number {
  return Math.max(2 * config.sequential.stages[0]! * tasks, Math.round(config.sequential.budget * tasks));
}

/**
 * The next stage of an adaptive validation, or null when there is none: the schedule is done, the budget
 * is spent, or no task can still tell the sides apart. Every undecided task runs the schedule's trials for
 * this stage, fewer when the budget is short; when it cannot give each one a trial, the most informative
 * tasks go first (unpaired ones, then those whose outcomes are most evenly split), ties broken by a
 * seeded hash of the name.
 */
export function planNextStage(input: {
  pooled: ReadonlyMap<string, PairCounts>;
  /** Stages run so far. */
  stagesRun: number;
  spent: number;
  budget: number;
  config: Pick<GateConfig, "sequential" | "seed">;
}): StagePlan | null {
  const { pooled, stagesRun, spent, budget, config } = input;
  const schedule = config.sequential.stages;
  if (stagesRun >= schedule.length) return null;
  const undecided = undecidedTasks(pooled);
  const remaining = budget - spent;
  if (undecided.length === 0 || remaining < 2) return null;
  const trials = Math.min(schedule[stagesRun]!, Math.floor(remaining / (2 * undecided.length)));
  if (trials >= 1) return { stage: stagesRun + 1, tasks: undecided.sort(), trials, cost: 2 * trials * undecided.length };
  const priority = new Map(
    undecided.map((task) => {
      const c = pooled.get(task)!;
      return [task, { information: isPaired(c) ? stratumInformation(toStratum(c)) : Number.MAX_VALUE, tie: taskHashUnit(task, `${config.seed}:`) }];
    }),
  );
  const chosen = undecided
    .sort((a, b) => priority.get(b)!.information - priority.get(a)!.information || priority.get(a)!.tie - priority.get(b)!.tie)
    .slice(0, Math.floor(remaining / 2))
    .sort();
  return { stage: stagesRun + 1, tasks: chosen, trials: 1, cost: 2 * chosen.length };
}

/**
 * The first stage: every regression task on both sides, `sequential.stages[0]` trials each in an adaptive
 * validation, `trials` each in a fixed one (the paper rule is always fixed: it has no staged test).
 */
export function firstStage(tasks: readonly string[], config: Pick<GateConfig, "rule" | "sequential">, fixedTrials: number): StagePlan {
  const adaptive = config.rule !== "paper" && config.sequential.enabled;
  const trials = adaptive ? config.sequential.stages[0]! : fixedTrials;
  const unique = [...new Set(tasks)].sort();
  return { stage: 1, tasks: unique, trials, cost: 2 * trials * unique.length };
}

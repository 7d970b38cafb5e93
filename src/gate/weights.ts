import type { TaskCounts } from "./outcomes.js";

/**
 * How much each task counts in the improvement test, from the base's trials in the eval runs the
 * weakness was mined from. A harness edit can only raise a task the base fails: one it always passes
 * has no room to gain, one it never passes the most. For a gain that lifts each task by a share of its
 * headroom, the most powerful test weighs a task's trials by roughly the inverse of its pass rate; the
 * whole numbers below follow that shape while keeping the test's null distribution on a small lattice.
 *
 * The weights are fixed before the validation runs and never depend on its trials, so under no
 * difference the staged test stays exact: they move power between shapes of gain, never the
 * false-accept rate. `npm run bench -- gate` measures both.
 */
export type TaskWeights = ReadonlyMap<string, number>;

export const TASK_WEIGHT = {
  /** The base failed every valid trial. */
  neverPassed: 3,
  /** The base passed some, or has no valid trial of the task. */
  sometimesPassed: 2,
  /** The base passed every valid trial. */
  alwaysPassed: 1,
} as const;

/**
 * Each task's weight from the base's earlier trials (`countByTask` of the mined eval runs). With no
 * earlier valid trial of any task, every task weighs 1: the plain stratified test.
 */
export function taskWeights(tasks: readonly string[], history: ReadonlyMap<string, Pick<TaskCounts, "passes" | "valid">>): Map<string, number> {
  const known = tasks.some((task) => (history.get(task)?.valid ?? 0) > 0);
  return new Map(
    tasks.map((task) => {
      const h = history.get(task);
      if (!known) return [task, 1];
      if (!h || h.valid === 0) return [task, TASK_WEIGHT.sometimesPassed];
      return [task, h.passes === 0 ? TASK_WEIGHT.neverPassed : h.passes === h.valid ? TASK_WEIGHT.alwaysPassed : TASK_WEIGHT.sometimesPassed];
    }),
  );
}

/** Whether the weights change the test at all (they do not when every task weighs the same). */
export function weightsVary(weights: TaskWeights | undefined, tasks: readonly string[]): boolean {
  if (!weights) return false;
  const seen = new Set(tasks.map((task) => weights.get(task) ?? 1));
  return seen.size > 1;
}

/**
 * The gate: whether a harness edit helps, as pure functions on plain data (trials in, verdicts out).
 *
 * What the loop calls, and when:
 *
 * 1. Before dispatch, `await planValidation({ tasks, history, heldOut, targeted, config })` → `PowerPlan`:
 *    `first` is the stage to dispatch now (every task, on both sides); `summary` says in words what the
 *    budget can detect and, when it cannot reach `gate.minEffect`, what it would need. `history` is the
 *    baseline's per-task counts from earlier eval runs (`countByTask`); `weights` (`taskWeights` of that
 *    history) is how much each task counts in the improvement test: keep them for every judge call.
 *
 * 2. After each stage, `judge({ stages, tasks, heldOut, targeted, config: config.gate, weights })` →
 *    `Verdict`, with every stage so far (a stage = the trials gathered for one look, from any number of
 *    runs per side; a retry of a stage's run joins that stage). `decision`:
 *      - "accept": the improvement is shown and nothing shows harm; set the auto-merge label.
 *      - "reject": the data show harm (a task lost with significance, a split that lost beyond the
 *        margin), or, once the budget is spent, rule out a gain of `gate.minEffect`.
 *      - "needs-more-evidence": dispatch `next` (tasks × trials, on both sides) and judge again; when
 *        `next` is null the budget is spent and a person decides.
 *      - "inconclusive": unusable input (no comparable task, or too many tasks without a valid trial
 *        once the budget is spent).
 *    `budget` says how much of the budget is spent. A fixed design (`gate.sequential.enabled: false`, or
 *    `rule: paper`) has one stage; `decide({ baseline, candidate, ... })` is that single look.
 *
 * 3. After merge, `watchAfterMerge({ before, after, showsWeakness, expected, config: config.gate })` →
 *    `WatchResult`: "worse" (with evidence: comment and open a revert pull request), "improved",
 *    "no-change" or "not-enough-data", with the pass rate and the weakness's failure rate and how the
 *    proposal's own prediction fared.
 *
 * The statistics: tasks are the unit, trials nest in tasks, and the sides are compared within each
 * task (stratified exact test, exact McNemar with one trial a side), a task's passes weighted by how
 * rarely the base passed it before (weights.ts). The staged test spends alpha across looks with an
 * O'Brien-Fleming-like function of the budget spent (spending.ts), so the chance of accepting an edit
 * that changes nothing is at most `gate.alpha` however many stages run.
 */
export * from "./types.js";
export { judge, type JudgeInput, type JudgeConfig } from "./judge.js";
export { decide, type DecideInput } from "./decide.js";
export { planValidation, type PlanInput, type PlanConfig, type PowerPlan } from "./plan.js";
export { watchAfterMerge, parsePrediction, type WatchInput, type WatchResult, type WatchVerdict, type RateChange, type Prediction } from "./watch.js";
export { splitTasks, regressionSet, taskHashUnit, type RegressionSet } from "./split.js";
export { countByTask, passFraction, type TaskCounts } from "./outcomes.js";
export { mulberry32 } from "./random.js";
export { taskWeights, TASK_WEIGHT, type TaskWeights } from "./weights.js";

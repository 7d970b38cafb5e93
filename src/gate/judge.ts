import type { GateConfig } from "../config/schema.js";
import type { Trial } from "../traces/types.js";
import { stratifiedTest } from "./exact.js";
import { formatPValue, formatPoints, formatRate, pIs, SPLIT_LABEL } from "./format.js";
import { comparePairs } from "./compare.js";
import { isPaired, poolCounts, stageCounts, tasksOf, toStratum, trialsSpent, type PairCounts } from "./counts.js";
import { planNextStage, validationBudget } from "./sequential.js";
import { groupSequential, obrienFlemingSpending, type Look } from "./spending.js";
import { taroneThreshold } from "./stats.js";
import { TASK_WEIGHT, weightsVary, type TaskWeights } from "./weights.js";
import type { Decision, InvalidTrial, LookResult, RuleCheck, Side, SplitName, SplitResult, StagePlan, StageTrials, TaskFlip, Verdict } from "./types.js";

export type JudgeConfig = Pick<GateConfig, "rule" | "alpha" | "margin" | "minEffect" | "power" | "maxInvalidTaskShare" | "seed" | "sequential">;

export interface JudgeInput {
  /**
   * Every round of this validation so far, oldest first; the last one has just finished. A round holds
   * one dispatch of a stage, from any number of runs per side; a stage run again adds a round. Within a
   * round, trials are pooled by task: which run they came from never matters.
   */
  stages: readonly StageTrials[];
  /**
   * The budget the validation started with, in task-trials (adaptive design only). Default: from the
   * config. Passing the recorded one keeps a config changed mid-validation from moving its past looks.
   */
  budget?: number;
  /** The regression tasks; default: every task either side ran. Targeted tasks always count. */
  tasks?: readonly string[];
  /** Held-out task names; tasks not listed are held-in. */
  heldOut: readonly string[];
  /** The tasks the proposal aimed to fix. */
  targeted: readonly string[];
  config: JudgeConfig;
  /**
   * How much each task counts in the improvement test (`taskWeights`, from the eval runs before the
   * validation; never from its own trials). Default: every task 1.
   */
  weights?: TaskWeights;
}

interface PairedTask {
  task: string;
  split: SplitName;
  counts: PairCounts;
  /** Candidate pass fraction minus baseline pass fraction. */
  delta: number;
}

const WEIGHTS_IN_WORDS = `a pass counts ${TASK_WEIGHT.neverPassed} on a task the base never passed in earlier eval runs, ${TASK_WEIGHT.alwaysPassed} on one it always passed, ${TASK_WEIGHT.sometimesPassed} otherwise`;

/** Unpaired tasks named in a reason; the verdict's `unpaired` lists them all. */
const LISTED = 8;

/**
 * Most valid trials one verdict compares. The exact tests convolve per-task distributions, in time that
 * grows with the square of the trials; this is 80 tasks with 125 trials a side, far beyond a real
 * validation, and keeps a hostile artifact from stalling the gate.
 */
export const MAX_COMPARED_TRIALS = 20_000;

/**
 * The gate's verdict after a stage: every trial so far, pooled by task, compared between the sides.
 *
 * Under the statistical rule the improvement test is group-sequential over the stages (see spending.ts);
 * harm vetoes (a task lost with significance, a split that loses beyond the margin with significance) apply at
 * every look; while neither accepts nor rejects and the budget allows, the verdict asks for the next
 * stage. Under the paper rule, or with `sequential.enabled: false`, the trials given are all there will
 * be: one look, all of alpha.
 */
export function judge(input: JudgeInput): Verdict {
  const tasks = [...new Set([...(input.tasks ?? tasksOf(input.stages)), ...input.targeted])].sort();
  const taskSet = new Set(tasks);
  return judgeCounts({
    stages: input.stages.map((stage) => stageCounts(stage, tasks)),
    stageOf: input.stages.map((stage, index) => stage.stage ?? index + 1),
    ...(input.budget !== undefined ? { budget: input.budget } : {}),
    tasks,
    heldOut: input.heldOut,
    targeted: input.targeted,
    config: input.config,
    ...(input.weights ? { weights: input.weights } : {}),
    invalid: input.stages.flatMap((stage) => [...listInvalid(stage.baseline, "baseline", taskSet), ...listInvalid(stage.candidate, "candidate", taskSet)]),
  });
}

export interface CountsInput {
  /** Per round, every task's counts on both sides (a task that did not run in a round has zeros). */
  stages: readonly ReadonlyMap<string, PairCounts>[];
  /** The 1-based stage of each round (a stage run again has several); default: one round per stage. */
  stageOf?: readonly number[];
  /** The budget the validation started with (adaptive design); default: from the config. */
  budget?: number;
  /** Sorted; targeted tasks included. */
  tasks: readonly string[];
  heldOut: readonly string[];
  targeted: readonly string[];
  config: JudgeConfig;
  invalid: InvalidTrial[];
  weights?: TaskWeights;
}

/** `judge` on per-task counts: what the simulations behind the power plan and the bench call directly. */
export function judgeCounts(input: CountsInput): Verdict {
  const { config, tasks, stages: perStage } = input;
  const design = config.rule === "paper" || !config.sequential.enabled ? "fixed" : "adaptive";
  const targetedSet = new Set(input.targeted);
  const heldOutSet = new Set(input.heldOut);
  const spentTotal = (pooled: ReadonlyMap<string, PairCounts>) => [...pooled.values()].reduce((sum, c) => sum + trialsSpent(c), 0);
  const all = poolCounts(perStage, tasks);
  const budget = design === "adaptive" ? (input.budget ?? validationBudget(config, tasks.length)) : spentTotal(all);
  const stageOf = (round: number) => input.stageOf?.[round] ?? round + 1;
  const compared = [...all.values()].reduce((sum, c) => sum + c.baseline.valid + c.candidate.valid, 0);
  if (compared > MAX_COMPARED_TRIALS) return tooManyTrials(input, design, { total: budget, spent: spentTotal(all) }, compared);

  // Replay the rounds: each ends in a look of the improvement test, on the trials since the last look,
  // where the gate could have accepted: the validity rule held and some task paired. Skipping the other
  // rounds keeps alpha, since validity depends on invalid trials, never on which side passed; their
  // trials join the next look, each round's still a stratum of its own: which tasks a round runs
  // depends on the earlier rounds' outcomes, so one task's trials of two rounds are not exchangeable
  // and must not be pooled into one stratum (that made the null's tails too thin). A round run again
  // after the last look gets only the alpha that look left unspent (a discrete test rarely spends all
  // of it): re-running until the test crossed would otherwise give every repeat a fresh chance to
  // accept noise.
  const weight = (task: string) => input.weights?.get(task) ?? 1;
  const looks: Look[] = [];
  let next: StagePlan | null = null;
  let pooled: ReadonlyMap<string, PairCounts> = poolCounts([], tasks);
  let sinceLook: ReadonlyMap<string, PairCounts>[] = [];
  let validity: RuleCheck | undefined;
  let pairing = pairTasks(pooled, tasks, heldOutSet);
  for (const [round, added] of perStage.entries()) {
    pooled = poolCounts([pooled, added], tasks);
    sinceLook.push(added);
    const spent = spentTotal(pooled);
    next = design === "adaptive" ? planNextStage({ pooled, stagesRun: stageOf(round), spent, budget, config }) : null;
    pairing = pairTasks(pooled, tasks, heldOutSet);
    validity = checkValidity({ tasks: tasks.length, unpaired: pairing.unpaired, pooled, targetedSet, maxShare: config.maxInvalidTaskShare });
    const counts = sinceLook.flatMap((r) => [...r]);
    if (!validity.passed || !counts.some(([, c]) => isPaired(c))) continue;
    looks.push({
      strata: counts.map(([task, c]) => ({ ...toStratum(c), weight: weight(task) })),
      candidatePasses: counts.reduce((sum, [task, c]) => sum + weight(task) * c.candidate.passes, 0),
      fraction: next === null ? 1 : spent / budget,
    });
    sinceLook = [];
  }
  const { paired, unpaired } = pairing;
  validity ??= checkValidity({ tasks: tasks.length, unpaired, pooled, targetedSet, maxShare: config.maxInvalidTaskShare });
  const { alpha } = config;
  const overall = comparePairs(paired, alpha);
  const splits: Record<SplitName, SplitResult> = {
    heldIn: comparePairs(paired.filter((p) => p.split === "heldIn"), alpha),
    heldOut: comparePairs(paired.filter((p) => p.split === "heldOut"), alpha),
  };
  const targeted = targetedSet.size > 0 ? comparePairs(paired.filter((p) => targetedSet.has(p.task)), alpha) : null;
  const flips = taskFlips(paired, targetedSet, alpha);

  // The paper rule has no test, so no look.
  const lookResults = config.rule === "paper" ? [] : groupSequential(looks, alpha, obrienFlemingSpending);
  let decision: Decision;
  let checks: RuleCheck[];
  if (config.rule === "paper") {
    checks = [validity, ...paperRule(splits)];
    decision = !validity.passed ? "inconclusive" : checks.every((c) => c.passed) ? "accept" : "reject";
  } else {
    const harm = [hardRegressionCheck(flips, alpha), ...(["heldIn", "heldOut"] as const).map((name) => lossCheck(name, paired, targetedSet, config))];
    const improvement = improvementCheck(overall, lookResults, alpha, weightsVary(input.weights, tasks));
    checks = [validity, ...harm, improvement];
    if (harm.some((c) => !c.passed)) decision = "reject";
    else if (!validity.passed) decision = next ? "needs-more-evidence" : "inconclusive";
    else if (improvement.passed) decision = "accept";
    else if (next) decision = "needs-more-evidence";
    else {
      // The last look: a candidate whose gain is ruled out above minEffect is rejected; one that might
      // still have it is left to a person, since more trials than the budget would be needed. "Ruled out"
      // is a one-sided bound at the planned power, so a real gain of minEffect is rejected at most
      // 1 - power of the time (the futility side of the plan). Later stages re-run only tasks whose trials
      // disagreed, which pulls a pooled Δ toward zero; the first stage ran every task alike, so its
      // interval is the unbiased one to rule an effect out with.
      const firstStage = poolCounts(perStage.filter((_, round) => stageOf(round) === 1), tasks);
      const first = comparePairs(pairTasks(firstStage, tasks, heldOutSet).paired, 1 - config.power);
      const ruledOut = first.tasks > 0 && first.interval[1] < config.minEffect;
      const laterStages = perStage.some((_, round) => stageOf(round) > 1);
      const bound = `the ${Math.round(config.power * 100)}% upper bound of ${laterStages ? "the first stage's Δ" : "Δ"}, ${formatPoints(first.interval[1])},`;
      const worth = `the +${(config.minEffect * 100).toFixed(1)} pts worth merging`;
      checks.push({
        rule: "minimum effect",
        passed: !ruledOut,
        reason: ruledOut
          ? `minimum effect ruled out: ${bound} is below ${worth}`
          : `minimum effect not ruled out: ${bound} reaches ${worth}; ${design === "adaptive" ? "the budget is spent" : "no stage is left"}, so a person decides`,
      });
      decision = ruledOut ? "reject" : "needs-more-evidence";
    }
  }
  return {
    decision,
    rule: config.rule,
    design,
    reasons: checks.map((c) => c.reason),
    checks,
    overall,
    splits,
    targeted,
    flips,
    invalid: input.invalid,
    unpaired,
    looks: lookResults,
    weighted: weightsVary(input.weights, tasks),
    budget: { total: budget, spent: spentTotal(pooled) },
    next: decision === "needs-more-evidence" ? next : null,
    alpha,
    margin: config.margin,
    minEffect: config.minEffect,
    seed: config.seed,
  };
}

function tooManyTrials(input: CountsInput, design: Verdict["design"], budget: Verdict["budget"], compared: number): Verdict {
  const { config } = input;
  const empty = comparePairs([], config.alpha);
  const check = { rule: "valid trials", passed: false, reason: `valid trials: ${compared} valid trials, more than the ${MAX_COMPARED_TRIALS} one verdict compares; pass fewer runs` };
  return {
    decision: "inconclusive",
    rule: config.rule,
    design,
    reasons: [check.reason],
    checks: [check],
    overall: empty,
    splits: { heldIn: empty, heldOut: empty },
    targeted: null,
    flips: [],
    invalid: input.invalid,
    unpaired: [],
    looks: [],
    weighted: false,
    budget,
    next: null,
    alpha: config.alpha,
    margin: config.margin,
    minEffect: config.minEffect,
    seed: config.seed,
  };
}

function pairTasks(counts: ReadonlyMap<string, PairCounts>, tasks: readonly string[], heldOutSet: Set<string>): { paired: PairedTask[]; unpaired: Verdict["unpaired"] } {
  const paired: PairedTask[] = [];
  const unpaired: Verdict["unpaired"] = [];
  for (const task of tasks) {
    const c = counts.get(task)!;
    if (!isPaired(c)) unpaired.push({ task, missing: (["baseline", "candidate"] as const).filter((side) => c[side].valid === 0) });
    else paired.push({ task, split: heldOutSet.has(task) ? "heldOut" : "heldIn", counts: c, delta: c.candidate.passes / c.candidate.valid - c.baseline.passes / c.baseline.valid });
  }
  return { paired, unpaired };
}

function listInvalid(trials: readonly Trial[], side: Side, tasks: Set<string>): InvalidTrial[] {
  return trials.filter((t) => t.outcome === "invalid" && tasks.has(t.task)).map((t) => ({ trial: t.id, task: t.task, side, kind: t.infra?.kind ?? "no verdict" }));
}

/**
 * Tasks whose pass fraction moved. A loss is a hard regression only when the task's own exact test shows
 * it at Tarone's threshold over every task that could show one: a single pass→fail flip never can.
 */
function taskFlips(paired: readonly PairedTask[], targetedSet: Set<string>, alpha: number): TaskFlip[] {
  const tests = paired.map((p) => stratifiedTest([toStratum(p.counts)], p.counts.candidate.passes));
  const threshold = taroneThreshold(tests.map((t) => t.minimumLoss), alpha);
  return paired
    .map((p, i) => ({ p, test: tests[i]! }))
    .filter(({ p }) => p.delta !== 0)
    .map(
      ({ p, test }): TaskFlip => ({
        task: p.task,
        split: p.split,
        baseline: { passes: p.counts.baseline.passes, valid: p.counts.baseline.valid },
        candidate: { passes: p.counts.candidate.passes, valid: p.counts.candidate.valid },
        delta: p.delta,
        targeted: targetedSet.has(p.task),
        lossPValue: test.loss,
        hardRegression: p.delta < 0 && test.loss <= threshold,
      }),
    )
    .sort((a, b) => a.delta - b.delta || a.task.localeCompare(b.task));
}

function checkValidity(input: {
  tasks: number;
  unpaired: Verdict["unpaired"];
  pooled: ReadonlyMap<string, PairCounts>;
  targetedSet: Set<string>;
  maxShare: number;
}): RuleCheck {
  const { tasks, unpaired, pooled, targetedSet, maxShare } = input;
  let invalidTrials = 0;
  for (const c of pooled.values()) invalidTrials += c.baseline.invalid + c.candidate.invalid;
  const excluded = invalidTrials > 0 ? `${invalidTrials} invalid trial${invalidTrials === 1 ? "" : "s"} excluded; ` : "";
  // "not run" (no trial at all: a run that left the task out) reads differently from "no valid trial" (infrastructure).
  const describe = ({ task, missing }: Verdict["unpaired"][number]) => {
    const c = pooled.get(task)!;
    const sides = (kind: string, which: Side[]) => (which.length === 0 ? [] : [`${kind} on the ${which.join(" and ")} side${which.length > 1 ? "s" : ""}`]);
    return `${task} (${[...sides("no valid trial", missing.filter((side) => c[side].invalid > 0)), ...sides("not run", missing.filter((side) => c[side].invalid === 0))].join(", ")})`;
  };
  // Every unpaired task is in the verdict's data; the sentence names the first few.
  const list = (items: Verdict["unpaired"]) =>
    items.length > LISTED ? `${items.slice(0, LISTED).map(describe).join(", ")} and ${items.length - LISTED} more` : items.map(describe).join(", ");
  const targetedMissing = unpaired.filter((u) => targetedSet.has(u.task));
  if (targetedMissing.length > 0) {
    return { rule: "valid trials", passed: false, reason: `valid trials: ${excluded}targeted task${targetedMissing.length > 1 ? "s" : ""} ${list(targetedMissing)} cannot be compared; re-run ${targetedMissing.length > 1 ? "them" : "it"}` };
  }
  if (unpaired.length === tasks) return { rule: "valid trials", passed: false, reason: `valid trials: ${excluded}no task has a valid trial on both sides` };
  const share = unpaired.length / tasks;
  if (share > maxShare) {
    return {
      rule: "valid trials",
      passed: false,
      reason: `valid trials: ${excluded}${unpaired.length} of ${tasks} tasks (${formatRate(share)}, above ${formatRate(maxShare)}) cannot be compared: ${list(unpaired)}`,
    };
  }
  const left = unpaired.length > 0 ? `${unpaired.length} task${unpaired.length > 1 ? "s" : ""} left out (${list(unpaired)}), within the ${formatRate(maxShare)} allowed` : "every task has a valid trial on both sides";
  return { rule: "valid trials", passed: true, reason: `valid trials: ${excluded}${left}` };
}

function tasksCount(n: number): string {
  return `${n} task${n === 1 ? "" : "s"}`;
}

function paperRule(splits: Record<SplitName, SplitResult>): RuleCheck[] {
  const checks: RuleCheck[] = (["heldIn", "heldOut"] as const).map((name) => {
    const s = splits[name];
    const label = SPLIT_LABEL[name];
    if (s.tasks === 0) return { rule: `${label} not worse`, passed: true, reason: `${label} not worse: no ${label} tasks (Δ counts as 0)` };
    const passed = s.delta >= 0;
    return { rule: `${label} not worse`, passed, reason: `${label} not worse: Δ ${formatPoints(s.delta)} ${passed ? "≥" : "<"} 0 (${formatRate(s.baseline)} → ${formatRate(s.candidate)} over ${tasksCount(s.tasks)})` };
  });
  const improved = splits.heldIn.delta > 0 || splits.heldOut.delta > 0;
  checks.push({
    rule: "improvement",
    passed: improved,
    reason: improved
      ? `improvement: Δ > 0 on ${(["heldIn", "heldOut"] as const).filter((n) => splits[n].delta > 0).map((n) => SPLIT_LABEL[n]).join(" and ")} (point estimate, no test)`
      : "improvement: neither split has Δ > 0",
  });
  return checks;
}

function hardRegressionCheck(flips: readonly TaskFlip[], alpha: number): RuleCheck {
  const hard = flips.filter((f) => f.hardRegression);
  const worst = flips.filter((f) => f.delta < 0).sort((a, b) => a.lossPValue - b.lossPValue)[0];
  const describe = (f: TaskFlip) => `${f.task} (baseline ${f.baseline.passes}/${f.baseline.valid}, candidate ${f.candidate.passes}/${f.candidate.valid}, ${pIs(f.lossPValue)})`;
  if (hard.length > 0) return { rule: "no hard regression", passed: false, reason: `hard regression: ${hard.map(describe).join(", ")}` };
  return {
    rule: "no hard regression",
    passed: true,
    reason: worst
      ? `no hard regression: no task's loss is significant over all the tasks that could show one (largest: ${describe(worst)}; alpha ${alpha})`
      : "no hard regression: no task lost passes",
  };
}

/**
 * A split (targeted tasks aside, since they were chosen for the change and would mask a loss) loses
 * when its exact test shows a loss at alpha and the loss is larger than the margin: a drop must be both
 * real and material to veto.
 */
function lossCheck(name: SplitName, paired: readonly PairedTask[], targetedSet: Set<string>, config: JudgeConfig): RuleCheck {
  const label = SPLIT_LABEL[name];
  const rule = `${label} no loss`;
  const pairs = paired.filter((p) => p.split === name && !targetedSet.has(p.task));
  const which = name === "heldIn" && pairs.length < paired.filter((p) => p.split === name).length ? `${label} tasks other than the targeted ones` : `${label} tasks`;
  if (pairs.length === 0) return { rule, passed: true, reason: `${rule}: no ${which}` };
  const s = comparePairs(pairs, config.alpha);
  const lost = s.lossPValue! <= config.alpha && s.delta < -config.margin;
  const detail = `Δ ${formatPoints(s.delta)} over ${tasksCount(s.tasks)} (${which}), ${pIs(s.lossPValue)} for a loss`;
  return {
    rule,
    passed: !lost,
    reason: lost
      ? `${label} loss: ${detail}, below -${(config.margin * 100).toFixed(1)} pts and significant at ${config.alpha}`
      : `${rule}: ${detail}; a loss vetoes when p ≤ ${config.alpha} and Δ < -${(config.margin * 100).toFixed(1)} pts`,
  };
}

function improvementCheck(overall: SplitResult, looks: readonly LookResult[], alpha: number, weighted: boolean): RuleCheck {
  const rule = "significant improvement";
  const last = looks.at(-1);
  if (!last) return { rule, passed: false, reason: `no significant improvement yet: not tested, since no round had valid trials to compare on enough tasks` };
  const where = looks.length > 1 ? `look ${last.look} of the staged test` : "the first look";
  const passes = weighted ? `the candidate's passes weighed ${last.observed} (${WEIGHTS_IN_WORDS})` : `the candidate passed ${last.observed} trials`;
  const summary = `all ${tasksCount(overall.tasks)} Δ ${formatPoints(overall.delta)}: ${passes} where ${last.expected.toFixed(1)} were expected under no difference, ${pIs(last.nominalP)} at ${where}`;
  const spent = `alpha spent ${last.alphaSpent.toFixed(3)} of ${alpha}`;
  if (last.crossed) return { rule, passed: true, reason: `${rule}: ${summary}, within the p ≤ ${formatPValue(last.nominalThreshold)} this look allows (${spent})` };
  if (last.nominalThreshold === null) return { rule, passed: false, reason: `no significant improvement yet: ${summary}; no result could reach significance at this look (${spent})` };
  return { rule, passed: false, reason: `no significant improvement yet: ${summary}, needs p ≤ ${formatPValue(last.nominalThreshold)} at this look (${spent})` };
}

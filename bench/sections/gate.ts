/**
 * The gate on simulated validations with known truth, for 42 and 80 tasks: how often it accepts an edit
 * that changes nothing (A/A), how often it accepts real gains of +10, +14 and +21 points (concentrated on
 * a few tasks, spread over every task with headroom, or spread over the tasks whose outcome varies), and
 * how many task-trials it spends (both sides), for a fixed design of 3 trials per task and side (the
 * app's default before staging) and for the staged design.
 *
 * Per-task pass rates are Beta-distributed, calibrated on real Terminal-Bench 1 runs in ../shared (when
 * present): the orchestrator run's pass@k over 5 attempts of 80 tasks fixes the Beta's mean and spread
 * (many tasks always or never pass, the rest spread), and the two mini-swe-agent runs of the same 80
 * tasks are the check. 8% of trials are invalid, as in real runs. Each validation's task weights come
 * from three earlier eval runs of the base, drawn from the same rates (the app takes them from the mined
 * runs); at 42 tasks the staged design is also measured with every task weighing 1.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { configSchema } from "../../src/config/schema.js";
import type { JudgeConfig } from "../../src/gate/judge.js";
import { countByTask } from "../../src/gate/outcomes.js";
import { planValidation } from "../../src/gate/plan.js";
import { betaDraw, mulberry32, type Random } from "../../src/gate/random.js";
import { applyEffect, simulateValidation, VARYING, type EffectShape } from "../../src/gate/simulate.js";
import { splitTasks } from "../../src/gate/split.js";
import { taskWeights } from "../../src/gate/weights.js";
import { emit, timed } from "../lib.js";

const SEED = 20261121;
const INVALID_RATE = 0.08;
const defaults = configSchema.parse({});
const staged: JudgeConfig = defaults.gate;
const fixed: JudgeConfig = { ...defaults.gate, sequential: { ...defaults.gate.sequential, enabled: false } };
const FIXED_TRIALS = 3;
const HISTORY_RUNS = 3;

// ---- Calibration on real Terminal-Bench 1 runs ----

const shared = resolve(fileURLToPath(new URL("../../../shared/real-traces", import.meta.url)));
const mini = join(shared, "tb1-leaderboard/results/terminal-bench-core@0.1.1/20250825_swe-agent-mini_claude-4-sonnet");
const orchestrator = join(shared, "tb1-leaderboard/results/terminal-bench-core:0.1.1/20250906_orchestrator_claude-4.1-opus/run_metadata.json");

/** E[(1-p)^k] for p ~ Beta(a, b). */
function failAll(a: number, b: number, k: number): number {
  let product = 1;
  for (let j = 0; j < k; j++) product *= (b + j) / (a + b + j);
  return product;
}

/** Beta(a, b) with mean pass@1 whose E[(1-p)^5] matches 1 - pass@5 (bisection on the concentration a + b). */
function fitPassAtK(passAt1: number, passAt5: number): { a: number; b: number } {
  let low = 0.01;
  let high = 100;
  for (let i = 0; i < 100; i++) {
    const s = Math.sqrt(low * high);
    // More concentration, rates closer to the mean: fewer tasks failing all five attempts.
    if (failAll(passAt1 * s, (1 - passAt1) * s, 5) > 1 - passAt5) low = s;
    else high = s;
  }
  const s = Math.sqrt(low * high);
  return { a: passAt1 * s, b: (1 - passAt1) * s };
}

interface Calibration {
  a: number;
  b: number;
  source: string;
}

function calibrate(): Calibration {
  if (!existsSync(orchestrator)) {
    // Fallback: the fit below on the files as they are in ../shared, recorded here.
    return { a: 0.218, b: 0.329, source: "stored fit (../shared/real-traces absent)" };
  }
  const meta = JSON.parse(readFileSync(orchestrator, "utf8")) as { accuracy: number; pass_at_k: Record<string, number> };
  const { a, b } = fitPassAtK(meta.accuracy, meta.pass_at_k["5"]!);
  const predicted = (k: number) => 1 - failAll(a, b, k);
  emit({ section: "gate", figure: "calibration: Beta(a, b) of per-task pass rates, a", value: round(a, 3), unit: "", corpus: "TB1 orchestrator run, 80 tasks x 5 attempts (pass@1, pass@5)", note: `b = ${round(b, 3)}; pass@2 fitted ${round(predicted(2), 3)} vs real ${round(meta.pass_at_k["2"]!, 3)}, pass@4 ${round(predicted(4), 3)} vs ${round(meta.pass_at_k["4"]!, 3)}` });
  emit({ section: "gate", figure: "calibration: tasks a Beta draw puts below 5% or above 95%", value: round(100 * extremeShare(a, b), 1), unit: "%", corpus: "the fitted Beta", note: "many tasks always or never pass" });
  const check = miniPairs();
  if (check) {
    // The fitted shape (its concentration a + b) at mini-swe-agent's own pass rate: E[2p(1-p)] = 2 mu (1 - mu) s / (s + 1).
    const s = a + b;
    const expected = (2 * check.rate * (1 - check.rate) * s) / (s + 1);
    emit({ section: "gate", figure: "check: mini-swe-agent, tasks whose two runs disagree", value: round(100 * check.discordant, 1), unit: "%", corpus: `TB1 mini-swe-agent runs 08-13 and 08-15, ${check.pairs} tasks with a verdict in both`, note: `the fitted shape at its ${round(100 * check.rate, 1)}% pass rate predicts ${round(100 * expected, 1)}%: real runs are at least as all-or-nothing (install failures recorded as plain failures inflate the agreement)` });
  }
  return { a, b, source: `Beta(${round(a, 3)}, ${round(b, 3)}) fitted on the TB1 orchestrator's pass@k` };
}

function extremeShare(a: number, b: number): number {
  const random = mulberry32(SEED);
  let extreme = 0;
  for (let i = 0; i < 20000; i++) {
    const p = betaDraw(random, a, b);
    if (p < 0.05 || p > 0.95) extreme++;
  }
  return extreme / 20000;
}

/** The two run-level results.json of mini-swe-agent: tasks with a verdict in both runs, and how often they disagree. */
function miniPairs(): { pairs: number; discordant: number; rate: number } | null {
  const runs = ["2025-08-13__19-44-27", "2025-08-15__16-23-45"].map((run) => join(mini, run, "results.json"));
  const first = join(shared, "tb1-mini-swe-agent/results/terminal-bench-core@0.1.1/20250825_swe-agent-mini_claude-4-sonnet/2025-08-13__19-44-27/results.json");
  const paths = [existsSync(runs[0]!) ? runs[0]! : first, runs[1]!];
  if (!paths.every(existsSync)) return null;
  const [a, b] = paths.map((p) => new Map((JSON.parse(readFileSync(p, "utf8")) as { results: { task_id: string; is_resolved: boolean | null }[] }).results.map((r) => [r.task_id, r.is_resolved])));
  let pairs = 0;
  let discordant = 0;
  let passes = 0;
  for (const [task, x] of a!) {
    const y = b!.get(task);
    if (x === null || x === undefined || y === null || y === undefined) continue;
    pairs++;
    if (x !== y) discordant++;
    passes += Number(x) + Number(y);
  }
  return { pairs, discordant: discordant / pairs, rate: passes / (2 * pairs) };
}

function round(x: number, digits: number): number {
  return Math.round(x * 10 ** digits) / 10 ** digits;
}

// ---- Simulated validations ----

interface Scenario {
  effect: number;
  shape: EffectShape;
}

const SCENARIOS: Scenario[] = [
  { effect: 0, shape: "spread" },
  ...[0.1, 0.14, 0.21].flatMap((effect) => (["concentrated", "spread"] as const).map((shape) => ({ effect, shape }))),
  // After the others, so that each scenario keeps its seed (seeds follow the order).
  ...[0.1, 0.14, 0.21].map((effect) => ({ effect, shape: "spread-varying" as const })),
];

const WHERE: Record<EffectShape, string> = {
  concentrated: "on a few tasks",
  spread: "spread over all",
  "spread-varying": `spread over the tasks that pass ${VARYING.above * 100}-${VARYING.below * 100}% of the time`,
};

function describe(s: Scenario): string {
  return s.effect === 0 ? "A/A (no change)" : `+${Math.round(s.effect * 100)} pts ${WHERE[s.shape]}`;
}

/** The items in a random order (Fisher-Yates). */
function shuffled<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** One simulated validation: fresh task rates, a gain placed by the scenario, the gate run stage by stage. */
function validate(random: Random, calibration: Calibration, tasks: number, scenario: Scenario, config: JudgeConfig, index: number, repeats = 0, weighted = true) {
  const names = Array.from({ length: tasks }, (_, i) => `sim${index}-task-${String(i).padStart(2, "0")}`);
  const p = names.map(() => betaDraw(random, calibration.a, calibration.b));
  // A concentrated gain falls on failing tasks (below 50%) in random order; the first three are the targeted ones.
  const failing = shuffled(
    names.map((_, i) => i).filter((i) => p[i]! < 0.5),
    random,
  );
  const q = applyEffect(p, scenario.effect, scenario.shape, failing);
  const targeted = failing.slice(0, 3).map((i) => names[i]!);
  const { heldOut } = splitTasks(names, { heldOut: [], heldOutFraction: 0.3 });
  // The base's history: three earlier eval runs, the task weights' source as in the app.
  const history = new Map(
    names.map((task, i) => {
      const counts = { passes: 0, valid: 0 };
      for (let run = 0; run < HISTORY_RUNS; run++) {
        if (random() < INVALID_RATE) continue;
        counts.valid++;
        if (random() < p[i]!) counts.passes++;
      }
      return [task, counts];
    }),
  );
  return simulateValidation({
    tasks: names.map((task, i) => ({ task, baseline: p[i]!, candidate: q[i]! })),
    heldOut: heldOut.filter((t) => !targeted.includes(t)),
    targeted,
    config,
    fixedTrials: FIXED_TRIALS,
    invalidRate: INVALID_RATE,
    random,
    repeats,
    ...(weighted ? { weights: taskWeights(names, history) } : {}),
  });
}

interface Design {
  name: string;
  config: JudgeConfig;
  /** Whether the improvement test weighs tasks by the base's history (the app does). */
  weighted: boolean;
}

function measure(calibration: Calibration, corpus: string, tasks: number, runs: number, designs: Design[]): void {
  for (const design of designs) {
    for (const [k, scenario] of SCENARIOS.entries()) {
      const seed = SEED + 1000 * tasks + 10 * k;
      const random = mulberry32(seed);
      const outcomes: Record<string, number> = {};
      let spent = 0;
      for (let i = 0; i < runs; i++) {
        const result = validate(random, calibration, tasks, scenario, design.config, i, 0, design.weighted);
        outcomes[result.decision] = (outcomes[result.decision] ?? 0) + 1;
        spent += result.spent;
      }
      const accepted = (outcomes.accept ?? 0) / runs;
      const se = Math.sqrt((accepted * (1 - accepted)) / runs);
      const others = (["reject", "needs-more-evidence", "inconclusive"] as const).map((d) => `${d} ${round((100 * (outcomes[d] ?? 0)) / runs, 1)}%`).join(", ");
      emit({
        section: "gate",
        figure: `${tasks} tasks, ${design.name}, ${describe(scenario)}: ${scenario.effect === 0 ? "false accepts" : "accepted"}`,
        value: round(100 * accepted, 1),
        unit: "%",
        corpus: `${corpus}, ${runs} validations`,
        seed,
        note: `±${round(100 * se, 1)} (1 s.e.); ${others}; mean ${Math.round(spent / runs)} task-trials`,
      });
    }
  }
}

const calibration = calibrate();
const corpus = `simulated, ${calibration.source}, ${INVALID_RATE * 100}% invalid`;
const stagedName = `staged ${staged.sequential.stages.join("+")}, budget ${staged.sequential.budget}/task`;
const designs: Design[] = [
  { name: `fixed ${FIXED_TRIALS} trials/side`, config: fixed, weighted: true },
  { name: stagedName, config: staged, weighted: true },
];
// The same staged design with every task weighing 1: what the history's weights add.
measure(calibration, corpus, 42, 2000, [...designs, { name: `${stagedName}, tasks unweighted`, config: staged, weighted: false }]);
measure(calibration, corpus, 80, 1000, designs);

// A yardstick for the gain targets: what a fixed design needs. Each task gets k trials per side (half the
// tasks one more for a half-integer k), judged by a one-sided stratified test (Cochran-Mantel-Haenszel,
// one stratum per task, normal approximation) at the gate's alpha: the standard test of paired binary
// outcomes, without any of the gate's guards (no held-out split, no regression veto, one look). The
// staged design beats it where it can aim its trials (a gain on a few tasks shows in the tasks that
// disagree); a gain spread over every task leaves little to aim at.
function fixedDesignPower(tasks: number, scenario: Scenario, perSide: number, runs: number, random: Random): number {
  const passes = (n: number, p: number) => {
    let count = 0;
    for (let i = 0; i < n; i++) if (random() < p) count++;
    return count;
  };
  const critical = normalQuantile(1 - staged.alpha);
  let accepted = 0;
  for (let r = 0; r < runs; r++) {
    const p = Array.from({ length: tasks }, () => betaDraw(random, calibration.a, calibration.b));
    const failing = shuffled(p.map((_, i) => i).filter((i) => p[i]! < 0.5), random);
    const q = applyEffect(p, scenario.effect, scenario.shape, failing);
    let excess = 0;
    let variance = 0;
    for (let i = 0; i < tasks; i++) {
      const n = Math.floor(perSide) + (perSide % 1 !== 0 && i % 2 === 0 ? 1 : 0);
      const candidateTrials = passes(n, 1 - INVALID_RATE);
      const trials = candidateTrials + passes(n, 1 - INVALID_RATE);
      const candidatePasses = passes(candidateTrials, q[i]!);
      const all = candidatePasses + passes(trials - candidateTrials, p[i]!);
      if (trials < 2 || all === 0 || all === trials) continue;
      // Given the task's passes, the candidate's are hypergeometric under no change.
      const share = all / trials;
      excess += candidatePasses - candidateTrials * share;
      variance += (candidateTrials * share * (1 - share) * (trials - candidateTrials)) / (trials - 1);
    }
    if (variance > 0 && excess / Math.sqrt(variance) > critical) accepted++;
  }
  return accepted / runs;
}

/** The standard normal quantile (Acklam's rational approximation; ample for a critical value). */
function normalQuantile(u: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (t: number) => (((((c[0]! * t + c[1]!) * t + c[2]!) * t + c[3]!) * t + c[4]!) * t + c[5]!) / ((((d[0]! * t + d[1]!) * t + d[2]!) * t + d[3]!) * t + 1);
  if (u < 0.02425) return tail(Math.sqrt(-2 * Math.log(u)));
  if (u > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - u)));
  const x = u - 0.5;
  const r = x * x;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * x) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

{
  const seed = SEED + 11;
  const random = mulberry32(seed);
  const runs = 2000;
  const steps = [1, 1.5, 2, 2.5, 3, 3.5, 4, 5];
  for (const shape of ["concentrated", "spread", "spread-varying"] as const) {
    const scenario: Scenario = { effect: 0.14, shape };
    const curve = steps.map((k) => ({ cost: 2 * k * 42, power: fixedDesignPower(42, scenario, k, runs, random) }));
    // The cost at 80% power, read off the curve between the two points around it.
    const above = curve.findIndex((point) => point.power >= 0.8);
    const low = curve[above - 1];
    const high = curve[above];
    const cost = above === -1 ? null : above === 0 || !low || !high ? high!.cost : low.cost + ((0.8 - low.power) / (high.power - low.power)) * (high.cost - low.cost);
    emit({
      section: "gate",
      figure: `42 tasks, yardstick: task-trials a fixed design's stratified test needs for 80% at ${describe(scenario)}`,
      // Not reached on the curve: more than its last point.
      value: Math.round(cost ?? curve[curve.length - 1]!.cost),
      unit: cost === null ? "task-trials (more than)" : "task-trials",
      corpus: `${corpus}, ${runs} validations per point`,
      seed,
      note: `one look at alpha ${staged.alpha * 100}%, no guards; power ${curve.map((point) => `${point.cost}: ${round(100 * point.power, 0)}%`).join(", ")}`,
    });
  }
}

// What the harshest shape needs: a +14 gain spread over every task with headroom, under a larger budget.
{
  const seed = SEED + 13;
  const random = mulberry32(seed);
  const runs = 2000;
  const larger: JudgeConfig = { ...staged, sequential: { ...staged.sequential, stages: [1, 2, 2, 2], budget: 5 } };
  let accepted = 0;
  let spent = 0;
  for (let i = 0; i < runs; i++) {
    const result = validate(random, calibration, 42, { effect: 0.14, shape: "spread" }, larger, i);
    if (result.decision === "accept") accepted++;
    spent += result.spent;
  }
  const rate = accepted / runs;
  emit({
    section: "gate",
    figure: "42 tasks, staged 1+2+2+2, budget 5/task, +14 pts spread over all: accepted",
    value: round(100 * rate, 1),
    unit: "%",
    corpus: `${corpus}, ${runs} validations`,
    seed,
    note: `±${round(100 * Math.sqrt((rate * (1 - rate)) / runs), 1)} (1 s.e.); mean ${Math.round(spent / runs)} task-trials`,
  });
}

// A person who runs the last stage again (`/selfharness retry regression`) up to 9 times, the most a
// stage keeps, while the verdict neither accepts nor rejects: each repeat is a look of its own.
{
  const seed = SEED + 7;
  const random = mulberry32(seed);
  const runs = 2000;
  let accepted = 0;
  let spent = 0;
  for (let i = 0; i < runs; i++) {
    const result = validate(random, calibration, 42, { effect: 0, shape: "spread" }, staged, i, 9);
    if (result.decision === "accept") accepted++;
    spent += result.spent;
  }
  const rate = accepted / runs;
  emit({
    section: "gate",
    figure: `42 tasks, ${stagedName}, A/A with up to 9 repeats of the last stage: false accepts`,
    value: round(100 * rate, 1),
    unit: "%",
    corpus: `${corpus}, ${runs} validations`,
    seed,
    note: `±${round(100 * Math.sqrt((rate * (1 - rate)) / runs), 1)} (1 s.e.); target ≤ alpha ${staged.alpha * 100}%; mean ${Math.round(spent / runs)} task-trials`,
  });
}

// The power plan: what it predicts for one 42-task set, against what that set then measures.
{
  const random = mulberry32(SEED + 5);
  const tasks = Array.from({ length: 42 }, (_, i) => `task-${String(i).padStart(2, "0")}`);
  const p = tasks.map(() => betaDraw(random, calibration.a, calibration.b));
  // Three earlier eval runs give the history the plan sees.
  const history = countByTask(
    tasks.flatMap((task, i) =>
      [1, 2, 3].map((attempt) => ({ id: `${task}-${attempt}`, run: `eval-${attempt}`, task, attempt, outcome: random() < INVALID_RATE ? ("invalid" as const) : random() < p[i]! ? ("pass" as const) : ("fail" as const), reward: null, steps: [], source: { format: "harbor" as const, path: "" } })),
    ),
  );
  const { result: plan, seconds } = await timed(() => planValidation({ tasks, history, heldOut: [], targeted: [], config: defaults }));
  emit({ section: "gate", figure: "power plan: smallest gain detected with 80% power, concentrated (42 tasks)", value: round(100 * (plan.detectable.concentrated ?? 1), 1), unit: "pts", corpus: "simulated history of 3 eval runs", seed: SEED + 5, note: `spread: ${plan.detectable.spread === null ? "out of reach" : `${round(100 * plan.detectable.spread, 1)} pts`}; plan took ${round(seconds, 2)} s` });
}

// Cost of one verdict at a large realistic shape: 80 tasks after three stages.
{
  const random = mulberry32(SEED + 9);
  const { seconds } = await timed(() => {
    for (let i = 0; i < 50; i++) validate(random, calibration, 80, { effect: 0.14, shape: "spread" }, staged, i);
  });
  emit({ section: "gate", figure: "one staged validation of 80 tasks, all looks judged", value: round((seconds / 50) * 1000, 2), unit: "ms", corpus: "simulated", seed: SEED + 9, note: "judge() after every stage, exact tests" });
}

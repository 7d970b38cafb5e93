import { describe, expect, it } from "vitest";
import { validateConfig } from "../../src/config/load.js";
import type { SelfharnessConfig } from "../../src/config/schema.js";
import { countByTask } from "../../src/gate/outcomes.js";
import { baselinePrior, planValidation } from "../../src/gate/plan.js";
import { trial } from "./trials.js";

function config(yaml: Record<string, unknown> = {}): SelfharnessConfig {
  const result = validateConfig(yaml);
  if (!result.ok) throw new Error("configuration must be valid");
  return result.config;
}

const TASKS = Array.from({ length: 16 }, (_, i) => `t${String(i).padStart(2, "0")}`);
// Three earlier eval runs, shaped like Terminal-Bench: some tasks always pass, many never, a few in between.
const history = countByTask(
  TASKS.flatMap((task, i) =>
    [1, 2, 3].map((attempt) => trial(task, i < 4 ? "pass" : i < 7 ? (attempt === 1 ? "pass" : "fail") : i === 15 && attempt === 3 ? "invalid" : "fail", { run: `eval-${attempt}`, attempt })),
  ),
);

describe("planValidation", () => {
  it("plans stage 1 on every task and states what the budget detects", async () => {
    const plan = await planValidation({ tasks: TASKS, history, heldOut: [], targeted: ["t10", "t11"], config: config(), simulations: 40 });
    expect(plan).toMatchObject({ design: "adaptive", tasks: 16, budget: 56, first: { stage: 1, tasks: TASKS, trials: 1, cost: 32 }, alpha: 0.03, power: 0.8, minEffect: 0.1 });
    expect(plan.detectable.concentrated).toBeGreaterThan(0);
    expect(plan.detectable.concentrated!).toBeLessThan(plan.detectable.spread ?? 1);
    expect(plan.summary).toMatch(/^With 16 tasks and a budget of 56 task-trials \(3\.5 per task, both sides\), this staged validation detects \+\d+\.\d points with 80% power when the gain falls on a few tasks/);
    expect(plan.expectedCost.none).toBeGreaterThanOrEqual(32);
    expect(plan.expectedCost.none).toBeLessThanOrEqual(56);
    // The improvement test's weights, from the same history: t00-t03 always passed, t04-t06 sometimes.
    expect(TASKS.map((t) => plan.weights.get(t))).toEqual([1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3]);
    expect(plan.summary).toContain("Its improvement test counts a pass 3 on the 9 tasks the base never passed in the mined eval runs, 1 on the 4 tasks it always passed, 2 on the other 3 tasks: a gain can only show where the base fails.");
  });

  it("says up front when the budget cannot reach the minimum effect, and what would", async () => {
    const plan = await planValidation({ tasks: TASKS, history, heldOut: [], targeted: [], config: config({ gate: { sequential: { budget: 2 } } }), simulations: 40 });
    expect(plan.reachable).toBe(false);
    expect(plan.needed).not.toBeNull();
    expect(plan.needed!.taskTrials).toBeGreaterThan(plan.budget);
    // Three stages of at most two trials cannot spend that much on 16 tasks: the plan says how many stages would.
    expect(plan.needed!.stages).toBe(10);
    expect(plan.summary).toContain(`The budget cannot reach the +10.0 points worth merging with 80% power: about ${plan.needed!.taskTrials} task-trials (${(plan.needed!.taskTrials / 16).toFixed(1)} per task) over up to 10 stages would.`);
    // A larger budget detects smaller gains.
    const larger = await planValidation({ tasks: TASKS, history, heldOut: [], targeted: [], config: config({ gate: { sequential: { budget: 8 } } }), simulations: 40 });
    expect(larger.detectable.concentrated!).toBeLessThan(plan.detectable.concentrated ?? 1);
  });

  it("plans a fixed design in trials per task, and has no power to plan under the paper rule", async () => {
    const fixed = await planValidation({ tasks: TASKS, history, heldOut: [], targeted: [], config: config({ gate: { sequential: { enabled: false } }, regression: { trials: 2 } }), simulations: 30 });
    expect(fixed).toMatchObject({ design: "fixed", budget: 64, first: { trials: 2, cost: 64 } });
    expect(fixed.summary).toContain("this fixed validation");
    if (fixed.needed !== null) expect(fixed.needed).toMatchObject({ stages: 1, taskTrials: expect.any(Number) });
    if (fixed.needed !== null) expect(fixed.needed.taskTrials % (2 * 16)).toBe(0);
    const paper = await planValidation({ tasks: TASKS, history, heldOut: [], targeted: [], config: config({ gate: { rule: "paper" } }) });
    expect(paper).toMatchObject({ detectable: { concentrated: null, spread: null }, reachable: false, needed: null });
    expect(paper.summary).toContain("The paper rule compares point estimates without error rates");
  });
});

describe("planValidation in a process that also answers webhooks", () => {
  it("gives the event loop turns while it simulates, so a plan of many tasks never holds up a timer", async () => {
    const tasks = Array.from({ length: 40 }, (_, i) => `task-${i}`);
    const counts = countByTask(tasks.flatMap((task, i) => [1, 2, 3].map((attempt) => trial(task, (i + attempt) % 3 === 0 ? "pass" : "fail", { run: `eval-${attempt}`, attempt }))));
    let turns = 0;
    const ticker = setInterval(() => turns++, 1);
    let longest = 0;
    let last = performance.now();
    const watch = setInterval(() => {
      longest = Math.max(longest, performance.now() - last);
      last = performance.now();
    }, 1);
    const started = performance.now();
    try {
      await planValidation({ tasks, history: counts, heldOut: [], targeted: [], config: config(), simulations: 40 });
    } finally {
      clearInterval(ticker);
      clearInterval(watch);
    }
    const took = performance.now() - started;
    // A plan that ran in one stretch would let no timer in at all.
    expect(took).toBeGreaterThan(100);
    expect(turns).toBeGreaterThan(5);
    // The loop waits for slices of work, never for the whole plan (a bound far from the 20 ms slice, so load cannot flake it).
    expect(longest).toBeLessThan(took / 2);
  });
});

describe("baselinePrior", () => {
  it("takes the pooled rate as the mean and the spread between tasks from repeated trials", () => {
    const allOrNothing = [...Array(10).fill({ passes: 4, valid: 4 }), ...Array(10).fill({ passes: 0, valid: 4 })];
    const bimodal = baselinePrior(allOrNothing);
    expect(bimodal.a / (bimodal.a + bimodal.b)).toBeCloseTo(0.5, 12);
    expect(bimodal.a + bimodal.b).toBeLessThan(0.1);
    const alike = baselinePrior(Array(20).fill({ passes: 2, valid: 4 }));
    expect(alike.a + alike.b).toBeGreaterThan(40);
  });
  it("falls back to the Terminal-Bench shape when each task ran once", () => {
    const once = baselinePrior(Array.from({ length: 20 }, (_, i) => ({ passes: i < 5 ? 1 : 0, valid: 1 })));
    expect(once.a + once.b).toBeCloseTo(0.55, 12);
    expect(once.a / (once.a + once.b)).toBeCloseTo(0.25, 12);
  });
});

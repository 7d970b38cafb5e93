import { describe, expect, it } from "vitest";
import { validateConfig } from "../../src/config/load.js";
import type { GateConfig } from "../../src/config/schema.js";
import { decide } from "../../src/gate/decide.js";
import { mulberry32 } from "../../src/gate/random.js";
import type { Trial } from "../../src/traces/types.js";
import { side, trial } from "./trials.js";

function gateConfig(overrides: Partial<GateConfig> = {}): GateConfig {
  const result = validateConfig({});
  if (!result.ok) throw new Error("default configuration must be valid");
  return { ...result.config.gate, ...overrides };
}

const heldIn = Array.from({ length: 16 }, (_, i) => `in-${String(i).padStart(2, "0")}`);
const heldOut = Array.from({ length: 8 }, (_, i) => `out-${i}`);

/** Baseline and candidate from per-task [passes, fails] pairs; tasks missing from `changes` are unchanged. */
function runs(base: Record<string, [number, number]>, changes: Record<string, [number, number]>): { baseline: Trial[]; candidate: Trial[] } {
  return { baseline: side(base, "base"), candidate: side({ ...base, ...changes }, "cand") };
}

// Heterogeneous difficulty: some tasks always pass, some never, some in between (3 trials each).
const base: Record<string, [number, number]> = Object.fromEntries(
  [...heldIn, ...heldOut].map((task, i) => [task, ([[3, 0], [0, 3], [1, 2], [2, 1]] as [number, number][])[i % 4]!]),
);

// Noise only: a few tasks gain a pass, fewer lose one, no task is lost entirely.
const noise = runs(base, {
  "in-02": [2, 1], // 1/3 → 2/3
  "in-06": [2, 1],
  "in-10": [2, 1],
  "in-03": [1, 2], // 2/3 → 1/3
  "out-2": [2, 1],
  "out-3": [1, 2],
});

// A clear improvement: tasks that never passed now pass, nothing is lost.
const clearChanges: Record<string, [number, number]> = {
  "in-01": [3, 0],
  "in-05": [3, 0],
  "in-09": [3, 0],
  "in-13": [2, 1],
  "out-1": [3, 0],
  "out-5": [3, 0],
  "out-2": [3, 0],
  "out-6": [3, 0],
  "out-7": [3, 0],
  "out-3": [3, 0],
};
const clear = runs(base, clearChanges);
const targeted = ["in-01", "in-05", "in-09"];

describe("decide: paper rule against statistical rule", () => {
  it("disagree when noise alone makes Δ > 0: paper accepts, statistical does not", () => {
    const paper = decide({ ...noise, heldOut, targeted: [], config: gateConfig({ rule: "paper" }) });
    const statistical = decide({ ...noise, heldOut, targeted: [], config: gateConfig() });
    expect(paper.splits.heldIn.delta).toBeGreaterThan(0);
    expect(paper.splits.heldOut.delta).toBe(0);
    expect(paper.decision).toBe("accept");
    expect(statistical.decision).not.toBe("accept");
    const improvement = statistical.checks.find((c) => c.rule === "significant improvement")!;
    expect(improvement.passed).toBe(false);
    // held-out: one task +1/3, one -1/3, the rest unchanged: no evidence either way.
    expect(statistical.splits.heldOut.pValue).toBeGreaterThan(0.5);
    expect(statistical.splits.heldOut.lossPValue).toBeGreaterThan(0.5);
  });

  it("agree on a clear improvement", () => {
    const paper = decide({ ...clear, heldOut, targeted, config: gateConfig({ rule: "paper" }) });
    const statistical = decide({ ...clear, heldOut, targeted, config: gateConfig() });
    expect(paper.decision).toBe("accept");
    expect(statistical.decision).toBe("accept");
    expect(statistical.checks.every((c) => c.passed)).toBe(true);
    expect(statistical.overall.pValue).toBeLessThan(0.001);
    expect(statistical.splits.heldOut.pValue).toBeLessThan(0.03);
    expect(statistical.targeted?.tasks).toBe(3);
    expect(statistical.targeted?.delta).toBeCloseTo(1, 12);
    expect(statistical.design).toBe("fixed");
    expect(statistical.next).toBeNull();
  });

  it("weighs the tasks it is given weights for, in the one look", () => {
    // What earlier runs of the base showed: the same record as this baseline.
    const weights = new Map(Object.entries(base).map(([task, [passes, fails]]) => [task, passes === 0 ? 3 : fails === 0 ? 1 : 2]));
    const plain = decide({ ...clear, heldOut, targeted, config: gateConfig() });
    const weighted = decide({ ...clear, heldOut, targeted, config: gateConfig(), weights });
    expect([plain.weighted, weighted.weighted]).toEqual([false, true]);
    // Most of the gain is on tasks the base never passed.
    expect(weighted.looks[0]!.nominalP).toBeLessThan(plain.looks[0]!.nominalP);
    expect(weighted.decision).toBe("accept");
  });

  it("gives one reason per rule", () => {
    const statistical = decide({ ...clear, heldOut, targeted, config: gateConfig() });
    expect(statistical.reasons).toHaveLength(statistical.checks.length);
    expect(statistical.checks.map((c) => c.rule)).toEqual(["valid trials", "no hard regression", "held-in no loss", "held-out no loss", "significant improvement"]);
    const paper = decide({ ...clear, heldOut, targeted, config: gateConfig({ rule: "paper" }) });
    expect(paper.checks.map((c) => c.rule)).toEqual(["valid trials", "held-in not worse", "held-out not worse", "improvement"]);
  });

  it("calls a lost task a hard regression only when its trials show it, and then rejects what the paper rule lets through", () => {
    // in-04 goes from 3/3 to 0/3: Fisher p = 1/20, not enough at alpha 0.03 over every task that could show a loss.
    const few = runs(base, { ...Object.fromEntries(Object.keys(clearChanges).map((t) => [t, clearChanges[t]!])), "in-04": [0, 3] });
    const shown = decide({ ...few, heldOut, targeted, config: gateConfig() });
    const flip = shown.flips.find((f) => f.task === "in-04")!;
    expect(flip).toMatchObject({ hardRegression: false, baseline: { passes: 3, valid: 3 }, candidate: { passes: 0, valid: 3 }, delta: -1 });
    expect(flip.lossPValue).toBeCloseTo(1 / 20, 12);
    expect(shown.checks.find((c) => c.rule === "no hard regression")!.passed).toBe(true);

    // Six trials a side, 6/6 to 0/6: p = 1/924, a hard regression.
    const many = { baseline: [...few.baseline.filter((t) => t.task !== "in-04"), ...side({ "in-04": [6, 0] }, "base")], candidate: [...few.candidate.filter((t) => t.task !== "in-04"), ...side({ "in-04": [0, 6] }, "cand")] };
    const paper = decide({ ...many, heldOut, targeted, config: gateConfig({ rule: "paper" }) });
    const statistical = decide({ ...many, heldOut, targeted, config: gateConfig() });
    expect(paper.decision).toBe("accept");
    expect(statistical.decision).toBe("reject");
    expect(statistical.flips.find((f) => f.task === "in-04")).toMatchObject({ hardRegression: true, lossPValue: expect.closeTo(1 / 924, 9) });
    expect(statistical.reasons.join("\n")).toContain("hard regression: in-04 (baseline 6/6, candidate 0/6, p = 0.001)");
  });

  it("rejects when held-out tasks lose beyond the margin with significance, even though the targeted ones improve", () => {
    const worse = runs(base, { "in-01": [3, 0], "in-05": [3, 0], "in-09": [3, 0], "out-0": [0, 3], "out-4": [0, 3], "out-3": [0, 3], "out-7": [0, 3] });
    const verdict = decide({ ...worse, heldOut, targeted, config: gateConfig() });
    expect(verdict.decision).toBe("reject");
    const loss = verdict.checks.find((c) => c.rule === "held-out no loss")!;
    expect(loss.passed).toBe(false);
    expect(loss.reason).toMatch(/^held-out loss: Δ -41\.7 pts over 8 tasks \(held-out tasks\), p = 0\.002 for a loss, below -5\.0 pts and significant at 0\.03$/);
  });

  it("reports a held-out drop the data cannot show yet, with its p-value, without vetoing", () => {
    const worse = runs(base, { "in-01": [3, 0], "in-05": [3, 0], "in-09": [3, 0], "out-2": [0, 3], "out-3": [1, 2], "out-6": [0, 3], "out-7": [1, 2] });
    const verdict = decide({ ...worse, heldOut, targeted, config: gateConfig() });
    const loss = verdict.checks.find((c) => c.rule === "held-out no loss")!;
    expect(verdict.splits.heldOut.delta).toBeCloseTo(-4 / 3 / 8, 12);
    expect(loss.passed).toBe(true);
    expect(loss.reason).toMatch(/held-out no loss: Δ -16\.7 pts over 8 tasks \(held-out tasks\), p = 0\.\d{3} for a loss; a loss vetoes when p ≤ 0\.03 and Δ < -5\.0 pts/);
    expect(verdict.splits.heldOut.lossPValue).toBeGreaterThan(0.03);
  });
});

describe("decide: invalid trials", () => {
  it("leaves invalid trials out of the pass fractions and lists them", () => {
    const withInvalid = {
      baseline: [...clear.baseline, trial("in-07", "invalid", { run: "base", attempt: 4, kind: "environment_setup" })],
      candidate: [...clear.candidate, trial("out-1", "invalid", { run: "cand", attempt: 4, kind: "verifier_timeout" })],
    };
    const plain = decide({ ...clear, heldOut, targeted, config: gateConfig() });
    const verdict = decide({ ...withInvalid, heldOut, targeted, config: gateConfig() });
    expect(verdict.splits).toEqual(plain.splits);
    expect(verdict.decision).toBe("accept");
    expect(verdict.invalid).toEqual([
      { trial: "base/in-07__4", task: "in-07", side: "baseline", kind: "environment_setup" },
      { trial: "cand/out-1__4", task: "out-1", side: "candidate", kind: "verifier_timeout" },
    ]);
    expect(verdict.reasons[0]).toContain("2 invalid trials excluded");
  });

  it("is inconclusive when a targeted task has no valid trial", () => {
    const candidate = [...clear.candidate.filter((t) => t.task !== "in-05"), ...[1, 2, 3].map((attempt) => trial("in-05", "invalid", { run: "cand", attempt, kind: "agent_install" }))];
    for (const rule of ["paper", "statistical"] as const) {
      const verdict = decide({ baseline: clear.baseline, candidate, heldOut, targeted, config: gateConfig({ rule }) });
      expect(verdict.decision).toBe("inconclusive");
      expect(verdict.unpaired).toEqual([{ task: "in-05", missing: ["candidate"] }]);
      expect(verdict.reasons[0]).toContain("targeted task in-05 (no valid trial on the candidate side)");
      expect(verdict.invalid.filter((i) => i.task === "in-05")).toHaveLength(3);
    }
  });

  it("is inconclusive when a targeted task was not run at all", () => {
    const candidate = clear.candidate.filter((t) => t.task !== "in-09");
    const verdict = decide({ baseline: clear.baseline, candidate, heldOut, targeted, config: gateConfig() });
    expect(verdict.decision).toBe("inconclusive");
    expect(verdict.unpaired).toEqual([{ task: "in-09", missing: ["candidate"] }]);
  });

  it("tolerates unpaired tasks up to maxInvalidTaskShare, and no more", () => {
    const invalidate = (tasks: string[]) => [
      ...clear.candidate.filter((t) => !tasks.includes(t.task)),
      ...tasks.map((task) => trial(task, "invalid", { run: "cand", kind: "docker_pull" })),
    ];
    const two = decide({ baseline: clear.baseline, candidate: invalidate(["in-14", "in-15"]), heldOut, targeted, config: gateConfig() });
    expect(two.unpaired.map((u) => u.task)).toEqual(["in-14", "in-15"]);
    expect(two.decision).toBe("accept"); // 2 of 24 = 8.3% ≤ 10%
    expect(two.splits.heldIn.tasks).toBe(14);
    const three = decide({ baseline: clear.baseline, candidate: invalidate(["in-14", "in-15", "out-4"]), heldOut, targeted, config: gateConfig() });
    expect(three.decision).toBe("inconclusive"); // 3 of 24 = 12.5%
    expect(three.reasons[0]).toContain("3 of 24 tasks (12.5%, above 10.0%)");
  });

  it("is inconclusive when no task can be compared", () => {
    const verdict = decide({ baseline: [], candidate: clear.candidate, heldOut, targeted: [], config: gateConfig({ maxInvalidTaskShare: 1 }) });
    expect(verdict.decision).toBe("inconclusive");
  });
});

describe("decide: splits and tests", () => {
  it("puts every task in one split without held-out tasks and tests all of them", () => {
    const verdict = decide({ ...clear, heldOut: [], targeted: [], config: gateConfig() });
    expect(verdict.splits.heldOut).toMatchObject({ tasks: 0, pValue: null, lossPValue: null });
    expect(verdict.splits.heldIn.tasks).toBe(24);
    expect(verdict.overall.tasks).toBe(24);
    expect(verdict.decision).toBe("accept");
    expect(verdict.reasons.at(-1)).toMatch(/^significant improvement: all 24 tasks Δ \+31\.9 pts: the candidate passed \d+ trials where [\d.]+ were expected under no difference, p < 0\.001 at the first look/);
  });

  it("is exact McNemar with one trial per task and side, and one flip is no hard regression", () => {
    const tasks = Array.from({ length: 20 }, (_, i) => `t${i}`);
    const baseline = tasks.map((task, i) => trial(task, i < 8 ? "pass" : "fail", { run: "base" }));
    // 8 fail → pass, 1 pass → fail
    const candidate = tasks.map((task, i) => trial(task, i === 0 ? "fail" : i < 16 ? "pass" : "fail", { run: "cand" }));
    const verdict = decide({ baseline, candidate, heldOut: [], targeted: [], config: gateConfig() });
    expect(verdict.overall.gained).toBe(8);
    expect(verdict.overall.lost).toBe(1);
    // P(at least 8 of 9 discordant pairs) = 10 / 512
    expect(verdict.overall.pValue).toBeCloseTo(10 / 512, 12);
    expect(verdict.flips.find((f) => f.task === "t0")).toMatchObject({ delta: -1, hardRegression: false, lossPValue: 0.5 });
    expect(verdict.decision).toBe("accept");
  });

  it("counts several runs of the same task as trials", () => {
    const baseline = [...side({ a: [1, 0], b: [0, 1] }, "base-1"), ...side({ a: [0, 1], b: [0, 1] }, "base-2")];
    const candidate = side({ a: [2, 0], b: [1, 1] }, "cand");
    const verdict = decide({ baseline, candidate, heldOut: [], targeted: [], config: gateConfig() });
    expect(verdict.splits.heldIn.baseline).toBeCloseTo(0.25, 12);
    expect(verdict.splits.heldIn.candidate).toBeCloseTo(0.75, 12);
    expect(verdict.flips.map((f) => [f.task, f.baseline, f.candidate])).toEqual([
      ["a", { passes: 1, valid: 2 }, { passes: 2, valid: 2 }],
      ["b", { passes: 0, valid: 2 }, { passes: 1, valid: 2 }],
    ]);
  });

  it("counts a task the baseline ran and the candidate did not, unless the task list leaves it out", () => {
    const baseline = [...clear.baseline, ...side({ "only-in-eval": [3, 0] }, "base")];
    const verdict = decide({ baseline, candidate: clear.candidate, heldOut, targeted, config: gateConfig() });
    expect(verdict.unpaired).toEqual([{ task: "only-in-eval", missing: ["candidate"] }]);
    expect(verdict.reasons[0]).toContain("1 task left out (only-in-eval (not run on the candidate side))");
    const listed = decide({ baseline, candidate: clear.candidate, heldOut, targeted, tasks: [...heldIn, ...heldOut], config: gateConfig() });
    expect(listed.unpaired).toEqual([]);
    expect(listed.overall.tasks).toBe(24);
  });

  it("does not let the paper rule accept a candidate that skipped the baseline's tasks", () => {
    // The candidate ran 18 of the 24 tasks, all of them at least as well as the baseline.
    const skipped = ["in-00", "in-04", "in-08", "in-12", "out-0", "out-4"];
    const candidate = clear.candidate.filter((t) => !skipped.includes(t.task));
    const verdict = decide({ baseline: clear.baseline, candidate, heldOut, targeted, config: gateConfig({ rule: "paper" }) });
    expect(verdict.decision).toBe("inconclusive");
    expect(verdict.unpaired.map((u) => u.task)).toEqual(skipped);
    expect(verdict.reasons[0]).toContain("6 of 24 tasks (25.0%, above 10.0%) cannot be compared: in-00 (not run on the candidate side)");
  });

  it("is deterministic and serializes to JSON", () => {
    const a = decide({ ...noise, heldOut, targeted: [], config: gateConfig({ seed: 9 }) });
    const b = decide({ ...noise, heldOut, targeted: [], config: gateConfig({ seed: 9 }) });
    expect(JSON.parse(JSON.stringify(a))).toEqual(b);
  });

  it("gives a split of one unchanged task an interval as wide as one task allows, not a point that passes any margin", () => {
    const baseline = side({ a: [1, 0], b: [0, 1], c: [1, 0] }, "base");
    const candidate = side({ a: [1, 0], b: [1, 0], c: [1, 0] }, "cand");
    const verdict = decide({ baseline, candidate, heldOut: ["c"], targeted: [], config: gateConfig() });
    expect(verdict.splits.heldOut).toMatchObject({ tasks: 1, delta: 0 });
    expect(verdict.splits.heldOut.interval[0]).toBeLessThan(-0.4);
    expect(verdict.splits.heldOut.interval[1]).toBeGreaterThan(0.4);
  });
});

describe("decide: A/A pairs (two runs of the same harness)", () => {
  it("the statistical rule almost never accepts, the paper rule accepts whenever Δ ≥ 0 with one Δ > 0", () => {
    const random = mulberry32(42);
    const tasks = Array.from({ length: 30 }, (_, i) => `task-${i}`);
    const held = tasks.slice(0, 9);
    let statisticalAccepts = 0;
    let positive = 0;
    let paperAccepts = 0;
    for (let pair = 0; pair < 60; pair++) {
      const p = tasks.map(() => random());
      const draw = (run: string) => tasks.flatMap((task, i) => [1, 2, 3].map((attempt) => trial(task, random() < p[i]! ? "pass" : "fail", { run, attempt })));
      const baseline = draw("base");
      const candidate = draw("cand");
      const paper = decide({ baseline, candidate, heldOut: held, targeted: [], config: gateConfig({ rule: "paper" }) });
      const statistical = decide({ baseline, candidate, heldOut: held, targeted: [], config: gateConfig() });
      const { heldIn, heldOut: out } = paper.splits;
      const deltaPositive = heldIn.delta >= 0 && out.delta >= 0 && (heldIn.delta > 0 || out.delta > 0);
      if (deltaPositive) positive++;
      if (paper.decision === "accept") paperAccepts++;
      expect(paper.decision).toBe(deltaPositive ? "accept" : "reject");
      if (statistical.decision === "accept") statisticalAccepts++;
    }
    expect(positive).toBeGreaterThan(5); // noise alone often makes both Δ ≥ 0
    expect(paperAccepts).toBe(positive);
    expect(statisticalAccepts).toBeLessThanOrEqual(3); // at most 5% of 60 pairs
  });
});

describe("decide: one improvement test over every task", () => {
  it("accepts three targeted and five held-out tasks that all improve, which no split could show alone", () => {
    const tasks = ["in-a", "in-b", "in-c", "out-a", "out-b", "out-c", "out-d", "out-e"];
    const pair = { baseline: side(Object.fromEntries(tasks.map((t) => [t, [0, 1]])), "base"), candidate: side(Object.fromEntries(tasks.map((t) => [t, [1, 0]])), "cand") };
    const verdict = decide({ ...pair, heldOut: tasks.slice(3), targeted: tasks.slice(0, 3), config: gateConfig() });
    expect(verdict.targeted?.pValue).toBeCloseTo(1 / 8, 12);
    expect(verdict.splits.heldOut.pValue).toBeCloseTo(1 / 32, 12);
    expect(verdict.overall.pValue).toBeCloseTo(1 / 256, 12);
    expect(verdict.decision).toBe("accept");
  });
});

import { describe, expect, it } from "vitest";
import { validateConfig } from "../../src/config/load.js";
import type { GateConfig } from "../../src/config/schema.js";
import { poolCounts, type PairCounts } from "../../src/gate/counts.js";
import { judge, judgeCounts, type JudgeConfig } from "../../src/gate/judge.js";
import { mulberry32 } from "../../src/gate/random.js";
import { firstStage } from "../../src/gate/sequential.js";
import { simulateValidation } from "../../src/gate/simulate.js";
import type { StageTrials } from "../../src/gate/types.js";
import type { Outcome, Trial } from "../../src/traces/types.js";
import { trial } from "./trials.js";

function gateConfig(overrides: Partial<GateConfig> = {}): GateConfig {
  const result = validateConfig({});
  if (!result.ok) throw new Error("default configuration must be valid");
  return { ...result.config.gate, ...overrides };
}

const TASKS = Array.from({ length: 24 }, (_, i) => `task-${String(i).padStart(2, "0")}`);

/** One trial a task per side, from per-task outcomes; `run` names the run the trials came from. */
function stage(baseline: (i: number) => Outcome, candidate: (i: number) => Outcome, run = "1", attempt = 1, tasks = TASKS): StageTrials {
  return {
    baseline: tasks.map((t, i) => trial(t, baseline(i), { run: `base-${run}`, attempt })),
    candidate: tasks.map((t, i) => trial(t, candidate(i), { run: `cand-${run}`, attempt })),
  };
}

describe("judge: a staged validation", () => {
  it("asks for a second stage on the tasks that disagreed, within the budget, rather than rejecting", () => {
    // 6 gained, 1 lost, the rest agree.
    const first = stage((i) => (i < 8 ? "pass" : "fail"), (i) => (i === 7 ? "fail" : i < 14 ? "pass" : "fail"));
    const verdict = judge({ stages: [first], heldOut: [], targeted: [], config: gateConfig() });
    expect(verdict.decision).toBe("needs-more-evidence");
    expect(verdict.design).toBe("adaptive");
    expect(verdict.budget).toEqual({ total: 84, spent: 48 });
    expect(verdict.next).toEqual({ stage: 2, tasks: ["task-07", "task-08", "task-09", "task-10", "task-11", "task-12", "task-13"], trials: 2, cost: 28 });
    expect(verdict.looks).toHaveLength(1);
    expect(verdict.looks[0]).toMatchObject({ look: 1, observed: 13, crossed: false });
    expect(verdict.looks[0]!.fraction).toBeCloseTo(48 / 84, 12);
  });

  it("accepts at the second look when the disagreeing tasks keep favouring the candidate, counting every trial", () => {
    const first = stage((i) => (i < 8 ? "pass" : "fail"), (i) => (i === 7 ? "fail" : i < 14 ? "pass" : "fail"));
    const again = ["task-07", "task-08", "task-09", "task-10", "task-11", "task-12", "task-13"];
    const second: StageTrials = {
      baseline: again.flatMap((t) => [trial(t, "fail", { run: "base-2", attempt: 2 }), trial(t, t === "task-07" ? "pass" : "fail", { run: "base-2", attempt: 3 })]),
      candidate: again.flatMap((t) => [trial(t, "pass", { run: "cand-2", attempt: 2 }), trial(t, "pass", { run: "cand-2", attempt: 3 })]),
    };
    const verdict = judge({ stages: [first, second], heldOut: [], targeted: [], config: gateConfig() });
    expect(verdict.decision).toBe("accept");
    expect(verdict.looks).toHaveLength(2);
    expect(verdict.looks[1]).toMatchObject({ crossed: true });
    expect(verdict.budget.spent).toBe(76);
    expect(verdict.flips.find((f) => f.task === "task-08")).toMatchObject({ baseline: { passes: 0, valid: 3 }, candidate: { passes: 3, valid: 3 } });
    // task-07 lost its first pair and won one of the next two: 2/3 each side, no longer a change.
    expect(verdict.flips.some((f) => f.task === "task-07")).toBe(false);
  });

  it("accepts at the first look when the evidence is already decisive, and spends nothing more", () => {
    const decisive = stage(() => "fail", (i) => (i < 20 ? "pass" : "fail"));
    const verdict = judge({ stages: [decisive], heldOut: [], targeted: [], config: gateConfig() });
    expect(verdict.decision).toBe("accept");
    expect(verdict.next).toBeNull();
    expect(verdict.looks[0]!.fraction).toBeLessThan(1);
  });

  it("re-runs tasks whose only trial was invalid instead of calling the validation inconclusive", () => {
    const withInvalid = stage((i) => (i < 8 ? "pass" : "fail"), (i) => (i < 3 ? "invalid" : i < 8 ? "pass" : "fail"));
    const verdict = judge({ stages: [withInvalid], heldOut: [], targeted: ["task-01"], config: gateConfig() });
    expect(verdict.decision).toBe("needs-more-evidence");
    expect(verdict.checks[0]).toMatchObject({ rule: "valid trials", passed: false });
    expect(verdict.next?.tasks).toEqual(["task-00", "task-01", "task-02"]);
    // The same trials with no stage left are inconclusive.
    const fixed = judge({ stages: [withInvalid], heldOut: [], targeted: ["task-01"], config: gateConfig({ sequential: { enabled: false, stages: [1], budget: 2 } }) });
    expect(fixed.decision).toBe("inconclusive");
  });

  it("rejects at any look when the data show harm", () => {
    // Eight tasks the baseline passes three times out of three, lost entirely; four others gained.
    const three = (outcome: (i: number) => Outcome, side: string) => TASKS.flatMap((t, i) => [1, 2, 3].map((attempt) => trial(t, outcome(i), { run: side, attempt })));
    const verdict = judge({
      stages: [{ baseline: three((i) => (i < 8 ? "pass" : "fail"), "base"), candidate: three((i) => (i < 8 ? "fail" : i < 12 ? "pass" : "fail"), "cand") }],
      heldOut: [],
      targeted: [],
      config: gateConfig({ sequential: { enabled: true, stages: [3, 2], budget: 10 } }),
    });
    expect(verdict.decision).toBe("reject");
    expect(verdict.next).toBeNull();
    expect(verdict.checks.find((c) => c.rule === "held-in no loss")).toMatchObject({ passed: false });
  });

  it("once the budget is spent, rejects an edit whose gain is ruled out, and leaves one that may have it to a person", () => {
    const many = Array.from({ length: 80 }, (_, i) => `t${i}`);
    const agree = stage((i) => (i < 30 ? "pass" : "fail"), (i) => (i < 30 ? "pass" : "fail"), "1", 1, many);
    const flat = judge({ stages: [agree], heldOut: [], targeted: [], config: gateConfig() });
    // Nothing disagrees, so no stage can follow: 80 agreeing tasks rule out +10 points.
    expect(flat.next).toBeNull();
    expect(flat.decision).toBe("reject");
    expect(flat.checks.at(-1)).toMatchObject({ rule: "minimum effect", passed: false });

    const few = stage((i) => (i < 3 ? "pass" : "fail"), (i) => (i < 5 ? "pass" : "fail"), "1", 1, TASKS.slice(0, 8));
    const open = judge({ stages: [few], heldOut: [], targeted: [], config: gateConfig({ sequential: { enabled: true, stages: [1], budget: 2 } }) });
    expect(open).toMatchObject({ decision: "needs-more-evidence", next: null });
    expect(open.checks.at(-1)).toMatchObject({ rule: "minimum effect", passed: true });
  });
});

describe("judge: pooled evidence", () => {
  const first = stage((i) => (i < 8 ? "pass" : "fail"), (i) => (i === 7 ? "fail" : i < 14 ? "pass" : "fail"));

  it("does not depend on which run a trial came from: a stage split over retried runs judges the same", () => {
    const split = (trials: readonly Trial[], side: string) => trials.map((t, i) => ({ ...t, run: `${side}-retry-${i % 3}`, id: `${side}-retry-${i % 3}/${t.task}__x` }));
    const whole = judge({ stages: [first], heldOut: [], targeted: [], config: gateConfig() });
    const retried = judge({ stages: [{ baseline: split(first.baseline, "b"), candidate: split(first.candidate, "c") }], heldOut: [], targeted: [], config: gateConfig() });
    expect(retried).toEqual(whole);
  });

  it("counts a retry's trials with the stage they belong to", () => {
    // The candidate's run of stage 1 lost task-00..03 to the infrastructure; the retry ran them.
    const lost = stage((i) => (i < 8 ? "pass" : "fail"), (i) => (i < 4 ? "invalid" : i === 7 ? "fail" : i < 14 ? "pass" : "fail"));
    const retry = TASKS.slice(0, 4).map((t) => trial(t, "pass", { run: "cand-retry", attempt: 2 }));
    const verdict = judge({ stages: [{ baseline: lost.baseline, candidate: [...lost.candidate, ...retry] }], heldOut: [], targeted: [], config: gateConfig() });
    expect(verdict.unpaired).toEqual([]);
    expect(verdict.invalid).toHaveLength(4);
    expect(verdict.overall.tasks).toBe(24);
  });
});

describe("judge: a stage run again", () => {
  const single = () => gateConfig({ sequential: { enabled: true, stages: [1], budget: 2 } });
  // A narrow first round: the last look, with most of alpha left unused by the discrete boundary.
  const first = stage((i) => (i % 2 === 0 ? "pass" : "fail"), (i) => (i % 2 === 0 ? (i < 6 ? "fail" : "pass") : i < 10 ? "pass" : "fail"));
  const again = stage((i) => (i < 12 ? "pass" : "fail"), (i) => (i < 19 ? "pass" : "fail"), "2", 2);

  it("takes a look of its own, with the alpha the earlier looks left unused", () => {
    const once = judge({ stages: [first], heldOut: [], targeted: [], config: single() });
    expect(once).toMatchObject({ decision: "needs-more-evidence", next: null });
    const left = 0.03 - once.looks[0]!.alphaUsed;
    expect(left).toBeGreaterThan(0.02);

    const twice = judge({ stages: [{ ...first, stage: 1 }, { ...again, stage: 1 }], heldOut: [], targeted: [], config: single() });
    expect(twice.looks).toHaveLength(2);
    expect(twice.looks[1]).toMatchObject({ fraction: 1, crossed: true });
    expect(twice.looks[1]!.nominalThreshold!).toBeLessThanOrEqual(left);
    expect(twice.looks[1]!.alphaUsed).toBeLessThanOrEqual(0.03);
    expect(twice.decision).toBe("accept");
    expect(twice.budget.spent).toBe(96);
  });

  it("takes no look where the gate could not have accepted, so a repeat after an inconclusive verdict keeps all of alpha", () => {
    // Half the tasks lost every trial to the infrastructure on the candidate's side.
    const broken = stage(() => "pass", (i) => (i < 12 ? "invalid" : "pass"));
    const once = judge({ stages: [{ ...broken, stage: 1 }], heldOut: [], targeted: [], config: single() });
    expect(once.decision).toBe("inconclusive");
    expect(once.looks).toEqual([]);
    const clean = stage((i) => (i < 6 ? "pass" : "fail"), (i) => (i < 18 ? "pass" : "fail"), "2", 2);
    const twice = judge({ stages: [{ ...broken, stage: 1 }, { ...clean, stage: 1 }], heldOut: [], targeted: [], config: single() });
    expect(twice.looks).toHaveLength(1);
    expect(twice.looks[0]).toMatchObject({ fraction: 1, alphaSpent: 0.03, crossed: true });
    expect(twice.decision).toBe("accept");
  });

  it("keeps each round's trials a stratum of their own in a look that follows a skipped round", () => {
    // Round 1 cannot be judged (the targeted task has no valid candidate trial); `t` disagreed in it, so
    // round 2 ran it again. Which tasks round 2 runs depends on round 1's outcomes, so the look must not
    // pool `t`'s trials of both rounds into one stratum: that would treat them as exchangeable.
    const side = (passes: number, valid: number, invalid = 0) => ({ passes, valid, invalid });
    const round1 = new Map([
      ["a", { baseline: side(0, 1), candidate: side(0, 0, 1) }],
      ["t", { baseline: side(0, 1), candidate: side(1, 1) }],
    ]);
    const round2 = new Map([
      ["a", { baseline: side(0, 2), candidate: side(0, 2) }],
      ["t", { baseline: side(0, 2), candidate: side(2, 2) }],
    ]);
    const config = gateConfig({ sequential: { enabled: true, stages: [1, 2], budget: 20 } });
    const verdict = judgeCounts({ stages: [round1, round2], tasks: ["a", "t"], heldOut: [], targeted: ["a"], config, invalid: [] });
    expect(verdict.looks).toHaveLength(1);
    // t: round 1's pass is the candidate's with probability 1/2, and both of round 2's passes are with
    // probability 1/6 (two of four trials): 1/12. Pooled as three trials a side, it would read 1/20.
    expect(verdict.looks[0]!.nominalP).toBeCloseTo(1 / 12, 10);
  });

  it("plans from the budget the validation started with, not from a config changed since", () => {
    const config = gateConfig();
    const recorded = judge({ stages: [first], budget: 200, heldOut: [], targeted: [], config });
    expect(recorded.budget.total).toBe(200);
    expect(recorded.looks[0]!.fraction).toBeCloseTo(48 / 200, 12);
    expect(judge({ stages: [first], heldOut: [], targeted: [], config }).budget.total).toBe(84);
  });
});

describe("judge: the false-accept rate of the whole staged procedure", () => {
  /** Every outcome of a two-stage validation of three tasks, with its probability, through judgeCounts. */
  function acceptChance(p: number[], q: number[], config: JudgeConfig, weights?: ReadonlyMap<string, number>): number {
    const tasks = ["a", "b", "c"];
    const side = (pass: boolean) => ({ passes: pass ? 1 : 0, valid: 1, invalid: 0 });
    const none = { passes: 0, valid: 0, invalid: 0 };
    const outcomes = (running: string[]) =>
      Array.from({ length: 4 ** running.length }, (_, code) => {
        let probability = 1;
        const counts = new Map<string, PairCounts>(tasks.map((t) => [t, { baseline: none, candidate: none }]));
        running.forEach((task, k) => {
          const i = tasks.indexOf(task);
          const b = ((code >> (2 * k)) & 1) === 1;
          const c = ((code >> (2 * k + 1)) & 1) === 1;
          probability *= (b ? p[i]! : 1 - p[i]!) * (c ? q[i]! : 1 - q[i]!);
          counts.set(task, { baseline: side(b), candidate: side(c) });
        });
        return { probability, counts };
      });
    let accepted = 0;
    for (const one of outcomes(tasks)) {
      const verdict = judgeCounts({ stages: [one.counts], tasks, heldOut: [], targeted: [], config, invalid: [], ...(weights ? { weights } : {}) });
      if (verdict.decision === "accept") accepted += one.probability;
      if (!verdict.next) continue;
      for (const two of outcomes(verdict.next.tasks)) {
        if (judgeCounts({ stages: [one.counts, two.counts], tasks, heldOut: [], targeted: [], config, invalid: [], ...(weights ? { weights } : {}) }).decision === "accept") accepted += one.probability * two.probability;
      }
    }
    return accepted;
  }

  it("stays within alpha over every outcome, with the second stage chosen from the first", () => {
    const config: JudgeConfig = { ...gateConfig(), alpha: 0.25, sequential: { enabled: true, stages: [1, 1], budget: 4 } };
    for (const p of [[0.3, 0.5, 0.8], [0.5, 0.5, 0.5], [0.1, 0.9, 0.6]]) {
      const noChange = acceptChance(p, p, config);
      expect(noChange).toBeLessThanOrEqual(0.25);
      expect(noChange).toBeGreaterThan(0);
      expect(acceptChance(p, [0.95, 0.95, 0.95], config)).toBeGreaterThan(2 * noChange);
    }
  });

  it("stays within alpha with weighted tasks, and a gain where the base fails counts for more", () => {
    const config: JudgeConfig = { ...gateConfig(), alpha: 0.25, sequential: { enabled: true, stages: [1, 1], budget: 4 } };
    const weights = new Map([["a", 3], ["b", 1], ["c", 2]]);
    for (const p of [[0.1, 0.9, 0.5], [0.5, 0.5, 0.5], [0.9, 0.1, 0.3]]) expect(acceptChance(p, p, config, weights)).toBeLessThanOrEqual(0.25);
    // The base rarely passes a (weight 3): the edit fixes it.
    const p = [0.1, 0.9, 0.5];
    const q = [0.8, 0.9, 0.5];
    expect(acceptChance(p, q, config, weights)).toBeGreaterThan(acceptChance(p, q, config) + 0.05);
  });

  it("accepts few A/A pairs over many simulated validations", () => {
    const random = mulberry32(2026);
    let accepted = 0;
    const runs = 300;
    for (let i = 0; i < runs; i++) {
      const tasks = Array.from({ length: 20 }, (_, k) => {
        const p = random() < 0.5 ? (random() < 0.5 ? 0 : 1) : random();
        return { task: `t${k}`, baseline: p, candidate: p };
      });
      if (simulateValidation({ tasks, heldOut: [], targeted: [], config: gateConfig({ alpha: 0.1 }), fixedTrials: 3, invalidRate: 0.08, random }).decision === "accept") accepted++;
    }
    // At most alpha = 10%, with two standard errors of sampling slack.
    expect(accepted / runs).toBeLessThanOrEqual(0.1 + 2 * Math.sqrt(0.09 / runs));
  });
  it("stays within alpha when a person runs the last stage again nine times, where a repeat pooled into its stage would not", () => {
    const config = gateConfig();
    const runs = 4000;
    const simulate = (pooled: boolean) => {
      const random = mulberry32(11);
      let accepted = 0;
      for (let i = 0; i < runs; i++) {
        const tasks = Array.from({ length: 20 }, (_, k) => {
          const p = random() < 0.5 ? (random() < 0.5 ? 0 : 1) : random();
          return { task: `t${k}`, baseline: p, candidate: p };
        });
        const input = { tasks, heldOut: [], targeted: [], config, fixedTrials: 3, invalidRate: 0.08, random, repeats: 9 };
        if ((pooled ? simulatePooledRepeats(input) : simulateValidation(input).decision) === "accept") accepted++;
      }
      return accepted / runs;
    };
    // alpha with two standard errors of sampling slack; without a look per round the repeats cross it.
    const bound = config.alpha + 2 * Math.sqrt((config.alpha * (1 - config.alpha)) / runs);
    expect(simulate(false)).toBeLessThanOrEqual(bound);
    expect(simulate(true)).toBeGreaterThan(bound);
  });
});

/**
 * `simulateValidation` as the gate would run it if a repeat's trials joined its stage's one look: each
 * repeat then gets a fresh look with the stage's whole alpha.
 */
function simulatePooledRepeats(input: Parameters<typeof simulateValidation>[0] & { repeats: number }): string {
  const names = input.tasks.map((t) => t.task);
  const draw = (trials: number, pass: number) => {
    const counts = { passes: 0, valid: 0, invalid: 0 };
    for (let k = 0; k < trials; k++) {
      if (input.random() < input.invalidRate) counts.invalid++;
      else {
        counts.valid++;
        if (input.random() < pass) counts.passes++;
      }
    }
    return counts;
  };
  const none = { passes: 0, valid: 0, invalid: 0 };
  const stages: Map<string, PairCounts>[] = [];
  let plan = firstStage(names, input.config, input.fixedTrials);
  let repeats = input.repeats;
  for (;;) {
    const running = new Set(plan.tasks);
    const round = new Map(input.tasks.map((t) => [t.task, running.has(t.task) ? { baseline: draw(plan.trials, t.baseline), candidate: draw(plan.trials, t.candidate) } : { baseline: none, candidate: none }]));
    if (stages.length === plan.stage) stages[plan.stage - 1] = poolCounts([stages[plan.stage - 1]!, round], names);
    else stages.push(round);
    const verdict = judgeCounts({ stages, tasks: names, heldOut: [], targeted: [], config: input.config, invalid: [] });
    if (verdict.next) plan = verdict.next;
    else if (repeats > 0 && (verdict.decision === "needs-more-evidence" || verdict.decision === "inconclusive")) repeats--;
    else return verdict.decision;
  }
}


describe("judge: hostile input", () => {
  it("refuses, quickly and in words, more trials than one verdict compares", () => {
    const many = Array.from({ length: 12_000 }, (_, k) => trial(`t${k % 7}`, k % 3 === 0 ? "pass" : "fail", { run: "flood", attempt: k }));
    const started = performance.now();
    const verdict = judge({ stages: [{ baseline: many, candidate: many }], heldOut: [], targeted: [], config: gateConfig() });
    expect(performance.now() - started).toBeLessThan(2000);
    expect(verdict.decision).toBe("inconclusive");
    expect(verdict.reasons).toEqual(["valid trials: 24000 valid trials, more than the 20000 one verdict compares; pass fewer runs"]);
  });
});

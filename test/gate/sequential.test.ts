import { describe, expect, it } from "vitest";
import type { PairCounts } from "../../src/gate/counts.js";
import { firstStage, planNextStage, undecidedTasks, validationBudget } from "../../src/gate/sequential.js";

const counts = (b: [number, number, number?], c: [number, number, number?]): PairCounts => ({
  baseline: { passes: b[0], valid: b[1], invalid: b[2] ?? 0 },
  candidate: { passes: c[0], valid: c[1], invalid: c[2] ?? 0 },
});

const sequential = { enabled: true, stages: [1, 2, 2], budget: 3.5 };
const config = { sequential, seed: 1 };

describe("undecidedTasks", () => {
  it("keeps tasks whose outcomes disagree or that lack a valid trial on a side, and drops those that agree", () => {
    const pooled = new Map([
      ["both-pass", counts([1, 1], [1, 1])],
      ["both-fail", counts([0, 1], [0, 1])],
      ["gained", counts([0, 1], [1, 1])],
      ["lost", counts([1, 1], [0, 1])],
      ["noisy-baseline", counts([1, 2], [1, 2])],
      ["invalid", counts([1, 1], [0, 0, 1])],
      ["not-run", counts([0, 0], [0, 0])],
    ]);
    expect(undecidedTasks(pooled)).toEqual(["gained", "lost", "noisy-baseline", "invalid", "not-run"]);
  });
});

describe("planNextStage", () => {
  const pooled = new Map(Array.from({ length: 12 }, (_, i) => [`t${String(i).padStart(2, "0")}`, i < 3 ? counts([0, 1], [1, 1]) : counts([0, 1], [0, 1])]));

  it("runs the schedule's trials on every undecided task, on both sides", () => {
    expect(planNextStage({ pooled, stagesRun: 1, spent: 24, budget: 42, config })).toEqual({ stage: 2, tasks: ["t00", "t01", "t02"], trials: 2, cost: 12 });
  });

  it("shrinks the trials to fit the budget, then the tasks, most informative first", () => {
    expect(planNextStage({ pooled, stagesRun: 1, spent: 24, budget: 32, config })).toMatchObject({ tasks: ["t00", "t01", "t02"], trials: 1, cost: 6 });
    const mixed = new Map([...pooled, ["t03", counts([1, 3], [2, 3])], ["t04", counts([0, 1], [0, 0, 1])]]);
    // Room for two tasks: the unpaired one first, then the most evenly split (3 passes of 6).
    expect(planNextStage({ pooled: mixed, stagesRun: 1, spent: 30, budget: 34, config })).toMatchObject({ tasks: ["t03", "t04"], trials: 1, cost: 4 });
  });

  it("ends when the schedule is done, the budget is spent or no task can still tell the sides apart", () => {
    expect(planNextStage({ pooled, stagesRun: 3, spent: 30, budget: 42, config })).toBeNull();
    expect(planNextStage({ pooled, stagesRun: 1, spent: 41, budget: 42, config })).toBeNull();
    const settled = new Map([["a", counts([1, 1], [1, 1])]]);
    expect(planNextStage({ pooled: settled, stagesRun: 1, spent: 2, budget: 42, config })).toBeNull();
  });

  it("never looks at which side passed: swapping the sides plans the same stage", () => {
    const swapped = new Map([...pooled].map(([task, c]) => [task, { baseline: c.candidate, candidate: c.baseline }]));
    for (const budget of [42, 32, 28]) expect(planNextStage({ pooled: swapped, stagesRun: 1, spent: 24, budget, config })).toEqual(planNextStage({ pooled, stagesRun: 1, spent: 24, budget, config }));
  });
});

describe("firstStage", () => {
  it("runs every task once a side when staged, `regression.trials` times when fixed or under the paper rule", () => {
    const tasks = ["b", "a", "b"];
    expect(firstStage(tasks, { rule: "statistical", sequential }, 3)).toEqual({ stage: 1, tasks: ["a", "b"], trials: 1, cost: 4 });
    expect(firstStage(tasks, { rule: "statistical", sequential: { ...sequential, enabled: false } }, 3)).toMatchObject({ trials: 3, cost: 12 });
    expect(firstStage(tasks, { rule: "paper", sequential }, 2)).toMatchObject({ trials: 2, cost: 8 });
  });
});

describe("validationBudget", () => {
  it("is the configured task-trials per task, and never less than the first stage, which runs whole", () => {
    expect(validationBudget({ sequential: { enabled: true, stages: [1, 2, 2], budget: 3.5 } }, 42)).toBe(147);
    // Stages of 2: the first alone spends 2 x 2 x 4 = 16, more than 3.5 x 4.
    const sequential = { enabled: true, stages: [2, 2], budget: 3.5 };
    expect(validationBudget({ sequential }, 4)).toBe(16);
    expect(validationBudget({ sequential }, 4)).toBe(firstStage(["a", "b", "c", "d"], { rule: "statistical", sequential }, 3).cost);
  });
});

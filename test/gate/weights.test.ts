import { describe, expect, it } from "vitest";
import { TASK_WEIGHT, taskWeights, weightsVary } from "../../src/gate/weights.js";

describe("taskWeights", () => {
  it("weighs a task by how the base fared in earlier runs: never passed 3, always passed 1, otherwise or unseen 2", () => {
    const history = new Map([
      ["never", { passes: 0, valid: 3 }],
      ["always", { passes: 2, valid: 2 }],
      ["sometimes", { passes: 1, valid: 3 }],
      // Only invalid trials: nothing is known of it.
      ["broken", { passes: 0, valid: 0 }],
    ]);
    const weights = taskWeights(["never", "always", "sometimes", "broken", "new"], history);
    expect(Object.fromEntries(weights)).toEqual({ never: 3, always: 1, sometimes: 2, broken: 2, new: 2 });
    expect([TASK_WEIGHT.neverPassed, TASK_WEIGHT.alwaysPassed, TASK_WEIGHT.sometimesPassed]).toEqual([3, 1, 2]);
    expect(weightsVary(weights, ["never", "new"])).toBe(true);
    expect(weightsVary(weights, ["sometimes", "new"])).toBe(false);
  });

  it("weighs every task 1 when no task has an earlier valid trial: the plain stratified test", () => {
    const weights = taskWeights(["a", "b"], new Map([["a", { passes: 0, valid: 0 }]]));
    expect(Object.fromEntries(weights)).toEqual({ a: 1, b: 1 });
    expect(weightsVary(weights, ["a", "b"])).toBe(false);
    expect(weightsVary(undefined, ["a", "b"])).toBe(false);
  });
});

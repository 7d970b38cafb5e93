import { describe, expect, it } from "vitest";
import { applyEffect, VARYING } from "../../src/gate/simulate.js";

const mean = (values: readonly number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;

describe("applyEffect: where a simulated gain falls", () => {
  // Shaped like Terminal-Bench: tasks that never pass, tasks that always do, and tasks in between.
  const baseline = [0, 0, 0.02, 0.3, 0.5, 0.6, 0.97, 1, 1, 0.1];

  it("raises the mean pass rate by the gain, whatever the shape", () => {
    for (const shape of ["concentrated", "spread", "spread-varying"] as const) {
      const candidate = applyEffect(baseline, 0.1, shape, [0, 1, 2, 3, 9]);
      expect(mean(candidate) - mean(baseline), shape).toBeCloseTo(0.1, 10);
      candidate.forEach((q, i) => expect(q).toBeGreaterThanOrEqual(baseline[i]!));
    }
  });

  it("concentrated: fixes the tasks in order, to 90% each, until the gain is spent", () => {
    const [first, second, third] = applyEffect(baseline, 0.1, "concentrated", [0, 1, 2]);
    expect(first).toBe(0.9);
    // The gain left after the first task: 10 tasks × 0.1 - 0.9.
    expect(second).toBeCloseTo(0.1, 10);
    expect(third).toBe(0.02);
  });

  it("spread: every task gains the same share of its headroom, tasks that never pass included", () => {
    const candidate = applyEffect(baseline, 0.1, "spread", []);
    const shares = baseline.map((p, i) => (p < 1 ? (candidate[i]! - p) / (1 - p) : null)).filter((s) => s !== null);
    for (const share of shares) expect(share).toBeCloseTo(shares[0]!, 10);
    expect(candidate[0]).toBeGreaterThan(0);
  });

  it("spread-varying: only tasks whose outcome varies gain, each the same share of its headroom", () => {
    const candidate = applyEffect(baseline, 0.1, "spread-varying", []);
    const varying = baseline.map((p) => p > VARYING.above && p < VARYING.below);
    expect(varying).toEqual([false, false, false, true, true, true, false, false, false, true]);
    baseline.forEach((p, i) => {
      if (!varying[i]) expect(candidate[i]).toBe(p);
    });
    const share = (i: number) => (candidate[i]! - baseline[i]!) / (1 - baseline[i]!);
    expect(share(3)).toBeGreaterThan(0);
    for (const i of [4, 5, 9]) expect(share(i)).toBeCloseTo(share(3), 10);
  });
});

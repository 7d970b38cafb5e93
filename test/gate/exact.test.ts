import { describe, expect, it } from "vitest";
import { expectation, hypergeometric, stratifiedNull, stratifiedTest, stratumInformation, tail, variance, type Stratum } from "../../src/gate/exact.js";
import { mulberry32 } from "../../src/gate/random.js";

/** Reference: every way to place the stratum's passes among its trials, counted directly. */
function bruteForce(strata: readonly Stratum[]): Map<number, number> {
  let sums = new Map<number, number>([[0, 1]]);
  for (const { baselineTrials: mb, candidateTrials: mc, passes, weight = 1 } of strata) {
    const total = mb + mc;
    const counts = new Map<number, number>();
    let subsets = 0;
    for (let mask = 0; mask < 2 ** total; mask++) {
      let bits = 0;
      let candidate = 0;
      for (let i = 0; i < total; i++) {
        if (mask & (1 << i)) {
          bits++;
          if (i < mc) candidate++;
        }
      }
      if (bits !== passes) continue;
      subsets++;
      counts.set(weight * candidate, (counts.get(weight * candidate) ?? 0) + 1);
    }
    const next = new Map<number, number>();
    for (const [s, p] of sums) for (const [x, n] of counts) next.set(s + x, (next.get(s + x) ?? 0) + (p * n) / subsets);
    sums = next;
  }
  return sums;
}

describe("hypergeometric", () => {
  it("matches Fisher's tea-tasting table: 3 of 4 cups right, P(X ≥ 3) = 17/70", () => {
    const d = hypergeometric({ baselineTrials: 4, candidateTrials: 4, passes: 4 });
    expect(tail(d, 3, "upper")).toBeCloseTo(17 / 70, 12);
    expect(expectation(d)).toBeCloseTo(2, 12);
    // N n K (N-K)(N-n) / (N^2 (N-1)) = 8*4*4*4*4 / (64*7)
    expect(variance(d)).toBeCloseTo(stratumInformation({ baselineTrials: 4, candidateTrials: 4, passes: 4 }), 12);
  });
  it("is a point when every trial agrees or a side has no trial", () => {
    expect([...hypergeometric({ baselineTrials: 3, candidateTrials: 3, passes: 6 }).pmf]).toEqual([1]);
    expect(hypergeometric({ baselineTrials: 0, candidateTrials: 2, passes: 1 })).toMatchObject({ offset: 1 });
    expect(stratumInformation({ baselineTrials: 3, candidateTrials: 3, passes: 0 })).toBe(0);
  });
  it("refuses an impossible stratum, and a weight that is not a whole number from 1", () => {
    expect(() => hypergeometric({ baselineTrials: 1, candidateTrials: 1, passes: 3 })).toThrow(RangeError);
    for (const weight of [0, 1.5, -2, Number.NaN]) expect(() => hypergeometric({ baselineTrials: 1, candidateTrials: 1, passes: 1, weight })).toThrow(/weight/);
  });
  it("scales by the weight: the same masses, the weight apart", () => {
    const plain = hypergeometric({ baselineTrials: 2, candidateTrials: 2, passes: 2 });
    const tripled = hypergeometric({ baselineTrials: 2, candidateTrials: 2, passes: 2, weight: 3 });
    expect(tripled.offset).toBe(0);
    expect([...tripled.pmf]).toEqual([plain.pmf[0], 0, 0, plain.pmf[1], 0, 0, plain.pmf[2]]);
    expect(expectation(tripled)).toBeCloseTo(3 * expectation(plain), 12);
  });
});

describe("stratifiedNull", () => {
  it("agrees with counting every placement of the passes, on random strata, weighted or not", () => {
    const random = mulberry32(17);
    for (let round = 0; round < 50; round++) {
      const strata = Array.from({ length: 1 + Math.floor(random() * 4) }, () => {
        const baselineTrials = Math.floor(random() * 4);
        const candidateTrials = Math.floor(random() * 4);
        const passes = Math.floor(random() * (baselineTrials + candidateTrials + 1));
        return round < 25 ? { baselineTrials, candidateTrials, passes } : { baselineTrials, candidateTrials, passes, weight: 1 + Math.floor(random() * 3) };
      });
      const reference = bruteForce(strata);
      const exact = stratifiedNull(strata);
      exact.pmf.forEach((p, i) => expect(p).toBeCloseTo(reference.get(i + exact.offset) ?? 0, 12));
      expect([...reference.keys()].every((x) => x >= exact.offset && x < exact.offset + exact.pmf.length)).toBe(true);
    }
  });
});

describe("stratifiedTest", () => {
  it("is exact McNemar with one trial a side: 8 gained, 1 lost gives P = 10/512", () => {
    const strata = Array.from({ length: 9 }, () => ({ baselineTrials: 1, candidateTrials: 1, passes: 1 }));
    const concordant = Array.from({ length: 11 }, (_, i) => ({ baselineTrials: 1, candidateTrials: 1, passes: i < 4 ? 2 : 0 }));
    const test = stratifiedTest([...strata, ...concordant], 8 + 4 * 1);
    expect(test.gain).toBeCloseTo(10 / 512, 12);
    expect(test.loss).toBeCloseTo(1 - 1 / 512, 12);
    expect(test.expected).toBeCloseTo(4.5 + 4, 12);
    expect(test.minimumGain).toBeCloseTo(1 / 512, 12);
  });
  it("is Fisher's exact test for one task: 3/3 against 0/3 gives P = 1/20", () => {
    const test = stratifiedTest([{ baselineTrials: 3, candidateTrials: 3, passes: 3 }], 0);
    expect(test.loss).toBeCloseTo(1 / 20, 12);
    expect(test.minimumLoss).toBeCloseTo(1 / 20, 12);
    expect(test.gain).toBe(1);
  });
});

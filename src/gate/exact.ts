/**
 * Exact conditional tests on pass/fail trials, stratified by task. Under "no difference" a task's
 * baseline and candidate trials are exchangeable, so once the stratum's total passes are known, which
 * of them fell on the candidate's side is hypergeometric, whatever the task's difficulty. Summing the
 * candidate's passes over strata gives the Mantel-Haenszel statistic; its exact null distribution is the
 * convolution of the strata's hypergeometrics. With one trial per side this is exact McNemar.
 */

/** One task's trials in one stage (or pooled): valid trials per side and total passes over both sides. */
export interface Stratum {
  baselineTrials: number;
  candidateTrials: number;
  passes: number;
  /**
   * What each of the candidate's passes here adds to the statistic: a whole number, default 1 (see
   * weights.ts). Fixed before the trials ran, it scales the stratum's hypergeometric and keeps it exact.
   */
  weight?: number;
}

/** A probability mass function on the integers `offset .. offset + pmf.length - 1`. */
export interface Distribution {
  offset: number;
  pmf: Float64Array;
}

const POINT_ZERO: Distribution = { offset: 0, pmf: Float64Array.of(1) };

// log(n!) for n = 0, 1, 2, ...: grown on demand, so each binomial coefficient costs O(1).
const logFactorials = [0];

function logFactorial(n: number): number {
  for (let i = logFactorials.length; i <= n; i++) logFactorials.push(logFactorials[i - 1]! + Math.log(i));
  return logFactorials[n]!;
}

function logChoose(n: number, k: number): number {
  if (k < 0 || k > n) return -Infinity;
  return logFactorial(n) - logFactorial(k) - logFactorial(n - k);
}

// Strata repeat endlessly (one trial a side, one pass): their distributions are computed once.
const cache = new Map<string, Distribution>();
const CACHE_LIMIT = 4096;

/**
 * The candidate's passes in one stratum under no difference (hypergeometric), times the stratum's
 * weight. The result is shared: never modify it.
 */
export function hypergeometric(stratum: Stratum): Distribution {
  const weight = stratum.weight ?? 1;
  if (!(Number.isInteger(weight) && weight >= 1)) throw new RangeError(`hypergeometric: weight must be a whole number from 1, got ${weight}`);
  const key = `${stratum.baselineTrials},${stratum.candidateTrials},${stratum.passes},${weight}`;
  let distribution = cache.get(key);
  if (!distribution) {
    distribution = weight === 1 ? computeHypergeometric(stratum) : stretch(hypergeometric({ ...stratum, weight: 1 }), weight);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, distribution);
  }
  return distribution;
}

function computeHypergeometric(stratum: Stratum): Distribution {
  const { baselineTrials: mb, candidateTrials: mc, passes: s } = stratum;
  const total = mb + mc;
  if (!(mb >= 0 && mc >= 0 && s >= 0 && s <= total)) throw new RangeError(`hypergeometric: impossible stratum ${JSON.stringify(stratum)}`);
  const low = Math.max(0, s - mb);
  const high = Math.min(s, mc);
  const pmf = new Float64Array(high - low + 1);
  const denominator = logChoose(total, s);
  let sum = 0;
  for (let x = low; x <= high; x++) {
    const p = Math.exp(logChoose(mc, x) + logChoose(mb, s - x) - denominator);
    pmf[x - low] = p;
    sum += p;
  }
  for (let i = 0; i < pmf.length; i++) pmf[i]! /= sum;
  return { offset: low, pmf };
}

/** The distribution of `weight` times X: the same masses, `weight` apart. */
function stretch(distribution: Distribution, weight: number): Distribution {
  const pmf = new Float64Array((distribution.pmf.length - 1) * weight + 1);
  distribution.pmf.forEach((p, i) => (pmf[i * weight] = p));
  return { offset: distribution.offset * weight, pmf };
}

export function convolve(a: Distribution, b: Distribution): Distribution {
  if (b.pmf.length === 1) return { offset: a.offset + b.offset, pmf: a.pmf.map((p) => p * b.pmf[0]!) };
  const pmf = new Float64Array(a.pmf.length + b.pmf.length - 1);
  for (let i = 0; i < a.pmf.length; i++) {
    const p = a.pmf[i]!;
    if (p === 0) continue;
    for (let j = 0; j < b.pmf.length; j++) pmf[i + j]! += p * b.pmf[j]!;
  }
  return { offset: a.offset + b.offset, pmf };
}

/** Null distribution of the candidate's passes summed over strata. */
export function stratifiedNull(strata: readonly Stratum[]): Distribution {
  let result = POINT_ZERO;
  for (const s of strata) result = convolve(result, hypergeometric(s));
  return result;
}

/** P(X >= x), or P(X <= x) with `tail: "lower"`. */
export function tail(distribution: Distribution, x: number, side: "upper" | "lower"): number {
  const { offset, pmf } = distribution;
  let sum = 0;
  if (side === "upper") for (let i = Math.max(0, x - offset); i < pmf.length; i++) sum += pmf[i]!;
  else for (let i = 0; i <= Math.min(pmf.length - 1, x - offset); i++) sum += pmf[i]!;
  return Math.min(1, sum);
}

export function expectation(distribution: Distribution): number {
  let sum = 0;
  distribution.pmf.forEach((p, i) => (sum += p * (i + distribution.offset)));
  return sum;
}

export function variance(distribution: Distribution): number {
  const mu = expectation(distribution);
  let sum = 0;
  distribution.pmf.forEach((p, i) => (sum += p * (i + distribution.offset - mu) ** 2));
  return sum;
}

/** Variance of one stratum's hypergeometric, in closed form: how much it can tell the two sides apart. */
export function stratumInformation(s: Stratum): number {
  const total = s.baselineTrials + s.candidateTrials;
  if (total < 2) return 0;
  return (s.baselineTrials * s.candidateTrials * s.passes * (total - s.passes)) / (total * total * (total - 1));
}

export interface ExactTest {
  /** The candidate's passes summed over strata. */
  observed: number;
  /** Their expectation under no difference. */
  expected: number;
  /** One-sided p-value for more candidate passes than chance gives (an improvement). */
  gain: number;
  /** One-sided p-value for fewer (a loss). */
  loss: number;
  /** Smallest p-value for a gain, or a loss, that these strata could give at all. */
  minimumGain: number;
  minimumLoss: number;
}

/** The stratified exact test (exact Mantel-Haenszel; exact McNemar with one trial per side; Fisher with one stratum). */
export function stratifiedTest(strata: readonly Stratum[], candidatePasses: number): ExactTest {
  const distribution = stratifiedNull(strata);
  return {
    observed: candidatePasses,
    expected: expectation(distribution),
    gain: tail(distribution, candidatePasses, "upper"),
    loss: tail(distribution, candidatePasses, "lower"),
    minimumGain: distribution.pmf[distribution.pmf.length - 1]!,
    minimumLoss: distribution.pmf[0]!,
  };
}

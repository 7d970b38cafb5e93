import { convolve, expectation, stratifiedNull, tail, type Distribution, type Stratum } from "./exact.js";
import { normalCdf, normalQuantile } from "./stats.js";
import type { LookResult } from "./types.js";

/**
 * Group-sequential testing with an alpha-spending function (Lan & DeMets 1983). The improvement test
 * looks after every stage; by the look at which a share t of the budget is spent it may have accepted
 * noise with probability at most alpha(t), and alpha(1) = alpha. Looks may come at any t, as many as the
 * budget allows, so the overall false-accept rate stays at most alpha whatever the number of stages.
 *
 * The boundaries are exact: under no difference, each stage adds to the statistic (the candidate's
 * passes) an independent sum of hypergeometrics given that stage's per-task totals, so the chance of
 * crossing at each look, having not crossed before, is computed by convolution, not approximated.
 * Which tasks run in a stage depends only on earlier totals (never on which side passed), so it does not
 * disturb these distributions.
 */

/**
 * The O'Brien-Fleming-like spending function, one-sided: alpha(t) = 2 - 2 Phi(z_{1 - alpha/2} / sqrt(t)).
 * It spends little at early looks, keeping nearly all of alpha for the last.
 */
export function obrienFlemingSpending(alpha: number, t: number): number {
  if (t <= 0) return 0;
  if (t >= 1) return alpha;
  return 2 * (1 - normalCdf(normalQuantile(1 - alpha / 2) / Math.sqrt(t)));
}

/** The Pocock-like spending function alpha ln(1 + (e - 1) t): spends evenly, so early looks can stop. */
export function pocockSpending(alpha: number, t: number): number {
  if (t <= 0) return 0;
  if (t >= 1) return alpha;
  return alpha * Math.log(1 + (Math.E - 1) * t);
}

export type SpendingFunction = (alpha: number, t: number) => number;

/** The trials added since the previous look. */
export interface Look {
  strata: readonly Stratum[];
  /** The candidate's passes among them. */
  candidatePasses: number;
  /** Share of the budget spent at this look; 1 (or more) spends whatever alpha is left. */
  fraction: number;
}

// Float sums of many small probabilities: a boundary that spends alpha to within this counts as within it.
const SLACK = 1e-12;

/** Each look's boundary and whether the statistic crossed it; looks after the first crossing are not evaluated. */
export function groupSequential(looks: readonly Look[], alpha: number, spending: SpendingFunction): LookResult[] {
  const results: LookResult[] = [];
  let alive: Distribution = { offset: 0, pmf: Float64Array.of(1) };
  let unconditional = alive;
  let spent = 0;
  let observed = 0;
  let fraction = 0;
  for (const [index, look] of looks.entries()) {
    const increment = stratifiedNull(look.strata);
    alive = convolve(alive, increment);
    unconditional = convolve(unconditional, increment);
    observed += look.candidatePasses;
    fraction = Math.max(fraction, Math.min(1, look.fraction));
    const allowed = spending(alpha, fraction);
    const boundary = findBoundary(alive, allowed - spent);
    const crossed = boundary !== null && observed >= boundary;
    if (boundary !== null) spent += tail(alive, boundary, "upper");
    results.push({
      look: index + 1,
      fraction,
      alphaSpent: allowed,
      alphaUsed: spent,
      observed,
      expected: expectation(unconditional),
      boundary,
      crossed,
      nominalP: tail(unconditional, observed, "upper"),
      nominalThreshold: boundary === null ? null : tail(unconditional, boundary, "upper"),
    });
    if (crossed) break;
    if (boundary !== null) alive = truncate(alive, boundary);
  }
  return results;
}

/** The smallest count whose upper tail on the paths still alive fits in `available`; null when none does. */
function findBoundary(alive: Distribution, available: number): number | null {
  let mass = 0;
  let boundary: number | null = null;
  for (let i = alive.pmf.length - 1; i >= 0; i--) {
    mass += alive.pmf[i]!;
    if (mass > available + SLACK) break;
    boundary = alive.offset + i;
  }
  // A boundary whose tail holds no probability at all could never be crossed: say so instead.
  return boundary !== null && tail(alive, boundary, "upper") > 0 ? boundary : null;
}

function truncate(distribution: Distribution, boundary: number): Distribution {
  const keep = Math.max(0, Math.min(distribution.pmf.length, boundary - distribution.offset));
  return { offset: distribution.offset, pmf: keep > 0 ? distribution.pmf.slice(0, keep) : Float64Array.of(0) };
}

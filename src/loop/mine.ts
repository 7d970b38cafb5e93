import { splitTasks } from "../gate/split.js";
// The mining modules themselves, not the mine/ index: that would load the evidence builder and its tokenizer.
import { mineWeaknesses } from "../mine/cluster.js";
import type { LabelResult } from "../mine/label.js";
import { heldOutSummary, summarizeTrial, type TrialSummary } from "../mine/summary.js";
import type { Finding, MineResult, Weakness } from "../mine/types.js";
import { breathe } from "../traces/pace.js";
import type { Trial } from "../traces/types.js";
import type { Log, LoopContext } from "./host.js";

/** Labels kept in a process: enough for many repositories' recent runs, bounded whatever arrives. */
const LABEL_CACHE_SIZE = 5000;

export interface Mined {
  trials: Trial[];
  /** Tasks never mined nor shown to the proposer. */
  heldOut: string[];
  heldIn: string[];
  /** Model labels for failures no detector explains, when the configuration allows them. */
  labels?: ReadonlyMap<string, Finding>;
  /** How the labels came about: model calls, cached answers, failures left unlabelled, errors. */
  labelling?: Omit<LabelResult, "labels">;
  result: MineResult;
}

/** What mining gives besides the trials themselves (which a streaming caller never holds). */
export type MinedSummaries = Omit<Mined, "trials">;

/** Labels are asked for (or reused from the cache) only when the configuration allows some. */
const labellingOn = (ctx: LoopContext) => ctx.config.mine.labelBudget > 0 && (ctx.llm !== null || ctx.labelCache.size > 0);

/** Whether the configuration holds a task out: decided by its name alone, so one trial at a time. */
function heldOutByConfig(config: LoopContext["config"]): (task: string) => boolean {
  const known = new Map<string, boolean>();
  return (task) => {
    let held = known.get(task);
    if (held === undefined) {
      held = splitTasks([task], config.split).heldOut.length > 0;
      known.set(task, held);
    }
    return held;
  };
}

/**
 * Summarises trials one at a time for `mineSummaries`, so a corpus can be mined while it is read
 * without holding its trials: held-out tasks are never looked into; a failure no detector explains
 * keeps what the model labeller needs when labelling is on.
 */
export function trialSummarizer(ctx: LoopContext, extraHeldOut: readonly string[] = []): (trial: Trial) => TrialSummary {
  const heldOut = heldOutByConfig(ctx.config);
  const extra = new Set(extraHeldOut);
  const digest = labellingOn(ctx);
  return (trial) => (heldOut(trial.task) || extra.has(trial.task) ? heldOutSummary(trial) : summarizeTrial(trial, { digest }));
}

/**
 * The one mining step, for the app, the Action and the CLI alike: the held-out split of the
 * configuration (plus tasks a proposal recorded as held out), model labels for failures no detector
 * explains when `mine.labelBudget` allows them, then clustering into weaknesses. Trials are
 * summarised one by one, with turns of the event loop between them.
 */
export async function mineTrials(ctx: LoopContext, trials: Trial[], options: { heldOut?: readonly string[]; log?: Log } = {}): Promise<Mined> {
  const summarize = trialSummarizer(ctx, options.heldOut);
  const summaries: TrialSummary[] = [];
  for (const trial of trials) {
    summaries.push(summarize(trial));
    await breathe();
  }
  return { trials, ...(await mineSummaries(ctx, summaries, options)) };
}

/** `mineTrials` over trials already summarised (see `trialSummarizer`). */
export async function mineSummaries(ctx: LoopContext, summaries: TrialSummary[], options: { heldOut?: readonly string[]; log?: Log } = {}): Promise<MinedSummaries> {
  const { config } = ctx;
  const split = splitTasks(
    summaries.map((t) => t.task),
    config.split,
  );
  const extra = new Set(options.heldOut ?? []);
  const heldOut = [...new Set([...split.heldOut, ...extra])].sort();
  const heldIn = split.heldIn.filter((t) => !extra.has(t));
  const labelling = await modelLabels(ctx, summaries, heldOut, options.log);
  const labels = labelling?.labels;
  const result = mineWeaknesses(summaries, {
    minFailures: config.mine.minFailures,
    minTasks: config.mine.minTasks,
    heldOut,
    ...(labels ? { labels } : {}),
  });
  if (!labelling) return { heldOut, heldIn, result };
  const { labels: _, ...stats } = labelling;
  return { heldOut, heldIn, labels: labelling.labels, labelling: stats, result };
}

async function modelLabels(ctx: LoopContext, summaries: TrialSummary[], heldOut: string[], log?: Log): Promise<LabelResult | undefined> {
  if (!labellingOn(ctx)) return undefined;
  // Loaded only when labelling is on: it loads zod, which checks the model's answers.
  const { labelFailures } = await import("../mine/label.js");
  const result = await labelFailures(summaries, { llm: ctx.llm, budget: ctx.config.mine.labelBudget, cache: ctx.labelCache, heldOut });
  while (ctx.labelCache.size > LABEL_CACHE_SIZE) ctx.labelCache.delete(ctx.labelCache.keys().next().value!);
  if (result.errors.length > 0) log?.warn({ errors: result.errors.slice(0, 5) }, "some failures could not be labelled by the model");
  return result;
}

/** A weakness by id, or by an unambiguous id prefix (as people type them). */
export function findWeakness(weaknesses: Weakness[], wanted: string): { ok: true; weakness: Weakness } | { ok: false; reason: string } {
  const prefix = wanted.toLowerCase();
  const matches = weaknesses.filter((w) => w.id.startsWith(prefix));
  if (matches.length === 1) return { ok: true, weakness: matches[0]! };
  const known = weaknesses.map((w) => w.id).join(", ") || "none";
  return { ok: false, reason: `${matches.length === 0 ? "no weakness" : "more than one weakness"} with id starting "${wanted}" (weaknesses: ${known})` };
}

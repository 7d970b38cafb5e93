import type { StagePlan, StageTrials } from "../gate/types.js";
import type { Trial } from "../traces/types.js";
import { dispatchProblem, inputsProblem, isSafeTaskName, regressionInputs } from "./dispatch.js";
import type { Host, LoopContext, ProposalPR } from "./host.js";
import type { Dispatch, Stage, Validation } from "./state.js";

/**
 * The stages of a validation on the host: each stage runs the same tasks and trials on both sides at
 * the same time (the candidate on the proposal's branch, the baseline on the base branch), so both are
 * measured in the same window; a stage repeated by a person adds a round of trials to that stage.
 */

export type Side = "candidate" | "baseline";
const SIDES: readonly Side[] = ["candidate", "baseline"];

/** `<slug>-<short sha>-s<stage>[r<repeat>][-base]`: unique per commit, stage, repeat and side, and readable in a run name. */
export function stageDispatchId(slug: string, headSha: string, stage: number, repeat: number, side: Side): string {
  return `${slug}-${headSha.slice(0, 7)}-s${stage}${repeat > 0 ? `r${repeat}` : ""}${side === "baseline" ? "-base" : ""}`;
}

/**
 * The repeat number for the stage's next dispatch: the first, from its count of dispatches, whose ids
 * are unused on both sides. A re-run drops gone dispatches from the record, and numbering by the count
 * alone would then give a kept run's id to a new one (and count that run's trials twice).
 */
export function nextRepeat(slug: string, headSha: string, stage: Stage): number {
  const used = new Set([...stage.candidate, ...stage.baseline].map((d) => d.selfharnessId));
  let repeat = Math.max(stage.candidate.length, stage.baseline.length);
  while (SIDES.some((side) => used.has(stageDispatchId(slug, headSha, stage.stage, repeat, side)))) repeat++;
  return repeat;
}

export type StageDispatched = { ok: true; dispatches: Record<Side, Dispatch>; url?: string } | { ok: false; problem: string };

/** Dispatches one stage (or a repeat of it) on both sides: the candidate first, then the baseline. */
export async function dispatchStage(host: Host, ctx: LoopContext, pr: ProposalPR, plan: Pick<StagePlan, "stage" | "tasks" | "trials">, repeat: number): Promise<StageDispatched> {
  const { config } = ctx;
  const tasks = plan.tasks.filter(isSafeTaskName);
  const refs: Record<Side, string> = { candidate: pr.headRef, baseline: pr.state.base.ref };
  const dispatches = {} as Record<Side, Dispatch>;
  let url: string | undefined;
  const ids = { candidate: stageDispatchId(pr.state.slug, pr.headSha, plan.stage, repeat, "candidate"), baseline: stageDispatchId(pr.state.slug, pr.headSha, plan.stage, repeat, "baseline") };
  // Checked before either side starts, so a refusal never leaves one side running alone.
  for (const side of SIDES) {
    const tooLong = inputsProblem(plan.stage, regressionInputs(ids[side], tasks, plan.trials));
    if (tooLong) return { ok: false, problem: tooLong };
  }
  for (const side of SIDES) {
    const selfharnessId = ids[side];
    const dispatched = await host.dispatchRegression({ ref: refs[side], selfharnessId, tasks, trials: plan.trials });
    if (!dispatched.ok) {
      host.log.warn({ pr: pr.number, selfharnessId, err: dispatched.message }, "regression workflow dispatch failed");
      return { ok: false, problem: dispatchProblem(config.regression.workflow, refs[side], dispatched) };
    }
    dispatches[side] = { selfharnessId, ...(dispatched.runId !== null ? { runId: dispatched.runId } : {}) };
    if (side === "candidate" && dispatched.url) url = dispatched.url;
  }
  return { ok: true, dispatches, ...(url ? { url } : {}) };
}

/** A new stage record from its plan and the dispatches just made. */
export function stageRecord(plan: Pick<StagePlan, "stage" | "tasks" | "trials">, dispatches: Record<Side, Dispatch>): Stage {
  return { stage: plan.stage, tasks: plan.tasks.filter(isSafeTaskName), trials: plan.trials, dispatchedAt: new Date().toISOString(), candidate: [dispatches.candidate], baseline: [dispatches.baseline] };
}

/** Where a dispatch sits in a validation. */
export interface DispatchAt {
  stage: number;
  side: Side;
  index: number;
}

/**
 * The dispatch of `validation` that started a run, if any. A run is known by the id the dispatch
 * answered with; when the server gave none, by the selfharness id in its name, which anyone who can
 * dispatch the workflow could copy: then it must also have been started by the proposal's author (the app).
 */
export function dispatchOf(validation: Validation, run: { id: number; title: string; actor?: string }, author: string | undefined, hasId: (title: string, id: string) => boolean): DispatchAt | null {
  for (const [s, stage] of validation.stages.entries()) {
    for (const side of SIDES) {
      for (const [index, dispatch] of stage[side].entries()) {
        const known = dispatch.runId !== undefined ? dispatch.runId === run.id : hasId(run.title, dispatch.selfharnessId) && (author === undefined || run.actor === author);
        if (known) return { stage: s, side, index };
      }
    }
  }
  return null;
}

/**
 * The runs of a stage, resolved: each dispatch's run id (found by name when the dispatch gave none) and
 * whether every one has completed. A candidate run must have tested the validated commit.
 */
export async function resolveStage(
  host: Pick<Host, "regressionRun">,
  pr: ProposalPR,
  validation: Validation,
  stage: Stage,
  known: { runId: number; at: DispatchAt } | null,
): Promise<{ stage: Stage; pending: string[]; gone: Set<string> }> {
  const resolved: Stage = { ...stage, candidate: [...stage.candidate], baseline: [...stage.baseline] };
  const pending: string[] = [];
  const gone = new Set<string>();
  const index = validation.stages.indexOf(stage);
  for (const side of SIDES) {
    for (const [i, dispatch] of stage[side].entries()) {
      if (known && known.at.stage === index && known.at.side === side && known.at.index === i) {
        resolved[side][i] = { ...dispatch, runId: known.runId };
        continue;
      }
      const branch = side === "candidate" ? pr.headRef : validation.baseRef;
      const found = await host.regressionRun({ branch, selfharnessId: dispatch.selfharnessId, ...(dispatch.runId !== undefined ? { runId: dispatch.runId } : {}) });
      const trusted = found && (dispatch.runId !== undefined || pr.author === undefined || found.actor === pr.author) && (side === "baseline" || found.headSha === validation.headSha);
      if (!trusted) {
        gone.add(dispatch.selfharnessId);
        pending.push(`the ${side} run \`${dispatch.selfharnessId}\` ${found ? "is not one the app started for this commit" : "cannot be found yet"}`);
        continue;
      }
      resolved[side][i] = { ...dispatch, runId: found.id };
      if (!found.completed) pending.push(`the ${side} run ${found.id} is not finished`);
    }
  }
  return { stage: resolved, pending, gone };
}

/**
 * The trials of every round of every stage, limited to the stage's tasks, with a note for every artifact
 * that could not be read. A stage whose side left no trial in any round is named in `unread`.
 */
export async function loadStages(host: Pick<Host, "loadTrials">, validation: Validation): Promise<{ stages: StageTrials[]; notes: string[]; unread: string | null }> {
  const rounds: StageTrials[] = [];
  const notes: string[] = [];
  let unread: string | null = null;
  for (const stage of validation.stages) {
    const wanted = new Set(stage.tasks);
    const read = async (dispatch: Dispatch | undefined): Promise<Trial[]> => {
      if (dispatch?.runId === undefined) return [];
      const loaded = await host.loadTrials([dispatch.runId]);
      notes.push(...loaded.notes);
      return loaded.trials.filter((t) => wanted.has(t.task));
    };
    // Each dispatch of the stage (the first, then every repeat) is a round of its own: the gate takes
    // a look per round.
    const count = Math.max(stage.candidate.length, stage.baseline.length);
    const own: StageTrials[] = [];
    for (let index = 0; index < count; index++) own.push({ candidate: await read(stage.candidate[index]), baseline: await read(stage.baseline[index]), stage: stage.stage });
    for (const side of SIDES) {
      if (own.some((round) => round[side].length > 0)) continue;
      const ids = stage[side].flatMap((d) => (d.runId !== undefined ? [d.runId] : []));
      unread ??= `The ${side} side of stage ${stage.stage} (run${ids.length === 1 ? "" : "s"} ${ids.join(", ") || "none"}) left no trials of its tasks`;
    }
    rounds.push(...own);
  }
  return { stages: rounds, notes, unread };
}

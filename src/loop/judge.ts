import { judge } from "../gate/judge.js";
import type { Decision, Verdict } from "../gate/types.js";
import { gateProblemSummary, stageStartedSummary, verdictComment, verdictMarker, verdictSummary, verdictTitle, withValidationStatus } from "../report/comments.js";
import { inlineCode } from "../report/markdown.js";
import { runNameHasId } from "./dispatch.js";
import type { Host, LoopContext, ProposalPR, ProposalUpdate } from "./host.js";
import { LABEL_REJECTED, LABEL_VALIDATING } from "./names.js";
import { dispatchOf, dispatchStage, loadStages, resolveStage, stageRecord, type DispatchAt } from "./stages.js";
import { recordedWeights, type ProposalState, type Validation } from "./state.js";

/** A completed run of the regression workflow, as the loop needs it. */
export interface RegressionRun {
  id: number;
  /** `.github/workflows/<file>` (some payloads add `@<ref>`). */
  path: string;
  /** The workflow's name. */
  name?: string | null;
  headSha: string;
  /** The run's display title: it carries the dispatch's selfharness id. */
  title: string;
  url: string;
  /** Who started the run (a login). */
  actor?: string;
}

export type RunMatch = { at: DispatchAt } | { ignore: string } | null;

/**
 * Whether `run` is a run of this proposal's validation, and which. A candidate run must have tested the
 * commit that is the branch head now: a run on an older commit says nothing about the code people would
 * merge.
 */
export function matchRun(run: RegressionRun, pr: Pick<ProposalPR, "headSha" | "state" | "author">, workflow: string): RunMatch {
  if (!isWorkflowPath(run.path, workflow) && run.name !== workflow) return null;
  const validation = pr.state.validation;
  if (!validation) return null;
  const at = dispatchOf(validation, run, pr.author, runNameHasId);
  if (!at) return null;
  if (validation.headSha !== pr.headSha || (at.side === "candidate" && run.headSha !== validation.headSha)) {
    return { ignore: `run ${run.id} tested ${(at.side === "candidate" ? run.headSha : validation.headSha).slice(0, 7)}, but the branch head is ${pr.headSha.slice(0, 7)}` };
  }
  return { at };
}

/** `run.path` is `.github/workflows/<file>` (some payloads add `@<ref>`); the config names the file. */
export function isWorkflowPath(path: string, workflow: string): boolean {
  const file = path.replace(/@.*$/, "");
  return file === workflow || file === `.github/workflows/${workflow}`;
}

export type JudgeOutcome =
  | { status: "ignored"; reason: string }
  | { status: "waiting"; pr: number; reason: string }
  | { status: "judged"; pr: number; verdict: Verdict }
  | { status: "next-stage"; pr: number; stage: number; verdict: Verdict }
  | { status: "problem"; pr: number; problem: string };

/** The open proposal whose validation started `run`, with where in it, if any. */
export function findProposalOfRun(run: RegressionRun, open: ProposalPR[], workflow: string): { pr: ProposalPR; match: NonNullable<RunMatch> } | null {
  for (const pr of open) {
    const match = matchRun(run, pr, workflow);
    if (match) return { pr, match };
  }
  return null;
}

/**
 * A regression run of a validation completed: it is recorded in its stage, and once every run of the
 * stage is in (both sides, repeats included), the validation is judged (`judgeValidation`).
 */
export async function judgeRegressionRun(host: Host, ctx: LoopContext, run: RegressionRun, open: ProposalPR[]): Promise<JudgeOutcome> {
  const { config } = ctx;
  const { log } = host;
  const found = findProposalOfRun(run, open, config.regression.workflow);
  if (!found) {
    log.info({ run: run.id }, "regression run belongs to no open selfharness pull request");
    return { status: "ignored", reason: "no proposal recorded this run" };
  }
  const { pr, match } = found;
  if ("ignore" in match) {
    log.info({ run: run.id, pr: pr.number }, `regression run ignored: ${match.ignore}`);
    return { status: "ignored", reason: match.ignore };
  }
  const { state } = pr;
  const validation = state.validation!;
  if (state.verdict?.headSha === pr.headSha) return { status: "ignored", reason: `commit ${pr.headSha.slice(0, 7)} was already judged` };
  const last = validation.stages.length - 1;
  if (match.at.stage !== last) return { status: "ignored", reason: `run ${run.id} belongs to stage ${match.at.stage + 1}, which was judged already` };

  const resolved = await resolveStage(host, pr, validation, validation.stages[last]!, { runId: run.id, at: match.at });
  const current: Validation = { ...validation, stages: [...validation.stages.slice(0, last), resolved.stage] };
  if (resolved.pending.length > 0) {
    const reason = resolved.pending.join("; ");
    // What was learnt (run ids found by name) is kept, so the next completion need not look again.
    if (JSON.stringify(resolved.stage) !== JSON.stringify(validation.stages[last])) await host.update(pr, { body: { text: pr.body, state: { ...state, validation: current } } });
    log.info({ run: run.id, pr: pr.number }, `gate waits: ${reason}`);
    return { status: "waiting", pr: pr.number, reason };
  }
  return judgeValidation(host, ctx, pr, current);
}

/**
 * Judges a validation whose current stage has every run in (`judgeRegressionRun` when the last run
 * completes; the check's Re-run button): all the trials so far, pooled by task. A decision ends the
 * validation with its effects from one table; "needs more evidence" dispatches the next stage the
 * gate asks for, within the budget, on both sides at once.
 */
export async function judgeValidation(host: Host, ctx: LoopContext, pr: ProposalPR, current: Validation): Promise<JudgeOutcome> {
  const { config } = ctx;
  const { state } = pr;
  const last = current.stages.at(-1)!;
  const loaded = await loadStages(host, current);
  if (loaded.unread) {
    const notes = loaded.notes.slice(0, 10);
    const problem = `${loaded.unread} that selfharness could read.${notes.length > 0 ? `\n\n${notes.map((n) => `- ${n}`).join("\n")}` : ""}`;
    await host.update(
      pr,
      effects(ctx, pr, { ...state, validation: current }, "inconclusive", {
        title: "Inconclusive: no readable traces",
        summary: gateProblemSummary(problem),
        comment: `${verdictMarker(pr.headSha)}\n### selfharness gate: inconclusive\n\n${gateProblemSummary(problem)}\n`,
        status: `Inconclusive for \`${pr.headSha.slice(0, 7)}\`: no readable traces; \`/selfharness retry regression\` runs the stage again.`,
      }),
    );
    return { status: "problem", pr: pr.number, problem };
  }

  const tasks = current.stages[0]!.tasks;
  const weights = recordedWeights(current, tasks);
  const verdict = judge({ stages: loaded.stages, budget: current.budget, tasks, heldOut: state.tasks.heldOut, targeted: state.tasks.targeted, config: config.gate, ...(weights ? { weights } : {}) });
  if (verdict.decision === "needs-more-evidence" && verdict.next) return nextStage(host, ctx, pr, current, verdict);

  const report = {
    verdict,
    headSha: pr.headSha,
    runUrl: host.runUrl(last.candidate[0]!.runId!),
    baseline: `${inlineCode(current.baseRef)}, run in the same stages at the same time`,
    alternativesLeft: state.alternatives.length,
    automergeLabel: config.labels.automerge,
    nativeAutoMerge: config.labels.nativeAutoMerge,
  };
  await host.update(
    pr,
    effects(ctx, pr, { ...state, validation: current }, verdict.decision, {
      title: verdictTitle(verdict),
      summary: verdictSummary(report),
      comment: verdictComment(report),
      status: `${verdictTitle(verdict)} for \`${pr.headSha.slice(0, 7)}\` after ${current.stages.length} stage${current.stages.length === 1 ? "" : "s"}; the \`selfharness/gate\` check has the details.`,
      reasons: verdict.reasons,
    }),
  );
  host.log.info({ pr: pr.number, decision: verdict.decision, stages: current.stages.length, spent: verdict.budget.spent }, "gate verdict recorded");
  return { status: "judged", pr: pr.number, verdict };
}

/** The gate asked for more trials: its next stage runs on both sides, and the check says so. */
async function nextStage(host: Host, ctx: LoopContext, pr: ProposalPR, validation: Validation, verdict: Verdict): Promise<JudgeOutcome> {
  const next = verdict.next!;
  const dispatched = await dispatchStage(host, ctx, pr, next, 0);
  if (!dispatched.ok) {
    const problem = `Stage ${next.stage} could not start. ${dispatched.problem}`;
    await host.update(
      pr,
      effects(ctx, pr, { ...pr.state, validation }, "inconclusive", {
        title: `Stage ${next.stage} could not start`,
        summary: gateProblemSummary(problem),
        comment: `${verdictMarker(pr.headSha)}\n### selfharness gate: inconclusive\n\n${gateProblemSummary(problem)}\n`,
        status: `Inconclusive for \`${pr.headSha.slice(0, 7)}\`: stage ${next.stage} could not start; \`/selfharness retry regression\` tries again.`,
      }),
    );
    return { status: "problem", pr: pr.number, problem };
  }
  const status = stageStartedSummary({ stage: next.stage, tasks: next.tasks.length, trials: next.trials, baseRef: validation.baseRef, ...(dispatched.url ? { runUrl: dispatched.url } : {}) });
  const summary = `${status}\n\nSo far (${verdict.budget.spent} of ${verdict.budget.total} task-trials): ${verdictTitle(verdict)}.\n\n${verdict.reasons.map((r) => `- ${r}`).join("\n")}`;
  const updated: Validation = { ...validation, stages: [...validation.stages, stageRecord(next, dispatched.dispatches)] };
  await host.update(pr, {
    check: { headSha: pr.headSha, ...(validation.checkRunId !== undefined ? { checkRunId: validation.checkRunId } : {}), selfharnessId: `${pr.state.slug}-${pr.headSha.slice(0, 7)}-gate`, title: `Stage ${next.stage} in progress`, summary },
    body: { text: withValidationStatus(pr.body, status), state: { ...pr.state, validation: updated } },
  });
  host.log.info({ pr: pr.number, stage: next.stage, tasks: next.tasks.length, trials: next.trials, spent: verdict.budget.spent }, "gate needs more evidence: next stage dispatched");
  return { status: "next-stage", pr: pr.number, stage: next.stage, verdict };
}

/** What each decision does to the proposal, besides the words. "needs-more-evidence" here means the budget is spent: a person decides. */
const DECISION_EFFECTS: Record<Decision, { conclusion: "success" | "failure" | "neutral"; add: (automerge: string) => string[]; remove: string[]; autoMerge: boolean }> = {
  accept: { conclusion: "success", add: (automerge) => [automerge], remove: [LABEL_VALIDATING, LABEL_REJECTED], autoMerge: true },
  reject: { conclusion: "failure", add: () => [LABEL_REJECTED], remove: [LABEL_VALIDATING], autoMerge: false },
  inconclusive: { conclusion: "neutral", add: () => [], remove: [LABEL_VALIDATING], autoMerge: false },
  "needs-more-evidence": { conclusion: "neutral", add: () => [], remove: [LABEL_VALIDATING], autoMerge: false },
};

/** One verdict's effects: the check's conclusion, one comment per tested commit, labels, auto-merge, and the state recording it. */
function effects(
  ctx: LoopContext,
  pr: ProposalPR,
  next: ProposalState,
  decision: Decision,
  words: { title: string; summary: string; comment: string; status: string; reasons?: string[] },
): ProposalUpdate {
  const table = DECISION_EFFECTS[decision];
  const checkRunId = next.validation?.checkRunId;
  return {
    check: {
      headSha: pr.headSha,
      selfharnessId: `${next.slug}-${pr.headSha.slice(0, 7)}-gate`,
      ...(checkRunId !== undefined ? { checkRunId } : {}),
      conclusion: table.conclusion,
      title: words.title,
      summary: words.summary,
    },
    comment: { marker: verdictMarker(pr.headSha), body: words.comment },
    labels: { add: table.add(ctx.config.labels.automerge), remove: table.remove },
    ...(table.autoMerge && ctx.config.labels.nativeAutoMerge ? { autoMerge: "enable" as const } : {}),
    body: {
      text: withValidationStatus(pr.body, words.status),
      state: { ...next, verdict: { decision, headSha: pr.headSha, ...(words.reasons ? { reasons: words.reasons } : {}) } },
    },
  };
}

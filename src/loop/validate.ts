import { countByTask, type TaskCounts } from "../gate/outcomes.js";
import { planValidation } from "../gate/plan.js";
import { gateProblemSummary, stageStartedSummary, withValidationStatus } from "../report/comments.js";
import { approvalWait, holdForApproval } from "./approval.js";
import { regressionTasks } from "./dispatch.js";
import type { Host, LoopContext, ProposalPR, PullRequest } from "./host.js";
import { LABEL_REJECTED, LABEL_VALIDATING } from "./names.js";
import { dispatchStage, nextRepeat, stageRecord } from "./stages.js";
import { MAX_STAGE_DISPATCHES, recordWeights, type ProposalState, type Validation } from "./state.js";

export interface ValidationStarted {
  started: boolean;
  /** Why validation could not start, when it did not. */
  problem?: string;
  /** What validation waits for (a writer's approval) when it did not start, in words. */
  waiting?: string;
  /** The proposal as it stands after the start: new description, state and labels. */
  pr: ProposalPR;
  checkRunId?: number;
  /** The candidate's run of the first stage, when the dispatch answered with its id. */
  runId: number | null;
}

/**
 * Starts the gate for the proposal's head commit. The power plan comes first, from the base's per-task
 * pass rates in the mined eval runs: what the budget can detect, said on the check before anything
 * runs. Then stage 1 runs every regression task on both sides at once (the candidate on the branch,
 * the baseline fresh on the base branch, so both are measured in the same window), and the check and
 * the state record it, so whichever replica receives the runs' completion can judge them.
 */
export async function startValidation(host: Host, ctx: LoopContext, pr: ProposalPR): Promise<ValidationStarted> {
  const { config } = ctx;
  const { log } = host;
  const wait = approvalWait(ctx, pr);
  if (wait) return holdForApproval(host, pr, wait);
  const state = pr.state;
  const tasks = regressionTasks(state.tasks);
  const plan = await planValidation({ tasks, history: await baseHistory(host, state), heldOut: state.tasks.heldOut, targeted: state.tasks.targeted, config: { gate: config.gate, regression: config.regression } });
  const staleLabels = [config.labels.automerge, LABEL_REJECTED].filter((l) => pr.labels.includes(l));

  const dispatched = await dispatchStage(host, ctx, pr, plan.first, 0);
  const problem = dispatched.ok ? undefined : dispatched.problem;
  const status = problem ?? stageStartedSummary({ stage: 1, tasks: plan.first.tasks.length, trials: plan.first.trials, baseRef: state.base.ref, ...(dispatched.ok && dispatched.url ? { runUrl: dispatched.url } : {}), plan: plan.summary });
  // The check first (its id goes into the state), then the state: the runs' completion is matched
  // through it. Labels come last, so a failed label write never leaves a dispatched run unrecorded.
  const { checkRunId } = await host.update(pr, {
    check: {
      headSha: pr.headSha,
      selfharnessId: `${state.slug}-${pr.headSha.slice(0, 7)}-gate`,
      ...(dispatched.ok && dispatched.url ? { detailsUrl: dispatched.url } : {}),
      title: problem ? "Regression run could not start" : "Stage 1 in progress",
      summary: problem ? gateProblemSummary(problem) : status,
      ...(problem ? { conclusion: "neutral" as const } : {}),
    },
  });
  const next: ProposalState = { ...state };
  delete next.verdict;
  delete next.refused;
  delete next.validation;
  // A validation that could not start is recorded as such: it waits for `/selfharness retry regression`
  // once the cause is fixed, rather than being dispatched again on every event.
  if (problem) next.verdict = { decision: "inconclusive", headSha: pr.headSha, reasons: [problem] };
  if (dispatched.ok) {
    const weights = recordWeights(plan.weights);
    const validation: Validation = {
      headSha: pr.headSha,
      baseRef: state.base.ref,
      ...(checkRunId !== undefined ? { checkRunId } : {}),
      budget: plan.budget,
      plan: plan.summary,
      ...(weights ? { weights } : {}),
      stages: [stageRecord(plan.first, dispatched.dispatches)],
    };
    next.validation = validation;
  }
  const body = withValidationStatus(pr.body, status);
  await host.update(pr, { body: { text: body, state: next } });
  await host.update(pr, { labels: { remove: staleLabels, ...(problem ? {} : { add: [LABEL_VALIDATING] }) } });
  const labels = [...pr.labels.filter((l) => !staleLabels.includes(l)), ...(problem || pr.labels.includes(LABEL_VALIDATING) ? [] : [LABEL_VALIDATING])];
  const runId = dispatched.ok ? (dispatched.dispatches.candidate.runId ?? null) : null;
  log.info({ pr: pr.number, stage: 1, tasks: plan.first.tasks.length, trials: plan.first.trials, budget: plan.budget, runId, problem }, problem ? "validation could not start" : "validation started");
  return {
    started: !problem,
    ...(problem ? { problem } : {}),
    pr: { ...pr, body, labels, state: next },
    ...(checkRunId !== undefined ? { checkRunId } : {}),
    runId,
  };
}

/**
 * Runs the validation's current stage again on both sides (`/selfharness retry regression`, or a re-run
 * whose runs are gone): the new trials are a round of that stage, so nothing measured so far is thrown
 * away, and the gate judges again once they are in, in a look of their own. A commit with no validation
 * yet starts one.
 */
export async function repeatStage(host: Host, ctx: LoopContext, pr: ProposalPR): Promise<ValidationStarted> {
  const { config } = ctx;
  const validation = pr.state.validation;
  if (!validation || validation.headSha !== pr.headSha) return startValidation(host, ctx, pr);
  const stage = validation.stages.at(-1)!;
  if (stage.candidate.length >= MAX_STAGE_DISPATCHES || stage.baseline.length >= MAX_STAGE_DISPATCHES) {
    return { started: false, problem: `stage ${stage.stage} has run ${MAX_STAGE_DISPATCHES} times on this commit, as many as a validation keeps; push a new commit to validate it afresh`, pr, runId: null };
  }
  const repeat = nextRepeat(pr.state.slug, pr.headSha, stage);
  const dispatched = await dispatchStage(host, ctx, pr, stage, repeat);
  if (!dispatched.ok) return { started: false, problem: dispatched.problem, pr, runId: null };
  const status = stageStartedSummary({ stage: stage.stage, tasks: stage.tasks.length, trials: stage.trials, baseRef: validation.baseRef, repeat: true, ...(dispatched.url ? { runUrl: dispatched.url } : {}) });
  const staleLabels = [config.labels.automerge, LABEL_REJECTED].filter((l) => pr.labels.includes(l));
  // A check that already concluded stays as it was for what it judged; the repeat gets a new one.
  const { checkRunId } = await host.update(pr, {
    check: { headSha: pr.headSha, selfharnessId: `${pr.state.slug}-${pr.headSha.slice(0, 7)}-gate-r${repeat}`, title: `Stage ${stage.stage} in progress (run again)`, summary: status, ...(dispatched.url ? { detailsUrl: dispatched.url } : {}) },
  });
  const repeated = { ...stage, candidate: [...stage.candidate, dispatched.dispatches.candidate], baseline: [...stage.baseline, dispatched.dispatches.baseline] };
  const next: ProposalState = { ...pr.state, validation: { ...validation, ...(checkRunId !== undefined ? { checkRunId } : {}), stages: [...validation.stages.slice(0, -1), repeated] } };
  delete next.verdict;
  const body = withValidationStatus(pr.body, status);
  await host.update(pr, { body: { text: body, state: next } });
  await host.update(pr, { labels: { remove: staleLabels, add: [LABEL_VALIDATING] } });
  host.log.info({ pr: pr.number, stage: stage.stage, repeat }, "stage run again; its trials join the stage");
  const labels = [...pr.labels.filter((l) => !staleLabels.includes(l)), ...(pr.labels.includes(LABEL_VALIDATING) ? [] : [LABEL_VALIDATING])];
  return { started: true, pr: { ...pr, body, labels, state: next }, ...(checkRunId !== undefined ? { checkRunId } : {}), runId: dispatched.dispatches.candidate.runId ?? null };
}

/**
 * The base's per-task outcomes in the mined eval runs: the power plan's estimate of how often each task
 * passes. Only an estimate: the verdict itself compares against the fresh baseline runs. Unreadable runs
 * leave the plan to its defaults.
 */
async function baseHistory(host: Pick<Host, "loadTrials" | "log">, state: ProposalState): Promise<Map<string, TaskCounts>> {
  if (state.runsMined.length === 0) return new Map();
  try {
    return countByTask((await host.loadTrials(state.runsMined)).trials);
  } catch (error) {
    host.log.warn({ runs: state.runsMined, err: String(error) }, "eval runs unreadable; the power plan uses its defaults");
    return new Map();
  }
}

/**
 * Open proposals whose validation never started (the process stopped, or GitHub failed every retry,
 * between opening the pull request and recording the dispatch): each is validated now. Called on the
 * next event, so no proposal is left waiting for a run nobody dispatched.
 */
export async function resumeValidation(host: Host, ctx: LoopContext, open: PullRequest[]): Promise<number[]> {
  const resumed: number[] = [];
  for (const pr of open) {
    const state = pr.state;
    if (!state || state.validation || state.refused || state.verdict?.headSha === pr.headSha || pr.headSha !== state.head) continue;
    // One waiting for a writer's approval is not stuck: it waits on purpose.
    if (state.approval?.headSha === pr.headSha && !state.approval.approvedBy) continue;
    host.log.info({ pr: pr.number }, "validation of an open proposal never started; starting it now");
    await startValidation(host, ctx, pr as ProposalPR);
    resumed.push(pr.number);
  }
  return resumed;
}

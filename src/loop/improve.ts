import type { Weakness } from "../mine/types.js";
import type { ProposeResult } from "../propose/types.js";
import { diffStats, proposalBody, proposalCommitMessage, proposalTitle } from "../report/pr-body.js";
import { blockedWeaknesses, chooseWeakness, openProposalsBlock, weaknessSlug } from "./choose.js";
import { draftProposal, type Draft } from "./draft.js";
import type { EvalRun, Host, LoopContext, ProposalPR, PullRequest } from "./host.js";
import { findWeakness, mineTrials, type Mined } from "./mine.js";
import { BRANCH_PREFIX, LABEL_SELFHARNESS } from "./names.js";
import type { ProposalState } from "./state.js";
import { resumeValidation } from "./validate.js";

export type ImproveOutcome =
  | { status: "opened"; pr: ProposalPR; draft: Draft; mined: Mined; notes: string[] }
  | Skipped;

/** Why no proposal was opened, in words and as a kind a host can act on; with what was learnt on the way. */
export interface Skipped {
  status: "skipped";
  kind: "handled" | "limit" | "no-trials" | "no-weakness" | "taken" | "unknown-weakness" | "no-harness" | "no-candidate";
  reason: string;
  mined?: Mined;
  weakness?: Weakness;
  /** The proposer's answer when it gave nothing usable: discarded candidates and why. */
  result?: ProposeResult;
}

export interface ImproveOptions {
  /** Propose for this weakness (id or id prefix) instead of the top one nobody works on. */
  weakness?: string;
  /** More weaknesses not to propose for, with why (those ignored on the dashboard). */
  blocked?: ReadonlyMap<string, string>;
  /** The closed proposals, when the caller has listed them already. */
  closed?: PullRequest[];
}

/**
 * A completed eval run becomes at most one proposal: the traces of the recent runs on the same
 * harness are mined, the top weakness nobody is working on gets a minimal edit with its evidence,
 * and the proposal is opened. Validation is the caller's next step.
 */
export async function improve(host: Host, ctx: LoopContext, trigger: EvalRun, options: ImproveOptions = {}): Promise<ImproveOutcome> {
  const { config } = ctx;
  const skip = (kind: Skipped["kind"], reason: string, learnt: Omit<Skipped, "status" | "kind" | "reason"> = {}): Skipped => {
    host.log.info({ runId: trigger.id, attempt: trigger.attempt }, `no proposal: ${reason}`);
    return { status: "skipped", kind, reason, ...learnt };
  };

  /** Whether the open proposals rule this run out: it led to one already, or the limit is reached. */
  const blockedBy = (open: PullRequest[]) => {
    const blocked = openProposalsBlock(trigger, open, config.limits.maxOpenPRs);
    // A weakness asked for by name is new work even when this run led to a proposal already.
    return blocked && !(blocked.kind === "handled" && options.weakness !== undefined) ? blocked : null;
  };

  const open = await host.proposals("open");
  // Finish what was started before proposing more: a proposal whose validation never started.
  await resumeValidation(host, ctx, open);
  const blockedNow = blockedBy(open);
  if (blockedNow) return skip(blockedNow.kind, blockedNow.reason);
  // A delivery replayed after its proposal was closed or merged (a restart forgets every delivery)
  // is recognised from the state on GitHub too.
  const closed = options.closed ?? (await host.proposals("closed"));
  const handled = options.weakness === undefined ? closed.find((pr) => pr.state?.trigger?.runId === trigger.id && pr.state.trigger.attempt === trigger.attempt) : undefined;
  if (handled) return skip("handled", `run ${trigger.id} attempt ${trigger.attempt} was already handled (#${handled.number})`);

  const runs = await host.evalRuns(trigger, config.eval.runs);
  const loaded = await host.loadTrials(runs.map((r) => r.id));
  if (loaded.trials.length === 0) return skip("no-trials", `no trials in the artifacts of runs ${runs.map((r) => r.id).join(", ")}${notesSuffix(loaded.notes)}`);

  const mined = await mineTrials(ctx, loaded.trials, { log: host.log });
  const { weaknesses, mined: counts } = mined.result;
  if (weaknesses.length === 0) {
    return skip("no-weakness", `no recurring weakness in ${counts.failures} mined failures of ${counts.trials} trial${counts.trials === 1 ? "" : "s"} (minimum ${config.mine.minFailures} failures over ${config.mine.minTasks} tasks)`, { mined });
  }
  let weakness: Weakness;
  if (options.weakness !== undefined) {
    const found = findWeakness(weaknesses, options.weakness);
    if (!found.ok) return skip("unknown-weakness", found.reason, { mined });
    weakness = found.weakness;
  } else {
    const blocked = blockedWeaknesses({ open, closed });
    for (const [id, why] of options.blocked ?? []) if (!blocked.has(id)) blocked.set(id, why);
    const chosen = chooseWeakness(weaknesses, blocked);
    if ("reason" in chosen) return skip("taken", chosen.reason, { mined });
    weakness = chosen.weakness;
  }

  const snapshot = await host.readHarness(trigger.headSha);
  const { harness } = snapshot;
  if (harness.files.length === 0) return skip("no-harness", `no harness files match harness.paths (${config.harness.paths.join(", ")}) at ${trigger.headSha.slice(0, 7)}`, { mined, weakness });

  let drafted;
  try {
    drafted = await draftProposal(ctx, { weakness, mined, snapshot });
  } catch (error) {
    host.log.error({ runId: trigger.id, weakness: weakness.id, err: String(error) }, "proposer failed");
    return skip("no-candidate", `the proposer failed: ${String(error)}`, { mined, weakness });
  }
  if (!drafted.ok) return skip("no-candidate", drafted.reason, { mined, weakness, ...(drafted.result ? { result: drafted.result } : {}) });
  const { draft } = drafted;
  // Mining and the model take a while. Another run of the same delivery may have opened the proposal
  // meanwhile: a job handed to a second worker when Redis was away longer than its lease, or a second
  // replica. Opening it again would move its branch and start a second validation.
  const blockedLate = blockedBy(await host.proposals("open"));
  if (blockedLate) return skip(blockedLate.kind, blockedLate.reason, { mined, weakness });

  const slug = weaknessSlug(weakness);
  const state: ProposalState = {
    version: 1,
    weakness: weakness.id,
    slug,
    harnessVersion: harness.version,
    base: { ref: trigger.headBranch, sha: trigger.headSha },
    runsMined: runs.map((r) => r.id),
    trigger: { runId: trigger.id, attempt: trigger.attempt },
    proposer: draft.result.proposer,
    current: draft.proposal,
    alternatives: draft.alternatives,
    attempts: [],
    discarded: draft.result.discarded,
    tasks: draft.tasks,
  };
  const description = proposalBody({
    weakness,
    proposal: draft.proposal,
    proposer: draft.result.proposer,
    ...(ctx.llm && config.propose.model ? { model: config.propose.model } : {}),
    runs: runs.map((r) => ({ id: r.id, url: r.url, conclusion: r.conclusion })),
    stats: diffStats(draft.changes),
    validation:
      `Pending: the regression workflow \`${config.regression.workflow}\` runs ${draft.tasks.targeted.length} targeted, ${draft.tasks.preserve.length} preserved and ${draft.tasks.heldOut.length} held-out tasks in stages, on this branch and on \`${state.base.ref}\` at the same time; the \`selfharness/gate\` check shows the plan and the verdict.` +
      (draft.leftOut.length > 0 ? ` ${draft.leftOut.length} task${draft.leftOut.length === 1 ? " is" : "s are"} left out: ${draft.leftOut.length === 1 ? "its name holds" : "their names hold"} characters a workflow input cannot carry safely.` : ""),
    alternatives: draft.alternatives.length,
    notes: loaded.notes,
    harnessVersion: harness.version,
  });
  const title = proposalTitle(draft.proposal);
  const pr = await host.openProposal({
    branch: `${BRANCH_PREFIX}${slug}`,
    base: state.base,
    changes: draft.changes,
    commitMessage: proposalCommitMessage(draft.proposal, `Weakness ${weakness.id}: ${weakness.title}`),
    title,
    body: description,
    state,
    labels: [LABEL_SELFHARNESS, ...config.labels.extra],
    draft,
  });
  host.log.info({ runId: trigger.id, pr: pr.number, weakness: weakness.id, branch: pr.headRef, proposer: draft.result.proposer }, "proposal pull request opened");
  return { status: "opened", pr, draft, mined, notes: loaded.notes };
}

function notesSuffix(notes: string[]): string {
  return notes.length > 0 ? ` (${notes.slice(0, 3).join("; ")})` : "";
}

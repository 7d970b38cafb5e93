import { applyEdits, guardOptions, selectCandidates } from "../propose/edit.js";
import { forbiddenNames } from "../propose/forbidden.js";
import { proposalTasks } from "./dispatch.js";
import { approve } from "./approval.js";
import { explainComment, helpComment, ignoredComment, noAlternativeComment, retryComment, unknownCommandComment } from "../report/comments.js";
import { plainText } from "../report/markdown.js";
import { diffStats, proposalBody, proposalCommitMessage, proposalTitle } from "../report/pr-body.js";
import type { DiscardedCandidate, Proposal, ProposerKind } from "../propose/types.js";
import { draftProposal, evidenceFor } from "./draft.js";
import type { HarnessSnapshot, Host, LoopContext, ProposalPR } from "./host.js";
import { mineTrials, type Mined } from "./mine.js";
import { LABEL_IGNORED } from "./names.js";
import { MAX_ATTEMPTS, MAX_DISCARDED, type Attempt, type ProposalState } from "./state.js";
import { repeatStage, startValidation } from "./validate.js";
import type { EvidencePacket, Weakness } from "../mine/types.js";

export type Command =
  | { name: "retry" | "retry-regression" | "explain" | "ignore" | "approve" | "help" }
  | { name: "unknown"; text: string };

export const COMMAND_PREFIX = "/selfharness";

/** The command in a comment: its first line that starts with `/selfharness`, or null when there is none. */
export function parseCommand(body: string | null | undefined): Command | null {
  const line = (body ?? "")
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l === COMMAND_PREFIX || l.startsWith(`${COMMAND_PREFIX} `));
  if (line === undefined) return null;
  const words = line.slice(COMMAND_PREFIX.length).trim().toLowerCase().split(/\s+/).filter(Boolean);
  const text = words.join(" ");
  switch (text) {
    case "":
    case "help":
      return { name: "help" };
    case "retry":
      return { name: "retry" };
    case "retry regression":
      return { name: "retry-regression" };
    case "explain":
      return { name: "explain" };
    case "ignore":
      return { name: "ignore" };
    case "approve":
      return { name: "approve" };
    default:
      return { name: "unknown", text: `${COMMAND_PREFIX} ${text}` };
  }
}

export type CommandOutcome =
  | { status: "ignored"; reason: string }
  | { status: "refused" }
  | { status: "done"; command: Command["name"]; detail?: string };

/**
 * The reply to a command that needs neither the configuration nor the traces (help, an unknown
 * command, a command on a closed proposal); null when the command has real work to do.
 */
export function immediateReply(command: Command, pr: Pick<ProposalPR, "open">): { reply: string; detail?: string } | null {
  if (command.name === "help") return { reply: helpComment() };
  if (command.name === "unknown") return { reply: unknownCommandComment(command.text) };
  if (!pr.open && command.name !== "explain") return { reply: "This pull request is closed; reopen it first.", detail: "closed" };
  return null;
}

/** Runs a command that does real work on a proposal, after the host checked who asked. */
export async function runCommand(host: Host, ctx: LoopContext, pr: ProposalPR, command: Command, user: string): Promise<CommandOutcome> {
  switch (command.name) {
    case "retry":
      return retry(host, ctx, pr, user);
    case "retry-regression":
      return retryRegression(host, ctx, pr);
    case "explain":
      return explain(host, ctx, pr);
    case "ignore":
      return ignore(host, pr);
    case "approve":
      return approve(host, ctx, pr, user);
    default: {
      const immediate = immediateReply(command, pr);
      if (immediate) await host.update(pr, { comment: { body: immediate.reply } });
      return { status: "done", command: command.name, ...(immediate?.detail ? { detail: immediate.detail } : {}) };
    }
  }
}

async function retryRegression(host: Host, ctx: LoopContext, pr: ProposalPR): Promise<CommandOutcome> {
  const started = await repeatStage(host, ctx, pr);
  if (!started.started) await host.update(started.pr, { comment: { body: started.problem ?? "The regression run could not start." } });
  return { status: "done", command: "retry-regression", detail: started.problem ?? `run ${started.runId ?? "pending"}` };
}

export type RebuiltWeakness = { ok: true; weakness: Weakness; mined: Mined; evidence: EvidencePacket; notes: string[] } | { ok: false; reason: string };

/**
 * The weakness a proposal was made for, mined again from the same eval runs through the same step as
 * the eval run (held-out tasks and model labels included), with the evidence packet the proposer saw.
 * Its id is a hash of the signature, so the same runs give the same weakness.
 */
export async function rebuildWeakness(host: Pick<Host, "loadTrials" | "log">, ctx: LoopContext, state: ProposalState): Promise<RebuiltWeakness> {
  if (state.runsMined.length === 0) return { ok: false, reason: "no eval runs are recorded for this proposal" };
  const { trials, notes } = await host.loadTrials(state.runsMined);
  if (trials.length === 0) return { ok: false, reason: `the traces of eval runs ${state.runsMined.join(", ")} are no longer readable${notes.length > 0 ? ` (${notes[0]})` : ""}` };
  const mined = await mineTrials(ctx, trials, { heldOut: state.tasks.heldOut, log: host.log });
  const weakness = mined.result.weaknesses.find((w) => w.id === state.weakness);
  if (!weakness) return { ok: false, reason: `the weakness no longer shows in eval runs ${state.runsMined.join(", ")}` };
  return { ok: true, weakness, mined, evidence: evidenceFor(ctx, weakness, mined), notes };
}

export interface NextCandidate {
  proposal: Proposal;
  /** Candidates still untried after this one, best first. */
  alternatives: Proposal[];
  proposer: ProposerKind;
  /** Candidates set aside on the way, with the reason. */
  discarded: DiscardedCandidate[];
}

/**
 * The next candidate for the same weakness: the best untried alternative that still passes every guard
 * on today's base harness (alternatives come from the stored state, so they are checked again as if new),
 * else a new proposal told every earlier attempt and why it failed. Null when none is left.
 */
export async function nextCandidate(ctx: LoopContext, input: { state: ProposalState; attempts: Attempt[]; snapshot: HarnessSnapshot; rebuilt: RebuiltWeakness }): Promise<NextCandidate | null> {
  const { config } = ctx;
  const { state } = input;
  const discarded: DiscardedCandidate[] = [];
  const queue = [...state.alternatives];
  const guards = {
    ...guardOptions(config, input.snapshot, input.rebuilt.ok ? forbiddenNames(input.rebuilt.mined.trials) : proposalTasks(state.tasks)),
    earlier: input.attempts,
  };
  while (queue.length > 0) {
    const proposal = queue.shift()!;
    const checked = selectCandidates([proposal], guards);
    if (checked.proposals.length > 0) return { proposal, alternatives: queue, proposer: state.proposer, discarded };
    discarded.push(...checked.discarded);
  }
  if (!input.rebuilt.ok) return null;
  const drafted = await draftProposal(ctx, {
    weakness: input.rebuilt.weakness,
    mined: input.rebuilt.mined,
    snapshot: input.snapshot,
    earlier: [...input.attempts, ...discarded.map((d) => ({ title: d.title ?? "(untitled)", reason: d.reason }))],
  });
  if (!drafted.ok) return null;
  const { draft } = drafted;
  return { proposal: draft.proposal, alternatives: draft.alternatives, proposer: draft.result.proposer, discarded: [...discarded, ...draft.result.discarded] };
}

/**
 * Replaces the edit with the next candidate: one new commit on the recorded base, the branch moved to
 * it (after the state names it, so the push is known as the app's own), then validated like a new proposal.
 */
async function retry(host: Host, ctx: LoopContext, pr: ProposalPR, user: string): Promise<CommandOutcome> {
  const { config } = ctx;
  const { state } = pr;
  const reason =
    state.verdict && state.verdict.headSha === pr.headSha
      ? `gate ${state.verdict.decision}${state.verdict.reasons?.length ? `: ${state.verdict.reasons.join("; ")}` : ""}`
      : `set aside by @${user} before a verdict`;
  const attempts: Attempt[] = [...state.attempts, { title: state.current.title, reason, proposal: state.current }];
  const snapshot = await host.readHarness(state.base.sha);
  // Untried alternatives need no mining; a new proposal does, and so does the new description.
  const rebuilt = await rebuildWeakness(host, ctx, state);
  const next = await nextCandidate(ctx, { state, attempts, snapshot, rebuilt });
  if (!next) {
    await host.update(pr, { comment: { body: noAlternativeComment(attempts) } });
    host.log.info({ pr: pr.number, weakness: state.weakness }, "retry: no candidate left");
    return { status: "done", command: "retry", detail: "no candidate left" };
  }

  const applied = applyEdits(snapshot.harness, next.proposal.edits, snapshot.paths);
  if (!applied.ok) throw new Error(`${next.proposal.title}: ${applied.reason}`);
  const changes = applied.changes.filter((c) => c.before !== c.after);
  const updated: ProposalState = {
    ...state,
    proposer: next.proposer,
    current: next.proposal,
    alternatives: next.alternatives,
    attempts: attempts.slice(-MAX_ATTEMPTS),
    discarded: [...(state.discarded ?? []), ...next.discarded].slice(-MAX_DISCARDED),
  };
  delete updated.verdict;
  const description = rebuilt.ok
    ? proposalBody({
        weakness: rebuilt.weakness,
        proposal: next.proposal,
        proposer: next.proposer,
        ...(next.proposer === "llm" && config.propose.model ? { model: config.propose.model } : {}),
        runs: state.runsMined.map((id) => ({ id, url: host.runUrl(id), conclusion: null })),
        stats: diffStats(changes),
        validation: `Pending: the regression workflow \`${config.regression.workflow}\` runs on this branch; the \`selfharness/gate\` check shows the verdict.`,
        alternatives: next.alternatives.length,
        notes: rebuilt.notes,
        harnessVersion: state.harnessVersion,
      })
    : `**${plainText(next.proposal.title, 200)}**: ${plainText(next.proposal.rationale)}\n\n(The evidence could not be rebuilt: ${plainText(rebuilt.reason)}.)`;
  const replaced = await host.replaceCandidate(pr, {
    baseSha: state.base.sha,
    changes,
    commitMessage: proposalCommitMessage(next.proposal),
    title: proposalTitle(next.proposal),
    body: description,
    state: updated,
  });
  const started = await startValidation(host, ctx, replaced);
  await host.update(started.pr, { comment: { body: retryComment(next.proposal, next.alternatives.length) } });
  host.log.info({ pr: pr.number, head: replaced.headSha, candidate: next.proposal.title }, "retry: next candidate on the branch");
  return { status: "done", command: "retry", detail: next.proposal.title };
}

async function explain(host: Host, ctx: LoopContext, pr: ProposalPR): Promise<CommandOutcome> {
  const { state } = pr;
  const rebuilt = await rebuildWeakness(host, ctx, state);
  const body = explainComment({
    weaknessTitle: rebuilt.ok ? rebuilt.weakness.title : state.current.title,
    evidence: rebuilt.ok ? { text: rebuilt.evidence.text, tokens: rebuilt.evidence.tokens } : { missing: `could not be rebuilt: ${rebuilt.reason}.` },
    current: state.current,
    alternatives: state.alternatives,
    attempts: state.attempts,
    discarded: state.discarded ?? [],
  });
  await host.update(pr, { comment: { body } });
  return { status: "done", command: "explain", detail: rebuilt.ok ? "evidence rebuilt" : rebuilt.reason };
}

/** Closed and labelled: mining skips a weakness whose closed proposal carries the ignore label. */
async function ignore(host: Host, pr: ProposalPR): Promise<CommandOutcome> {
  await host.update(pr, { labels: { add: [LABEL_IGNORED] }, close: true, comment: { body: ignoredComment(pr.state.slug) } });
  host.log.info({ pr: pr.number, weakness: pr.state.weakness }, "weakness ignored");
  return { status: "done", command: "ignore" };
}

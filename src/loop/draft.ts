import { regressionSet } from "../gate/split.js";
import { buildEvidence, type EvidencePacket, type Weakness } from "../mine/index.js";
import { applyEdits, type FileChange } from "../propose/edit.js";
import { forbiddenNames } from "../propose/forbidden.js";
import { propose } from "../propose/index.js";
import type { Harness, Proposal, ProposeResult } from "../propose/types.js";
import { isSafeTaskName, proposalTasks } from "./dispatch.js";
import type { HarnessSnapshot, LoopContext } from "./host.js";
import type { Mined } from "./mine.js";
import type { Attempt, ProposalState } from "./state.js";

/** A proposal ready to open: the weakness, what the proposer saw, its best candidate and the tasks that will judge it. */
export interface Draft {
  weakness: Weakness;
  evidence: EvidencePacket;
  harness: Harness;
  /** Every path in the repository (see `HarnessSnapshot.paths`). */
  paths?: ReadonlySet<string>;
  /** Everything the proposer returned: ranked candidates, discarded ones with reasons, who wrote them. */
  result: ProposeResult;
  proposal: Proposal;
  alternatives: Proposal[];
  /** The files the best candidate changes. */
  changes: FileChange[];
  tasks: ProposalState["tasks"];
  /** Tasks left out of validation because their names are not safe to pass to a workflow. */
  leftOut: string[];
}

export type Drafted = { ok: true; draft: Draft } | { ok: false; reason: string; result?: ProposeResult };

/**
 * Evidence for one weakness, candidate edits from the model (or the playbook), the best one applied
 * to the harness, and the regression tasks: targeted failures, held-in tasks the baseline passes, and
 * held-out tasks the proposer never saw.
 */
export async function draftProposal(ctx: LoopContext, input: { weakness: Weakness; mined: Mined; snapshot: HarnessSnapshot; earlier?: Attempt[] }): Promise<Drafted> {
  const { config } = ctx;
  const { weakness, mined } = input;
  const { harness, paths } = input.snapshot;
  const evidence = evidenceFor(ctx, weakness, mined);
  const result = await propose({
    weakness,
    evidence,
    harness,
    config,
    // Held-out names are forbidden too: an edit must not mention what will judge it.
    forbidden: forbiddenNames(mined.trials),
    earlier: input.earlier ?? [],
    llm: ctx.llm,
    ...(paths ? { existingPaths: paths } : {}),
  });
  const [proposal, ...alternatives] = result.proposals;
  if (!proposal) {
    const reasons = result.discarded.map((d) => `${d.title ?? "candidate"}: ${d.reason}`).slice(0, 5);
    return {
      ok: false,
      reason: `nothing usable was proposed for "${weakness.title}"${result.note ? ` (${result.note})` : ""}${reasons.length ? `; discarded: ${reasons.join("; ")}` : ""}`,
      result,
    };
  }
  const applied = applyEdits(harness, proposal.edits, paths);
  if (!applied.ok) return { ok: false, reason: `the proposal does not apply: ${applied.reason}`, result };
  const chosen = regressionSet({
    targeted: weakness.tasks,
    baselineTrials: mined.trials,
    heldIn: mined.heldIn,
    heldOut: mined.heldOut,
    preserve: config.regression.preserve,
    maxHeldOut: config.regression.maxHeldOut,
    seed: config.gate.seed,
  });
  const leftOut = proposalTasks(chosen).filter((t) => !isSafeTaskName(t));
  const tasks = { targeted: chosen.targeted.filter(isSafeTaskName), preserve: chosen.preserve.filter(isSafeTaskName), heldOut: chosen.heldOut.filter(isSafeTaskName) };
  return {
    ok: true,
    draft: { weakness, evidence, harness, ...(paths ? { paths } : {}), result, proposal, alternatives, changes: applied.changes.filter((c) => c.before !== c.after), tasks, leftOut },
  };
}

/** The evidence packet the proposer sees for a weakness, built from the same mining (held-out tasks and labels). */
export function evidenceFor(ctx: LoopContext, weakness: Weakness, mined: Mined): EvidencePacket {
  return buildEvidence(weakness, mined.trials, {
    tokenBudget: ctx.config.mine.evidenceTokens,
    heldOut: mined.heldOut,
    ...(mined.labels ? { labels: mined.labels } : {}),
  });
}

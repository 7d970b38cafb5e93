import type { SelfharnessConfig } from "../config/schema.js";
import type { Llm } from "../llm/client.js";
import type { EvidencePacket, Weakness } from "../mine/types.js";
import { readModelAnswer } from "./answer.js";
import { guardOptions, selectCandidates, type SelectOptions } from "./edit.js";
import { playbookProposals, preferredSurface } from "./playbook.js";
import { buildProposalPrompt } from "./prompt.js";
import type { DiscardedCandidate, Harness, Proposal, ProposeResult } from "./types.js";

export type { DiscardedCandidate, Edit, Harness, HarnessFile, Proposal, ProposeResult, ProposerKind } from "./types.js";
export { loadHarness, harnessFromFiles, harnessVersion, isHarnessPath, listRepositoryPaths } from "./harness.js";
export { applyEdits, applyProposal, changeKey, guardProposal, normalisePath, renderDiff, selectCandidates } from "./edit.js";
export type { EditStats, FileChange, GuardOptions, GuardResult, SelectOptions } from "./edit.js";
export { forbiddenNames } from "./forbidden.js";
export { CONTENT_RULES, contentFinding, type ContentFinding, type ContentGuardConfig, type ContentRule } from "./content.js";
export { playbookMechanisms, playbookProposals, preferredSurface } from "./playbook.js";
export { buildProposalPrompt, PROPOSAL_SCHEMA, PROPOSAL_SCHEMA_NAME, type PromptInput, type ProposalPrompt } from "./prompt.js";
export { readModelAnswer, type ModelAnswer } from "./answer.js";

export interface ProposeInput {
  weakness: Weakness;
  evidence: EvidencePacket;
  harness: Harness;
  config: SelfharnessConfig;
  /** Task names, test names and trial-specific paths (see `forbiddenNames`). */
  forbidden: string[];
  /** Earlier attempts for this weakness and why they failed; their changes are not proposed again. */
  earlier: { title: string; reason: string; proposal?: Proposal }[];
  llm: Llm | null;
  /** Upper bound on the model's answer length. */
  maxAnswerTokens?: number;
  /** Every path in the repository's tree (see `GuardOptions.existingPaths`); without it no file is created. */
  existingPaths?: ReadonlySet<string>;
}

const DEFAULT_ANSWER_TOKENS = 8192;

/**
 * Candidate edits for one weakness, guarded and ranked: the model's first when one is given, the
 * playbook's when there is no model or it gives nothing usable (and `propose.fallback` allows it).
 * A model's explicit "no change" is respected: the playbook does not override a reasoned refusal.
 */
export async function propose(input: ProposeInput): Promise<ProposeResult> {
  const limit = input.config.propose.candidates;
  const preferred = preferredSurface(input.weakness.signature.mechanism, input.harness);
  const select: SelectOptions = {
    ...guardOptions(input.config, { harness: input.harness, ...(input.existingPaths ? { paths: input.existingPaths } : {}) }, input.forbidden),
    earlier: input.earlier,
    preferredPaths: preferred ? [preferred] : [],
  };
  const discarded: DiscardedCandidate[] = [];
  let note: string | undefined;

  if (input.llm) {
    const fromModel = await proposeWithModel(input, select, limit);
    discarded.push(...fromModel.discarded);
    if (fromModel.proposals.length > 0) return { proposals: fromModel.proposals, discarded, proposer: "llm" };
    if (fromModel.noChange) return { proposals: [], discarded, proposer: "llm", note: `the model proposed no change: ${fromModel.noChange}` };
    note = fromModel.note;
    if (input.config.propose.fallback !== "playbook") return { proposals: [], discarded, proposer: "llm", note };
  }

  const candidates = playbookProposals(input.weakness, input.harness, limit);
  const selected = selectCandidates(candidates, select);
  discarded.push(...selected.discarded);
  if (candidates.length === 0) {
    const why = `the playbook has no remedy for the ${input.weakness.signature.mechanism} mechanism in this harness`;
    note = note ? `${note}; ${why}` : why;
  }
  return { proposals: selected.proposals.slice(0, limit), discarded, proposer: "playbook", ...(note ? { note } : {}) };
}

async function proposeWithModel(
  input: ProposeInput,
  select: SelectOptions,
  limit: number,
): Promise<{ proposals: Proposal[]; discarded: DiscardedCandidate[]; noChange?: string; note?: string }> {
  const prompt = buildProposalPrompt({
    weakness: input.weakness,
    evidence: input.evidence,
    harness: input.harness,
    budget: input.config.propose.budget,
    candidates: limit,
    earlier: input.earlier,
  });
  const answer = await input.llm!.completeJson({
    system: prompt.system,
    user: prompt.user,
    schemaName: prompt.schemaName,
    schema: prompt.schema,
    maxTokens: input.maxAnswerTokens ?? DEFAULT_ANSWER_TOKENS,
  });
  if (!answer.ok) {
    const reason = `model answer unusable: ${answer.reason}`;
    return { proposals: [], discarded: [{ reason }], note: reason };
  }
  const read = readModelAnswer(answer.value, input.weakness.id);
  if ("error" in read) {
    const reason = `model answer unusable: ${read.error}`;
    return { proposals: [], discarded: [{ reason }], note: reason };
  }
  const selected = selectCandidates(read.candidates, select);
  const ranked = selected.proposals;
  const beyond = ranked.slice(limit).map((p) => ({ title: p.title, reason: `ranked below the ${limit} candidates asked for` }));
  const discarded = [...read.invalid, ...selected.discarded, ...beyond];
  const note = ranked.length === 0 && !read.noChange ? "no model candidate passed the guards" : undefined;
  return { proposals: ranked.slice(0, limit), discarded, ...(read.noChange ? { noChange: read.noChange } : {}), ...(note ? { note } : {}) };
}

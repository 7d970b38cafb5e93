import { z } from "zod";
import type { DiscardedCandidate, Proposal } from "../propose/types.js";
import { TASK_WEIGHT, type TaskWeights } from "../gate/weights.js";
import { hiddenValue, type StateKey } from "./hidden.js";

export { stateKey, type StateKey } from "./hidden.js";

/**
 * The state of one proposal, kept by the host next to the proposal itself (on GitHub: a hidden
 * comment in the pull request body), so no process holds state of its own and any replica, or the
 * Action, can pick up where another left off. The text it is read from is editable by people, so it is
 * validated here, field by field, and anything that does not fit is refused as a whole.
 */

const MAX_TEXT = 20_000;
const text = z.string().max(MAX_TEXT);
const name = z.string().max(500);
const names = z.array(name).max(2_000);
const runId = z.number().int().positive();

const proposalSchema: z.ZodType<Proposal> = z.object({
  weakness: name,
  title: text,
  rationale: text,
  expected: text,
  preserved: text,
  risk: text,
  edits: z.array(z.object({ path: name, before: text, after: text })).max(50),
});

const discardedSchema: z.ZodType<DiscardedCandidate> = z.object({ title: text.optional(), reason: text });

const attemptSchema = z.object({ title: text, reason: text, proposal: proposalSchema.optional() });

/** One dispatch of the regression workflow: the id its run name carries, and the run once known. */
const dispatchSchema = z.object({
  selfharnessId: name,
  runId: runId.optional(),
});

/** Bounds of the lists a state grows: writers trim to them (or refuse), so a state always decodes. */
export const MAX_STAGE_DISPATCHES = 10;
export const MAX_ATTEMPTS = 50;
export const MAX_DISCARDED = 100;

/**
 * One stage of a validation: the same tasks and trials dispatched on both sides at the same time, the
 * candidate on the proposal's branch and the baseline on the base branch. A repeat of the stage
 * (`/selfharness retry regression`) adds a dispatch per side: a round of the stage, whose trials
 * join the comparison in a look of their own.
 */
const stageSchema = z.object({
  stage: z.number().int().min(1).max(20),
  tasks: names,
  trials: z.number().int().min(1).max(20),
  dispatchedAt: name,
  candidate: z.array(dispatchSchema).min(1).max(MAX_STAGE_DISPATCHES),
  baseline: z.array(dispatchSchema).min(1).max(MAX_STAGE_DISPATCHES),
});

/** The gate's validation of one head commit: its stages so far, its budget and its check. */
const validationSchema = z.object({
  headSha: name,
  /** The branch the baseline runs on. */
  baseRef: name,
  checkRunId: runId.optional(),
  /** Task-trials the validation may spend, both sides counted. */
  budget: z.number().int().min(0).max(1_000_000),
  /** What the power plan said before the first dispatch. */
  plan: text.optional(),
  /**
   * The improvement test's task weights, fixed when the validation started (`taskWeights`): tasks the
   * base never passed and tasks it always passed in the mined eval runs; every other task weighs
   * `TASK_WEIGHT.sometimesPassed`. Absent: every task weighs 1 (no history, or a validation recorded
   * before weights).
   */
  weights: z.object({ neverPassed: names, alwaysPassed: names }).optional(),
  stages: z.array(stageSchema).min(1).max(20),
});

/**
 * A writer's approval of the candidate before the regression workflow (which has the repository's
 * secrets) runs it: requested for `headSha` (with the check that says so), granted when `approvedBy` is set.
 */
const approvalSchema = z.object({
  headSha: name,
  checkRunId: runId.optional(),
  approvedBy: name.optional(),
  approvedAt: name.optional(),
});

const verdictSchema = z.object({
  decision: z.enum(["accept", "reject", "needs-more-evidence", "inconclusive"]),
  headSha: name,
  reasons: z.array(text).max(50).optional(),
});

/** The watch after merge: the eval runs on the merged harness judged so far, and what they said. */
const watchSchema = z.object({
  runs: z.array(runId).max(20),
  verdict: z.enum(["improved", "worse", "no-change", "not-enough-data"]),
  /** Reported on the pull request: the watch is over. */
  done: z.boolean(),
  /** The revert pull request opened when the merge made things worse. */
  revert: z.number().int().positive().optional(),
});

export const proposalStateSchema = z.object({
  version: z.literal(1),
  weakness: name,
  slug: name,
  harnessVersion: name,
  base: z.object({ ref: name, sha: name }),
  /** Eval run ids whose artifacts were mined. */
  runsMined: z.array(runId).max(100),
  /** The eval run (and attempt) whose completion led to this proposal: lets any replica see it was handled. */
  trigger: z.object({ runId, attempt: z.number().int().positive() }).optional(),
  proposer: z.enum(["llm", "playbook"]),
  /** The candidate on the branch now, and the ones not tried yet, best first. */
  current: proposalSchema,
  alternatives: z.array(proposalSchema).max(20),
  /** Candidates already tried for this weakness and why they were set aside. */
  attempts: z.array(attemptSchema).max(MAX_ATTEMPTS),
  /** Candidates the guards or the model discarded when this weakness was proposed for, with the reason. */
  discarded: z.array(discardedSchema).max(MAX_DISCARDED).optional(),
  /** The commit the app last put on the branch; any other head means someone else pushed. */
  head: name.optional(),
  tasks: z.object({ targeted: names, preserve: names, heldOut: names }),
  validation: validationSchema.optional(),
  verdict: verdictSchema.optional(),
  /** A head commit the gate refuses to validate (someone pushed changes the guards reject), and why. */
  refused: z.object({ headSha: name, reason: text }).optional(),
  approval: approvalSchema.optional(),
  watch: watchSchema.optional(),
});

export type ProposalState = z.infer<typeof proposalStateSchema>;
export type Attempt = z.infer<typeof attemptSchema>;
export type Validation = z.infer<typeof validationSchema>;
export type Stage = z.infer<typeof stageSchema>;
export type Dispatch = z.infer<typeof dispatchSchema>;
export type VerdictRecord = z.infer<typeof verdictSchema>;
export type ApprovalRecord = z.infer<typeof approvalSchema>;
export type WatchRecord = z.infer<typeof watchSchema>;

/** Task weights as a validation records them: only what differs from the middle weight, nothing when all weigh 1. */
export function recordWeights(weights: TaskWeights): Validation["weights"] {
  const list = (weight: number) => [...weights].filter(([, w]) => w === weight).map(([task]) => task);
  if ([...weights.values()].every((w) => w === 1)) return undefined;
  return { neverPassed: list(TASK_WEIGHT.neverPassed), alwaysPassed: list(TASK_WEIGHT.alwaysPassed) };
}

/** The weights a validation recorded, for its tasks; undefined (every task 1) when it recorded none. */
export function recordedWeights(validation: Validation, tasks: readonly string[]): TaskWeights | undefined {
  const { weights } = validation;
  if (!weights) return undefined;
  const never = new Set(weights.neverPassed);
  const always = new Set(weights.alwaysPassed);
  return new Map(tasks.map((task) => [task, never.has(task) ? TASK_WEIGHT.neverPassed : always.has(task) ? TASK_WEIGHT.alwaysPassed : TASK_WEIGHT.sometimesPassed]));
}

/** The state in `value`, or null when it is not a state this version can act on. */
export function parseProposalState(value: unknown): ProposalState | null {
  const parsed = proposalStateSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

const proposalState = (key: StateKey) => hiddenValue("selfharness:metadata", key, parseProposalState);

/** The state as a hidden, sealed comment for a pull request description. */
export function encodeState(state: ProposalState, key: StateKey): string {
  return proposalState(key).encode(state);
}

/** The state in a description, or null when there is none whose seal verifies and whose content validates. */
export function decodeState(body: string | null | undefined, key: StateKey): ProposalState | null {
  return proposalState(key).decode(body);
}

/** The description with its state replaced, or appended; a body carries only one. */
export function withState(body: string, state: ProposalState, key: StateKey): string {
  return proposalState(key).replace(body, state);
}

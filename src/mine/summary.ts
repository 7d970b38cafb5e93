import { detach } from "../traces/bound.js";
import type { Trial } from "../traces/types.js";
import { hasAgentWork } from "./actions.js";
import { renderSteps } from "./excerpt.js";
import { trialDigest } from "./digest.js";
import { dominantFinding } from "./priority.js";
import { cutOff, DETECTORS, isAgentTimeout, viewOf, type TrialView } from "./signals.js";
import { verifierSideError } from "./verifier-side.js";
import type { Finding } from "./types.js";
import { failedTests, terminalCause, verifierText } from "./verifier.js";

/** Excerpt shape of a weakness's examples: what `mineWeaknesses` shows of a failure. */
export const EXAMPLE_EXCERPT = { window: 1, maxChars: 300, maxSteps: 4 } as const;

/**
 * What mining keeps of one trial: everything the clustering, the suspect tasks, the timeout-label
 * check and the model labeller need, of bounded size and in memory of its own. A corpus is mined
 * from these, so its trials' text can be let go as soon as each is read.
 */
export interface TrialSummary {
  kind: "trial-summary";
  id: string;
  run: string;
  task: string;
  outcome: Trial["outcome"];
  infraKind?: string;
  agent?: string;
  model?: string;
  /** The harness's timeout label, and whether the agent's own transcript shows the run cut off. */
  timeoutLabel?: { cutOff: boolean };
  /** The verifier said something about the trial (test messages or output). */
  verifierDetail: boolean;
  /** A verifier-side error no output of the agent could fix (see suspectTasks). */
  verifierSideError?: { key: string; reason: string };
  failure?: FailureSummary;
}

export interface FailureSummary {
  /** The detectors' findings. */
  findings: Finding[];
  cause: string;
  /** The trace shows what the agent did. */
  observed: boolean;
  failedTests: string[];
  /** The steps around the dominant finding (or the last steps when no detector fired), as examples show them. */
  excerpt: string;
  /** What the model labeller is shown, when a failure no detector explains may be labelled. */
  digest?: string;
}

export function isTrialSummary(item: Trial | TrialSummary): item is TrialSummary {
  return (item as TrialSummary).kind === "trial-summary";
}

function detachFinding(finding: Finding): Finding {
  return { ...finding, kind: finding.kind, detail: detach(finding.detail), steps: [...finding.steps] };
}

/** A trial of a held-out task: who it is and nothing of what it holds (it is never mined). */
export function heldOutSummary(trial: Trial): TrialSummary {
  return { kind: "trial-summary", id: detach(trial.id), run: detach(trial.run), task: detach(trial.task), outcome: trial.outcome, verifierDetail: false };
}

/**
 * Summarises a trial for mining: detectors run once, here. `digest` keeps the labeller's view of a
 * failure no detector explains (only worth its cost when labelling is on).
 */
export function summarizeTrial(trial: Trial, options: { digest?: boolean } = {}): TrialSummary {
  const summary: TrialSummary = { kind: "trial-summary", id: detach(trial.id), run: detach(trial.run), task: detach(trial.task), outcome: trial.outcome, verifierDetail: false };
  if (trial.infra) summary.infraKind = detach(trial.infra.kind);
  if (trial.agent !== undefined) summary.agent = detach(trial.agent);
  if (trial.model !== undefined) summary.model = detach(trial.model);
  if (trial.outcome === "invalid") return summary;
  // A passing trial needs its commands only for a timeout label: most are summarised without them.
  let trialView: TrialView | undefined;
  const view = () => (trialView ??= viewOf(trial));
  const observed = trial.steps.some((s) => s.source === "agent" && s.text) || hasAgentWork(view());
  if (isAgentTimeout(trial.failureMode) && observed) summary.timeoutLabel = { cutOff: cutOff(view()) };
  // A passing trial rules its task out of the suspects; its verifier is never read for one.
  summary.verifierDetail = trial.outcome === "fail" && verifierText(trial).trim() !== "";
  if (summary.verifierDetail) {
    const error = verifierSideError(trial);
    if (error) summary.verifierSideError = { key: detach(error.key), reason: detach(error.reason) };
  }
  if (trial.outcome !== "fail") return summary;
  const findings = Object.values(DETECTORS).flatMap((detect) => detect(view()));
  const dominant = dominantFinding(findings);
  summary.failure = {
    findings: findings.map(detachFinding),
    cause: terminalCause(trial, isAgentTimeout(trial.failureMode)),
    observed,
    failedTests: failedTests(trial).map((t) => detach(t.name)),
    excerpt: detach(renderSteps(trial, dominant?.steps ?? [], EXAMPLE_EXCERPT)),
  };
  if (options.digest && findings.length === 0 && observed) summary.failure.digest = detach(trialDigest(trial));
  return summary;
}

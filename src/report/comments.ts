import type { Verdict } from "../gate/types.js";
import type { DiscardedCandidate, Proposal } from "../propose/types.js";
import { codeBlock, inlineCode, plainText } from "./markdown.js";
import { describeNext, formatVerdictMarkdown } from "./verdict.js";

/** The commands a person with write access can give on a proposal pull request. */
export const COMMANDS: readonly { command: string; does: string }[] = [
  { command: "/selfharness retry", does: "replace this edit with the next candidate for the same weakness and validate it" },
  { command: "/selfharness retry regression", does: "run the regression validation again for the current commit" },
  { command: "/selfharness explain", does: "show the full evidence and the candidates that were set aside, with reasons" },
  { command: "/selfharness ignore", does: "close this pull request and never propose for this weakness again in this repository" },
  { command: "/selfharness approve", does: "let the regression workflow, which has this repository's secrets, run an edit of code, scripts or tool definitions on the current commit" },
  { command: "/selfharness help", does: "show this list" },
];

/** The command list as Markdown, for PR bodies and replies. */
export function commandHelp(): string {
  return [
    ...COMMANDS.map((c) => `- \`${c.command}\`: ${c.does}`),
    "",
    "Commands are accepted from people with write or admin access to this repository.",
  ].join("\n");
}

export function helpComment(): string {
  return `**selfharness commands**\n\n${commandHelp()}`;
}

export function unknownCommandComment(command: string): string {
  return `I don't know the command ${inlineCode(command, 100)}.\n\n${commandHelp()}`;
}

export function refusalComment(user: string): string {
  return `Sorry @${user}, only people with write or admin access to this repository can give selfharness commands.`;
}

/** Hidden marker of the verdict comment for one tested commit, so a redelivery updates it instead of adding another. */
export function verdictMarker(headSha: string): string {
  return `<!-- selfharness:verdict ${headSha} -->`;
}

export interface VerdictReport {
  verdict: Verdict;
  headSha: string;
  runUrl?: string;
  /** Where the baseline ran, in words ("`main`, in the same stages"). */
  baseline: string;
  alternativesLeft: number;
  automergeLabel: string;
  nativeAutoMerge: boolean;
}

const TITLE_WORDS = { accept: "Accepted", reject: "Rejected", "needs-more-evidence": "Needs more evidence", inconclusive: "Inconclusive" } as const;

/** The check run's title: the decision and the deltas at a glance (the held-out one only when there is a held-out split). */
export function verdictTitle(verdict: Verdict): string {
  const delta = (d: number) => `${d >= 0 ? "+" : ""}${(d * 100).toFixed(1)} pts`;
  const { heldIn, heldOut } = verdict.splits;
  const detail =
    verdict.overall.tasks === 0
      ? "no task compared"
      : heldOut.tasks > 0
        ? `held-in ${delta(heldIn.delta)}, held-out ${delta(heldOut.delta)}`
        : `${delta(verdict.overall.delta)} over ${verdict.overall.tasks} task${verdict.overall.tasks === 1 ? "" : "s"}`;
  return `${TITLE_WORDS[verdict.decision]}: ${detail}`;
}

/** The verdict in full: table with intervals, reasons, flipped tasks, invalid trials, chart, and what happens next. */
export function verdictSummary(report: VerdictReport): string {
  const tested = `Tested commit \`${report.headSha.slice(0, 7)}\`${report.runUrl ? ` in [the regression run](${report.runUrl})` : ""}; baseline: ${report.baseline}.`;
  return [tested, formatVerdictMarkdown(report.verdict).trimEnd(), nextStep(report)].join("\n\n");
}

/** The one comment per tested commit. */
export function verdictComment(report: VerdictReport): string {
  return `${verdictMarker(report.headSha)}\n### selfharness gate: ${verdictTitle(report.verdict)}\n\n${verdictSummary(report)}\n`;
}

function nextStep(report: VerdictReport): string {
  const { verdict } = report;
  if (verdict.decision === "accept") {
    const native = report.nativeAutoMerge ? " GitHub's auto-merge is enabled for exactly this commit." : "";
    return `The gate passed: labelled \`${report.automergeLabel}\`.${native} A push by anyone else removes the label and runs the gate again.`;
  }
  if (verdict.decision === "reject") {
    const next =
      report.alternativesLeft > 0
        ? `\`/selfharness retry\` tries the next candidate (${report.alternativesLeft} left).`
        : "`/selfharness retry` asks for a new candidate that avoids the earlier ones.";
    return `The gate rejected this edit; the pull request stays open for people to review. ${next}`;
  }
  if (verdict.decision === "needs-more-evidence") return describeNext(verdict) ?? "The evidence does not decide yet.";
  return [
    `Some trials gave no trustworthy verdict, so the gate cannot decide.${invalidByTask(verdict)}`,
    "`/selfharness retry regression` runs the last stage again and adds its trials to the same comparison.",
  ].join("\n\n");
}

/** Invalid trials counted per task and side; the verdict above lists each one. */
function invalidByTask(verdict: Verdict): string {
  if (verdict.invalid.length === 0) return "";
  const counts = new Map<string, number>();
  for (const t of verdict.invalid) {
    const where = `${inlineCode(t.task)} (${t.side})`;
    counts.set(where, (counts.get(where) ?? 0) + 1);
  }
  return ` Invalid trials: ${[...counts].map(([where, n]) => `${where} × ${n}`).join(", ")}.`;
}

/**
 * The PR body with its "Validation" section saying where the gate stands now; a body without that
 * section is returned unchanged.
 */
export function withValidationStatus(body: string, status: string): string {
  // Plain searches, not a lazy regex ending in `\s*$`: the body is editable, and that pattern retried
  // from every position of a long run of blanks takes quadratic time.
  const heading = "### Validation\n\n";
  let at = body.indexOf(heading);
  while (at > 0 && body[at - 1] !== "\n") at = body.indexOf(heading, at + 1);
  if (at === -1) return body;
  const start = at + heading.length;
  // The section ends at the next heading, details block or hidden comment, or where only blanks remain.
  const ends = ["\n\n### ", "\n\n<details>", "\n\n<!-- "].map((next) => body.indexOf(next, start)).filter((i) => i !== -1);
  const end = Math.min(Math.max(start, body.trimEnd().length), ...ends);
  return body.slice(0, start) + status + body.slice(end);
}

/** The gate could not run at all (the regression workflow is missing, the run left no traces, ...). */
export function gateProblemSummary(problem: string): string {
  return `${problem}\n\n\`/selfharness retry regression\` runs the validation again once this is fixed.`;
}

/** A stage dispatched on both sides, for the check run and the pull request's validation status. */
export function stageStartedSummary(input: { stage: number; tasks: number; trials: number; baseRef: string; runUrl?: string; repeat?: boolean; plan?: string }): string {
  const run = input.runUrl ? `[regression run](${input.runUrl})` : "regression run";
  const what = `${input.tasks} task${input.tasks === 1 ? "" : "s"} × ${input.trials} trial${input.trials === 1 ? "" : "s"}`;
  const lead = input.repeat
    ? `Stage ${input.stage} runs again (its trials join the earlier ones): ${what} in a ${run} on this branch and on ${inlineCode(input.baseRef)}, at the same time.`
    : `Stage ${input.stage}: ${what} in a ${run} on this branch and on ${inlineCode(input.baseRef)}, at the same time.`;
  return input.plan ? `${lead}\n\n${input.plan}` : lead;
}

export function retryComment(proposal: Proposal, alternativesLeft: number): string {
  return [
    `Replaced the edit with the next candidate: **${plainText(proposal.title)}**.`,
    plainText(proposal.rationale),
    `Validation started for the new commit. Candidates left after this one: ${alternativesLeft}.`,
  ].join("\n\n");
}

export function noAlternativeComment(attempts: { title: string; reason: string }[]): string {
  const tried = attempts.length > 0 ? `\n\nTried so far:\n${attempts.map((a) => `- ${plainText(a.title)}: ${plainText(a.reason)}`).join("\n")}` : "";
  return `No candidate is left for this weakness: every earlier one was tried and no new one passed the guards.${tried}\n\nThe pull request stays open; \`/selfharness ignore\` closes it for good.`;
}

export function ignoredComment(slug: string): string {
  return `Closed. selfharness will not propose for this weakness (\`${slug}\`) again in this repository.`;
}

export interface Explanation {
  weaknessTitle: string;
  /** The evidence packet the proposer saw, or why it could not be rebuilt. */
  evidence: { text: string; tokens: number } | { missing: string };
  current: Proposal;
  alternatives: Proposal[];
  attempts: { title: string; reason: string }[];
  discarded: DiscardedCandidate[];
}

export function explainComment(input: Explanation): string {
  const evidence =
    "text" in input.evidence
      ? `**Evidence packet** (${input.evidence.tokens} tokens, as the proposer saw it):\n\n${codeBlock(input.evidence.text)}`
      : `**Evidence packet**: ${plainText(input.evidence.missing)}`;
  const list = (items: { title?: string; reason: string }[]) => items.map((c) => `- ${plainText(c.title ?? "(untitled)")}: ${plainText(c.reason)}`).join("\n");
  const sections = [
    `### Why selfharness proposed this: ${plainText(input.weaknessTitle)}`,
    evidence,
    `**Current candidate**: ${plainText(input.current.title)}\n\n${plainText(input.current.rationale)}\n\n- expected: ${plainText(input.current.expected)}\n- preserved: ${plainText(input.current.preserved)}\n- risk: ${plainText(input.current.risk)}`,
    input.alternatives.length > 0 ? `**Candidates not tried yet**:\n${input.alternatives.map((p) => `- ${plainText(p.title)}`).join("\n")}` : "**Candidates not tried yet**: none",
    input.attempts.length > 0 ? `**Tried and set aside**:\n${list(input.attempts)}` : "",
    input.discarded.length > 0 ? `**Discarded before the pull request**:\n${list(input.discarded)}` : "**Discarded before the pull request**: none",
  ];
  return sections.filter(Boolean).join("\n\n");
}

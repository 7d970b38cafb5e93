import { inlineCode } from "./markdown.js";

/** Why a proposal waits for approval, in a few words ("it edits code: `harness/run.py`"). */
export interface ApprovalWait {
  /** Files the candidate edits that are not prose (all of them when every proposal waits). */
  files: string[];
  /** `code`: because of those files; `always`: because the configuration asks for every proposal. */
  because: "code" | "always";
}

function fileList(files: string[]): string {
  const shown = files.slice(0, 10).map((f) => inlineCode(f));
  return `${shown.join(", ")}${files.length > 10 ? ` and ${files.length - 10} more` : ""}`;
}

/** The check title while nothing runs. */
export const APPROVAL_CHECK_TITLE = "Waiting for approval: /selfharness approve";

/** What the check and the description say while the regression run waits for a writer. */
export function approvalWaitingSummary(wait: ApprovalWait, headSha: string): string {
  const why =
    wait.because === "code"
      ? `This edit changes more than prose (${fileList(wait.files)}): code, scripts or tool definitions written by a model.`
      : `\`regression.approval\` is \`always\`: every proposal waits (${fileList(wait.files)}).`;
  return [
    `**Waiting for approval.** ${why} The regression workflow runs with this repository's secrets, so it does not start until someone with write access reviews commit \`${headSha.slice(0, 7)}\` and comments \`/selfharness approve\`.`,
    "A later commit on this branch needs a new approval.",
  ].join(" ");
}

export function approvedSummary(user: string, headSha: string): string {
  return `Approved by @${user} for commit \`${headSha.slice(0, 7)}\`; the regression run starts.`;
}

export function nothingToApproveComment(headSha: string, reason: string): string {
  return `Nothing waits for approval on commit \`${headSha.slice(0, 7)}\`: ${reason}.`;
}

import { formatPValue, formatPoints, formatRate, pIs, SPLIT_LABEL } from "../gate/format.js";
import type { PowerPlan } from "../gate/plan.js";
import type { Decision, LookResult, SplitResult, StagePlan, Verdict } from "../gate/types.js";
import type { RateChange, WatchResult } from "../gate/watch.js";
import { inlineCode } from "./markdown.js";
import { formatMarkdownTable, formatTable } from "./table.js";

/** The gate's verdicts, power plans and post-merge watches, for terminals and for pull requests and check runs. */

const SPLIT_HEADERS = ["split", "tasks", "baseline", "candidate", "Δ", "interval", "p gain", "p loss"];
const SPLIT_ALIGN = ["left", "right", "right", "right", "right", "right", "right", "right"] as const;

function splitRows(verdict: Verdict): { label: string; split: SplitResult }[] {
  const rows = [{ label: "all tasks", split: verdict.overall }];
  // With one split the "all tasks" row says it all.
  if (verdict.splits.heldOut.tasks > 0) rows.push({ label: SPLIT_LABEL.heldIn, split: verdict.splits.heldIn }, { label: SPLIT_LABEL.heldOut, split: verdict.splits.heldOut });
  if (verdict.targeted) rows.push({ label: "targeted", split: verdict.targeted });
  return rows;
}

function splitCells(label: string, s: SplitResult): string[] {
  if (s.tasks === 0) return [label, "0", "-", "-", "-", "-", "-", "-"];
  const interval = `${formatPoints(s.interval[0])} .. ${formatPoints(s.interval[1])}`;
  return [label, String(s.tasks), formatRate(s.baseline), formatRate(s.candidate), formatPoints(s.delta), interval, formatPValue(s.pValue), formatPValue(s.lossPValue)];
}

function level(alpha: number): string {
  return `${Math.round((1 - 2 * alpha) * 100)}%`;
}

function splitHeaders(verdict: Verdict, markdown: boolean): string[] {
  return SPLIT_HEADERS.map((h) => (h === "interval" ? `${level(verdict.alpha)} interval${markdown ? " of Δ" : ""}` : h));
}

function lookHeaders(verdict: Verdict): string[] {
  return ["look", "budget spent", verdict.weighted ? "candidate passes, weighted" : "candidate passes", "expected", "p", "accepts at p ≤", "alpha spent"];
}

function lookRows(looks: readonly LookResult[]): string[][] {
  return looks.map((l) => [
    String(l.look),
    formatRate(l.fraction),
    String(l.observed),
    l.expected.toFixed(1),
    formatPValue(l.nominalP),
    l.nominalThreshold === null ? "none" : formatPValue(l.nominalThreshold),
    l.alphaSpent.toFixed(3),
  ]);
}

function flipRows(verdict: Verdict): string[][] {
  return verdict.flips.map((f) => [
    f.task,
    SPLIT_LABEL[f.split],
    `${f.baseline.passes}/${f.baseline.valid}`,
    `${f.candidate.passes}/${f.candidate.valid}`,
    formatPoints(f.delta),
    [f.targeted ? "targeted" : "", f.hardRegression ? `hard regression (${pIs(f.lossPValue)})` : f.delta < 0 ? `loss, not significant (${pIs(f.lossPValue)})` : ""].filter(Boolean).join(", "),
  ]);
}

function settings(verdict: Verdict): string {
  const design = verdict.rule === "paper" ? "" : `, ${verdict.design === "adaptive" ? "staged" : "fixed"}`;
  return `rule ${verdict.rule}${design}, alpha ${verdict.alpha}, margin ${(verdict.margin * 100).toFixed(1)} pts, seed ${verdict.seed}`;
}

function budgetLine(verdict: Verdict): string {
  const { total, spent } = verdict.budget;
  const looks = verdict.rule === "paper" ? "" : `, ${verdict.looks.length} look${verdict.looks.length === 1 ? "" : "s"}`;
  return verdict.design === "adaptive" ? `spent ${spent} task-trials (both sides) of a budget of ${total}${looks}` : `${spent} task-trials (both sides)${looks}`;
}

/** What happens next, in words: the next stage's tasks and trials, or why there is none. */
export function describeNext(verdict: Verdict): string | null {
  if (verdict.decision !== "needs-more-evidence") return null;
  const { next } = verdict;
  if (!next) {
    const person = "a person decides (merge by hand, or close)";
    const more = verdict.design === "adaptive" ? "raise `gate.sequential.budget`" : "raise `regression.trials`";
    const done = verdict.design === "adaptive" ? "The budget is spent without a decision" : "This fixed validation has run all its trials without a decision";
    // A repeat of the last stage is a look of its own with the alpha the earlier looks left unused;
    // when none is left, its trials could only cost runs.
    const left = verdict.alpha - (verdict.looks.at(-1)?.alphaUsed ?? 0);
    if (left < verdict.alpha / 100) {
      return `${done}: ${person}. The looks used the test's whole alpha, so more trials of this commit cannot make the gate accept; for more, ${more} and push a commit, which starts a new validation.`;
    }
    return `${done}: ${person}, or run the last stage again (\`/selfharness retry regression\`): its trials are a look of their own, with the ${left.toFixed(4)} of alpha ${verdict.alpha} the earlier looks left unused.`;
  }
  return `Stage ${next.stage} runs ${describeStage(next)}.`;
}

function describeStage(plan: StagePlan): string {
  return `${plan.tasks.length} task${plan.tasks.length === 1 ? "" : "s"} × ${plan.trials} trial${plan.trials === 1 ? "" : "s"} on each side (${plan.cost} task-trials)`;
}

export function formatVerdictText(verdict: Verdict): string {
  const lines = [`decision: ${verdict.decision} (${settings(verdict)})`, budgetLine(verdict), ""];
  lines.push(formatTable(splitHeaders(verdict, false), splitRows(verdict).map((r) => splitCells(r.label, r.split)), [...SPLIT_ALIGN]), "");
  lines.push("rules:");
  for (const check of verdict.checks) lines.push(`  ${check.passed ? "ok  " : "FAIL"} ${check.reason}`);
  if (verdict.looks.length > 1) lines.push("", "looks of the staged test:", formatTable(lookHeaders(verdict), lookRows(verdict.looks), ["right", "right", "right", "right", "right", "right", "right"]));
  const next = describeNext(verdict);
  if (next) {
    lines.push("", next.replace(/`/g, ""));
    if (verdict.next) lines.push(`  tasks: ${verdict.next.tasks.join(", ")}`);
  }
  if (verdict.flips.length > 0) {
    lines.push("", "tasks that changed:");
    lines.push(formatTable(["task", "split", "baseline", "candidate", "Δ", "note"], flipRows(verdict), ["left", "left", "right", "right", "right", "left"]));
  }
  if (verdict.invalid.length > 0) {
    lines.push("", `invalid trials (excluded from every pass fraction): ${verdict.invalid.length}`);
    lines.push(formatTable(["side", "task", "trial", "kind"], verdict.invalid.map((i) => [i.side, i.task, i.trial, i.kind])));
  }
  return `${lines.join("\n")}\n`;
}

const DECISION_BADGES: Record<Decision, string> = {
  accept: "✅ accept",
  reject: "❌ reject",
  "needs-more-evidence": "⏳ needs more evidence",
  inconclusive: "⚠️ inconclusive",
};


function details(summary: string, body: string): string[] {
  return [`<details><summary>${summary}</summary>`, "", body, "", "</details>", ""];
}

export function formatVerdictMarkdown(verdict: Verdict): string {
  const parts = [`**Gate: ${DECISION_BADGES[verdict.decision]}** (${settings(verdict)}; ${budgetLine(verdict)})`, ""];
  parts.push(formatMarkdownTable(splitHeaders(verdict, true), splitRows(verdict).map((r) => splitCells(r.label, r.split))), "");
  parts.push(...verdict.checks.map((c) => `- ${c.passed ? "✅" : "❌"} ${c.reason}`), "");
  const next = describeNext(verdict);
  if (next) parts.push(next, "");
  if (verdict.next) parts.push(...details(`Tasks of stage ${verdict.next.stage} (${verdict.next.tasks.length})`, verdict.next.tasks.map((task) => inlineCode(task)).join(", ")));
  if (verdict.looks.length > 1) parts.push(...details(`Looks of the staged test (${verdict.looks.length})`, formatMarkdownTable(lookHeaders(verdict), lookRows(verdict.looks))));
  if (verdict.flips.length > 0) {
    parts.push(...details(`Tasks that changed (${verdict.flips.length})`, formatMarkdownTable(["task", "split", "baseline", "candidate", "Δ", "note"], flipRows(verdict).map(([task, ...rest]) => [inlineCode(task!), ...rest]))));
  }
  if (verdict.invalid.length > 0) {
    parts.push(
      ...details(
        `Invalid trials, excluded from every pass fraction (${verdict.invalid.length})`,
        formatMarkdownTable(["side", "task", "trial", "kind"], verdict.invalid.map((i) => [i.side, inlineCode(i.task), inlineCode(i.trial), inlineCode(i.kind)])),
      ),
    );
  }
  const chart = verdictChart(verdict);
  if (chart) parts.push(chart, "");
  return `${parts.join("\n").trimEnd()}\n`;
}

/**
 * A mermaid bar chart of baseline against candidate pass rate per non-empty split; null when there is
 * nothing to draw. xychart-beta has no legend, so the title says which bar is which.
 */
export function verdictChart(verdict: Verdict): string | null {
  const rows = splitRows(verdict).filter((r) => r.split.tasks > 0);
  if (rows.length === 0) return null;
  const percent = (rate: number) => (rate * 100).toFixed(1);
  return [
    "```mermaid",
    "xychart-beta",
    '    title "Pass rate: baseline (first bar) vs candidate (second bar)"',
    `    x-axis [${rows.map((r) => `"${r.label}"`).join(", ")}]`,
    '    y-axis "pass rate (%)" 0 --> 100',
    `    bar [${rows.map((r) => percent(r.split.baseline)).join(", ")}]`,
    `    bar [${rows.map((r) => percent(r.split.candidate)).join(", ")}]`,
    "```",
  ].join("\n");
}

/** The power plan for a check run started before dispatch; plain sentences, for terminals too. */
export function formatPlan(plan: PowerPlan): string {
  const lines = [plan.summary, "", `Stage 1 runs ${describeStage(plan.first)}.`];
  if (plan.design === "adaptive") lines.push("Later stages re-run only the tasks whose outcomes disagreed or gave no valid trial, until the evidence decides or the budget is spent.");
  return `${lines.join("\n")}\n`;
}

function rateRow(label: string, c: RateChange): string[] {
  const range = (i: [number, number]) => `${formatRate(i[0])} .. ${formatRate(i[1])}`;
  return [label, `${formatRate(c.before.rate)} (${range(c.before.interval)})`, `${formatRate(c.after.rate)} (${range(c.after.interval)})`, formatPoints(c.delta), `${formatPoints(c.interval[0])} .. ${formatPoints(c.interval[1])}`, formatPValue(c.up), formatPValue(c.down)];
}

function watchRows(result: WatchResult): string[][] {
  return [rateRow("pass rate", result.passRate), rateRow("weakness rate", result.weakness)];
}

const WATCH_HEADERS = ["rate", "before", "after", "Δ", "interval of Δ", "p rise", "p fall"];

/** The post-merge watch for a terminal; a merged pull request gets `watchComment` (report/watch.ts). */
export function formatWatchText(result: WatchResult): string {
  return [`watch: ${result.verdict}`, "", formatTable(WATCH_HEADERS, watchRows(result)), "", ...result.reasons.map((r) => `  ${r}`), ""].join("\n");
}

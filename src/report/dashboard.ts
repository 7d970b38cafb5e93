import { inlineCode, plainText } from "./markdown.js";
import { formatMarkdownTable } from "./table.js";

export type WeaknessStatus = "found" | "proposed" | "validating" | "accepted" | "rejected" | "ignored" | "exhausted";
export type DashboardAction = "retry" | "ignore";

/** One weakness on the dashboard: what the last mining found, or what a proposal records. */
export interface WeaknessRow {
  id: string;
  title: string;
  /** From the last mining; absent for weaknesses known only from their proposal. */
  failures?: number;
  tasks?: number;
  status: WeaknessStatus;
  /** The proposal pull request the status comes from. */
  pr?: number;
  /** A word more on the status ("waits for /selfharness approve", "merged"). */
  note?: string;
  actions: DashboardAction[];
}

export interface HarnessVersionRow {
  version: string;
  runs: number[];
  passed: number;
  valid: number;
  invalid: number;
  /** ISO time of its latest run. */
  last: string;
}

export interface DashboardView {
  lastRun?: { runId: number; url: string; at: string; conclusion: string | null; outcome: string; reason: string; pr?: number; note?: string };
  weaknesses: WeaknessRow[];
  suspect: { task: string; reason: string }[];
  invalid?: { trials: number; invalid: number; byKind: Record<string, number> };
  /** Oldest first. */
  versions: HarnessVersionRow[];
  lastVerdict?: { pr: number; decision: string; headSha: string; at: string };
  settings: { conclusions: string[]; maxOpenPRs: number; approval: string };
}

/** The title of the one dashboard issue per repository. */
export const DASHBOARD_TITLE = "selfharness dashboard";

/** Marks a checkbox line with the action and the weakness it is for; people see only the words. */
export function actionMarker(action: DashboardAction, weakness: string): string {
  return `<!-- selfharness:${action} ${weakness} -->`;
}

const TICKED = /^\s*[-*] \[[xX]\] .*?<!-- selfharness:(retry|ignore) ([A-Za-z0-9]{1,64}) -->/;

/** The actions whose boxes are ticked in a dashboard text, each once, at most `limit`. */
export function tickedActions(text: string, limit = 10): { action: DashboardAction; weakness: string }[] {
  const seen = new Set<string>();
  const ticks: { action: DashboardAction; weakness: string }[] = [];
  for (const line of text.split("\n")) {
    const match = TICKED.exec(line.slice(0, 2_000));
    if (!match) continue;
    const key = `${match[1]} ${match[2]}`;
    if (seen.has(key)) continue;
    seen.add(key);
    ticks.push({ action: match[1] as DashboardAction, weakness: match[2]! });
    if (ticks.length >= limit) break;
  }
  return ticks;
}

/** The dashboard issue's text (the caller appends the hidden state). */
export function renderDashboard(view: DashboardView): string {
  return [
    "selfharness keeps this issue up to date after every eval run and every verdict. Tick a box below to retry or ignore a weakness; only ticks by people with write access to this repository count.",
    lastRunSection(view),
    weaknessSection(view),
    suspectSection(view),
    versionSection(view),
    view.lastVerdict
      ? `## Last verdict\n\n#${view.lastVerdict.pr}: **${plainText(view.lastVerdict.decision)}** for commit \`${view.lastVerdict.headSha.slice(0, 7)}\` (${when(view.lastVerdict.at)}).`
      : "",
    `<sub>Settings: \`eval.conclusions\` ${view.settings.conclusions.map((c) => `\`${c}\``).join(", ")}; \`limits.maxOpenPRs\` ${view.settings.maxOpenPRs}; \`regression.approval\` \`${view.settings.approval}\`.</sub>`,
  ]
    .filter(Boolean)
    .join("\n\n");
}

function lastRunSection(view: DashboardView): string {
  const run = view.lastRun;
  if (!run) return "## Last eval run\n\nNo eval run has been handled yet.";
  const head = `[Eval run ${run.runId}](${run.url})${run.conclusion ? ` (\`${run.conclusion}\`)` : ""}, ${when(run.at)}`;
  const what = run.outcome === "opened" ? `opened #${run.pr}.` : `**no proposal**: ${plainText(run.reason)}.`;
  const note = run.note ? `\n\n> ${plainText(run.note)}` : "";
  return `## Last eval run\n\n${head}: ${what}${note}`;
}

function weaknessSection(view: DashboardView): string {
  if (view.weaknesses.length === 0) return "## Weaknesses\n\nNo recurring weakness so far.";
  const rows = view.weaknesses.map((w) => [
    `${w.status}${w.note ? ` (${plainText(w.note)})` : ""}`,
    `${plainText(w.title)} (\`${w.id}\`)`,
    w.failures ?? "",
    w.tasks ?? "",
    w.pr !== undefined ? `#${w.pr}` : "",
  ]);
  const actions = view.weaknesses.flatMap((w) =>
    w.actions.map((action) => `- [ ] ${action === "retry" ? "Retry" : "Ignore"}: ${plainText(w.title)} (\`${w.id}\`) ${actionMarker(action, w.id)}`),
  );
  return [
    "## Weaknesses",
    formatMarkdownTable(["status", "weakness", "failures", "tasks", "pull request"], rows),
    ...(actions.length > 0
      ? [
          "**Retry** replaces an open proposal's edit with the next candidate, or proposes again from the last eval run; **ignore** closes the proposal and never proposes for the weakness again.",
          actions.join("\n"),
        ]
      : []),
  ].join("\n\n");
}

function suspectSection(view: DashboardView): string {
  const lines: string[] = [];
  if (view.suspect.length > 0) {
    lines.push("Tasks that look broken rather than hard (they are not mined as agent weaknesses):", "", ...view.suspect.map((s) => `- ${inlineCode(s.task)}: ${plainText(s.reason)}`));
  } else {
    lines.push("No suspect task.");
  }
  const invalid = view.invalid;
  if (invalid && invalid.trials > 0) {
    const kinds = Object.entries(invalid.byKind)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, 8)
      .map(([kind, n]) => `${inlineCode(kind)} ${n}`)
      .join(", ");
    lines.push("", `Invalid trials (no trustworthy verdict, never counted against the agent): ${invalid.invalid} of ${invalid.trials} (${percent(invalid.invalid, invalid.trials)})${kinds ? `: ${kinds}` : ""}.`);
  }
  return `## Suspect tasks and invalid trials\n\n${lines.join("\n")}`;
}

function versionSection(view: DashboardView): string {
  if (view.versions.length === 0) return "## Pass rate per harness version\n\nNo eval run has been read yet.";
  const labels = view.versions.map((v) => `"${v.version.replace(/[^A-Za-z0-9._-]/g, "").slice(0, 12)} (${v.runs.length} run${v.runs.length === 1 ? "" : "s"})"`);
  const rates = view.versions.map((v) => (v.valid > 0 ? Math.round((1000 * v.passed) / v.valid) / 10 : 0));
  const chart = [
    "```mermaid",
    "xychart-beta",
    '    title "Pass rate of the eval runs, per harness version, oldest first"',
    `    x-axis [${labels.join(", ")}]`,
    '    y-axis "pass rate (%)" 0 --> 100',
    `    bar [${rates.join(", ")}]`,
    "```",
  ].join("\n");
  const table = formatMarkdownTable(
    ["harness version", "eval runs", "passed / valid trials", "pass rate", "invalid trials", "last run"],
    view.versions.map((v) => [inlineCode(v.version), v.runs.join(", "), `${v.passed} / ${v.valid}`, v.valid > 0 ? percent(v.passed, v.valid) : "n/a", v.invalid, when(v.last)]),
  );
  return `## Pass rate per harness version\n\n${chart}\n\n${table}`;
}

function percent(part: number, whole: number): string {
  return `${((100 * part) / whole).toFixed(1)}%`;
}

function when(iso: string): string {
  return iso.replace(/\.\d+Z$/, "Z").replace("T", " ").replace(/Z$/, " UTC");
}

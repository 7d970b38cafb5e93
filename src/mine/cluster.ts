import { createHash } from "node:crypto";
import type { Trial } from "../traces/types.js";
import type { Finding, MechanismKind, MineOptions, MineResult, ModelRate, Weakness } from "./types.js";
import { DETECTORS, viewOf } from "./signals.js";
import { dominantFinding, MECHANISM_ORDER } from "./priority.js";
import { suspectTasks } from "./suspect.js";
import { isTrialSummary, summarizeTrial, type TrialSummary } from "./summary.js";

export { dominantFinding, MECHANISM_PRIORITY } from "./priority.js";

export const DEFAULT_MINE_OPTIONS: MineOptions = { minFailures: 2, minTasks: 2, heldOut: [] };

const MECHANISM_TITLES: Record<MechanismKind, string> = {
  "foreground-long-operation": "Runs long installs, downloads or training in the foreground until a time limit kills them",
  "fabricated-result": "Puts a mock, placeholder or guessed result in place of the real one",
  "gave-up": "Gives up with the output incomplete and submits anyway",
  "wrong-output-path": "Writes the output to a path other than the one asked for",
  "repeated-failing-command": "Retries the same failing command",
  "stalled-loop": "Loops without making progress",
  "missing-artifact": "Never writes the required output file",
  "late-or-no-write": "Explores for most of the run and changes things late or never",
  "unverified-completion": "Declares the task complete without checking the result",
  "tool-error-then-stop": "Stops right after a failing command",
  "env-lost": "Assumes shell state (directory, variables, venv) persists between calls",
  "missing-dependency": "Hits a missing module or tool and never installs it",
  "interactive-hang": "Leaves an interactive program waiting for input until the time runs out",
  "format-error": "Produces output the harness cannot parse",
  timeout: "Runs out of time",
  "context-overflow": "Overflows the model's context window",
  "misread-instruction": "Solves a different problem than the instruction states",
  "wrong-solution": "Produces a wrong solution",
};

/** The terminal cause a weakness's id is made of: fixed per mechanism, so the id stays the same as failures accumulate. */
function signatureCause(mechanism: string): string {
  return mechanism === "missing-artifact" || mechanism === "wrong-output-path" ? "missing-output-file" : "task-failed";
}

function causeWords(cause: string): string {
  if (cause === "missing-output-file") return "a required file is missing";
  if (cause === "assertion-failed") return "test assertions fail";
  if (cause === "test-failed") return "tests fail";
  if (cause === "timeout") return "the agent timed out";
  if (cause === "no-verdict-detail") return "no verifier detail";
  if (cause === "task-failed") return "the task failed";
  if (cause.startsWith("error:")) return `tests fail with ${cause.slice(6)}`;
  return cause;
}

export function weaknessId(signature: { cause: string; mechanism: string }): string {
  return createHash("sha256").update(`${signature.cause}\u0000${signature.mechanism}`).digest("hex").slice(0, 10);
}

/**
 * A test for "this trial shows that weakness", by the detectors alone: the mechanism behind a weakness
 * id, and a failed trial whose dominant detected finding is that mechanism. Null for an id this version
 * does not mine.
 */
export function weaknessTest(id: string): { mechanism: MechanismKind; shows: (trial: Trial) => boolean } | null {
  const mechanism = MECHANISM_ORDER.find((m) => weaknessId({ cause: signatureCause(m), mechanism: m }) === id);
  if (!mechanism) return null;
  return { mechanism, shows: (trial) => trial.outcome === "fail" && analyseFailure(trial).dominant?.kind === mechanism };
}

/** One failure with what the miner learnt about it (the evidence packet reads its whole trial). */
export interface MinedFailure {
  trial: Trial;
  /** The finding that names the mechanism (a model label when no detector fired). */
  dominant?: Finding;
}

/** The dominant finding of a failure: its detectors' findings, else the model's label. */
function withLabel(id: string, findings: Finding[], labels?: ReadonlyMap<string, Finding>): { findings: Finding[]; dominant?: Finding } {
  const label = findings.length === 0 ? labels?.get(id) : undefined;
  const all = label ? [{ ...label, basis: label.basis ?? ("model" as const) }] : findings;
  const dominant = dominantFinding(all);
  return { findings: all, ...(dominant ? { dominant } : {}) };
}

export function analyseFailure(trial: Trial, labels?: ReadonlyMap<string, Finding>): MinedFailure {
  const view = viewOf(trial);
  const findings = Object.values(DETECTORS).flatMap((detect) => detect(view));
  const { dominant } = withLabel(trial.id, findings, labels);
  return { trial, ...(dominant ? { dominant } : {}) };
}

/** The held-out list is applied before anything else, so no later stage can read those trials. */
export function withoutHeldOut<T extends { task: string }>(trials: T[], heldOut: readonly string[]): T[] {
  if (heldOut.length === 0) return trials;
  const excluded = new Set(heldOut);
  return trials.filter((t) => !excluded.has(t.task));
}

/** One failure as clustering sees it: its summary, and its dominant finding once labels are in. */
interface Failure {
  summary: TrialSummary;
  details: NonNullable<TrialSummary["failure"]>;
  findings: Finding[];
  dominant?: Finding;
}

function countBy<T>(items: T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

function pickExamples(members: Failure[]): Failure[] {
  // Diverse first: one per task, then one per run, then the rest.
  const observed = members.filter((m) => m.details.observed && m.dominant);
  const chosen: Failure[] = [];
  const tasks = new Set<string>();
  const runs = new Set<string>();
  for (const pass of [(m: Failure) => !tasks.has(m.summary.task), (m: Failure) => !runs.has(m.summary.run), () => true]) {
    for (const member of observed) {
      if (chosen.length >= 3) break;
      if (chosen.includes(member) || !pass(member)) continue;
      chosen.push(member);
      tasks.add(member.summary.task);
      runs.add(member.summary.run);
    }
  }
  return chosen;
}

const list = (names: string[], max = 5) => (names.length <= max ? names.join(", ") : `${names.slice(0, max).join(", ")} and ${names.length - max} more`);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * What a trial ran: the agent and the model, the model without its provider prefix
 * (`anthropic/claude-sonnet-4-0` and `claude-sonnet-4-0` are one model).
 */
export function modelOf(trial: Pick<Trial, "agent" | "model">): string {
  const model = trial.model?.split("/").pop();
  if (trial.agent && model) return `${trial.agent} / ${model}`;
  return model ?? trial.agent ?? "unknown model";
}

/**
 * Agents whose harness timeout label the transcripts contradict: among their trials with a record of
 * actions, the label more often sits on runs the agent ended itself than on runs cut off. For those
 * agents the label alone judges nothing (a failure that did not time out is not a timeout).
 */
function untrustedTimeoutLabels(trials: TrialSummary[]): Set<string> {
  const tally = new Map<string, { confirmed: number; contradicted: number }>();
  for (const trial of trials) {
    if (!trial.timeoutLabel) continue;
    const key = trial.agent ?? "unknown agent";
    const entry = tally.get(key) ?? { confirmed: 0, contradicted: 0 };
    if (trial.timeoutLabel.cutOff) entry.confirmed++;
    else entry.contradicted++;
    tally.set(key, entry);
  }
  return new Set([...tally.entries()].filter(([, t]) => t.contradicted >= 2 && t.contradicted > t.confirmed).map(([agent]) => agent));
}

function describe(mechanism: string, members: Failure[], totalFailures: number, rates: ModelRate[]) {
  const withoutActions = members.filter((m) => !m.details.observed).length;
  const title = `${MECHANISM_TITLES[mechanism as MechanismKind] ?? `Fails by ${mechanism}`}${withoutActions === members.length ? " (judged without the agent's actions)" : ""}`;
  const tasks = [...new Set(members.map((m) => m.summary.task))].sort();
  const runs = [...new Set(members.map((m) => m.summary.run))].sort();
  const tests = [...countBy(members.flatMap((m) => m.details.failedTests), (name) => name)].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const details = [...countBy(members.filter((m) => m.dominant), (m) => m.dominant!.detail)].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const causes = [...countBy(members, (m) => m.details.cause)].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const share = totalFailures === 0 ? 0 : members.length / totalFailures;
  const parts = [`${plural(members.length, "failure")} over ${plural(tasks.length, "task")} (${list(tasks)}) in ${plural(runs.length, "run")}, ${Math.round(share * 100)}% of mined failures.`];
  if (details[0]) parts.push(`Typically: ${details[0][0]}${details.length > 1 ? ` (and ${details.length - 1} similar)` : ""}.`);
  parts.push(`Verifier: ${causes.map(([cause, n]) => `${causeWords(cause)} (${n})`).join(", ")}.`);
  if (tests.length > 0) parts.push(`Failing tests: ${list(tests.map(([name, n]) => `${name} (${n}×)`))}.`);
  if (rates.length > 1) parts.push(`By model: ${rates.map((r) => `${r.model} ${r.failures}/${r.trials}`).join(", ")}.`);
  if (withoutActions > 0) parts.push(`${withoutActions} of these ${withoutActions === 1 ? "was" : "were"} judged without the agent's actions, from the harness's record of the run.`);
  return { title, summary: parts.join(" "), tasks, runs, share, tests: tests.map(([name, count]) => ({ name, count })), dominantCause: causes[0]?.[0] ?? "no-verdict-detail" };
}

/** Failure rate of this mechanism per model, over each model's mined trials. */
function ratesByModel(members: Failure[], minedTrials: Map<string, number>): ModelRate[] {
  const failures = countBy(members, (m) => modelOf(m.summary));
  return [...minedTrials.entries()]
    .map(([model, trials]) => ({ model, trials, failures: failures.get(model) ?? 0, rate: trials === 0 ? 0 : (failures.get(model) ?? 0) / trials }))
    .sort((a, b) => b.rate - a.rate || a.model.localeCompare(b.model));
}

/** The target's rate over the others' (add-one smoothed, so one failure among few trials does not dominate). */
function liftOf(rates: ModelRate[], target: string | undefined): number {
  const own = rates.find((r) => r.model === target);
  const others = rates.filter((r) => r.model !== target);
  if (!own || others.length === 0) return 1;
  const otherFailures = others.reduce((n, r) => n + r.failures, 0);
  const otherTrials = others.reduce((n, r) => n + r.trials, 0);
  const lift = (own.failures + 1) / (own.trials + 2) / ((otherFailures + 1) / (otherTrials + 2));
  return Math.round(lift * 100) / 100;
}

/**
 * Clusters failed trials of held-in tasks into weaknesses by mechanism and keeps those that recur
 * over enough failures and tasks. A failure counts only by its own findings (never another trial's);
 * suspect tasks are reported apart; weaknesses rest on actions before those judged from the harness's
 * record alone, and among those the ranking favours what the target model does more than the others.
 * Pure and deterministic.
 */
export function mineWeaknesses(trials: readonly (Trial | TrialSummary)[], options: Partial<MineOptions> = {}): MineResult {
  const settings = { ...DEFAULT_MINE_OPTIONS, ...options };
  // Held-out trials are dropped unread; the rest summarised (detectors run once each). A caller
  // streaming a corpus passes summaries.
  const heldIn = withoutHeldOut([...trials], settings.heldOut).map((t) => (isTrialSummary(t) ? t : summarizeTrial(t)));
  const invalid = heldIn.filter((t) => t.outcome === "invalid");
  const suspects = suspectTasks(heldIn);
  const suspectIds = new Set(suspects.flatMap((s) => s.trials));
  const valid = heldIn.filter((t) => t.outcome !== "invalid" && !suspectIds.has(t.id));
  const untrusted = untrustedTimeoutLabels(valid);
  const distrusted = new Set<string>();
  const failures: Failure[] = valid
    .filter((t) => t.outcome === "fail" && t.failure)
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((summary) => {
      const details = summary.failure!;
      const failure: Failure = { summary, details, ...withLabel(summary.id, details.findings, settings.labels) };
      if (failure.dominant?.kind !== "timeout" || details.observed || !untrusted.has(summary.agent ?? "unknown agent")) return failure;
      distrusted.add(summary.id);
      return { summary, details, findings: [] };
    });

  const minedTrials = countBy(valid, modelOf);
  const target = settings.target ?? [...minedTrials.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];

  const groups = new Map<string, Failure[]>();
  let unexplained = 0;
  let wrongSolution = 0;
  const judged: Record<string, number> = {};
  let withoutActions = 0;
  for (const failure of failures) {
    if (!failure.details.observed) {
      withoutActions++;
      const how = failure.dominant ? failure.dominant.kind : distrusted.has(failure.summary.id) ? "unexplained (its timeout label is contradicted by the agent's transcripts)" : "unexplained";
      judged[how] = (judged[how] ?? 0) + 1;
    }
    if (!failure.dominant) {
      unexplained++;
      continue;
    }
    // A plain wrong answer is explained but no harness edit addresses it: counted, not mined.
    if (failure.dominant.kind === "wrong-solution") {
      wrongSolution++;
      continue;
    }
    const group = groups.get(failure.dominant.kind);
    if (group) group.push(failure);
    else groups.set(failure.dominant.kind, [failure]);
  }

  const ranked: { weakness: Weakness; fromActions: boolean }[] = [];
  for (const [mechanism, members] of groups) {
    const rates = ratesByModel(members, minedTrials);
    const text = describe(mechanism, members, failures.length, rates);
    if (members.length < settings.minFailures || text.tasks.length < settings.minTasks) continue;
    const signature = { cause: signatureCause(mechanism), mechanism };
    const withoutTrajectory = members.filter((m) => !m.details.observed).length;
    const weakness: Weakness = {
      id: weaknessId(signature),
      signature,
      title: text.title,
      summary: text.summary,
      failures: members.length,
      tasks: text.tasks,
      runs: text.runs,
      share: text.share,
      // The summary's excerpt is around its detectors' dominant finding, or the last steps when none
      // fired, which is where a model label (it has no steps) points too.
      examples: pickExamples(members).map((m) => ({ trial: m.summary.id, steps: m.dominant!.steps, excerpt: m.details.excerpt })),
      trials: members.map((m) => m.summary.id),
      failingTests: text.tests,
      withoutTrajectory,
      byModel: rates,
      lift: liftOf(rates, target),
    };
    ranked.push({ weakness, fromActions: withoutTrajectory * 2 < members.length });
  }
  // What the actions show outranks what only the harness's record says; then breadth, weighted by how
  // much more the target model fails this way than the others.
  const score = (w: Weakness) => w.tasks.length * (w.lift ?? 1);
  ranked.sort((a, b) => Number(b.fromActions) - Number(a.fromActions) || score(b.weakness) - score(a.weakness) || b.weakness.failures - a.weakness.failures || a.weakness.id.localeCompare(b.weakness.id));

  const byKind: Record<string, number> = {};
  for (const trial of invalid) {
    const kind = trial.infraKind ?? "unknown";
    byKind[kind] = (byKind[kind] ?? 0) + 1;
  }
  return {
    weaknesses: ranked.map((r) => r.weakness),
    invalid: { count: invalid.length, byKind },
    mined: { trials: heldIn.length, failures: failures.length, unexplained, withoutActions: { count: withoutActions, judged }, wrongSolution },
    suspectTasks: suspects,
    ...(target ? { target } : {}),
  };
}

import type { Trial } from "../traces/types.js";
import { isTrialSummary, summarizeTrial, type TrialSummary } from "./summary.js";
import type { SuspectTask } from "./types.js";

/**
 * Tasks that no trial passes and whose failures share one verifier-side error (the test module does
 * not import; the test reads a key or a path the instruction never names). Failures without verifier
 * detail neither confirm nor contradict; a failure with other verifier detail contradicts.
 */
export function suspectTasks(items: readonly (Trial | TrialSummary)[]): SuspectTask[] {
  const byTask = new Map<string, TrialSummary[]>();
  for (const item of items) {
    const trial = isTrialSummary(item) ? item : summarizeTrial(item);
    if (trial.outcome === "invalid") continue;
    const list = byTask.get(trial.task);
    if (list) list.push(trial);
    else byTask.set(trial.task, [trial]);
  }
  const suspects: SuspectTask[] = [];
  for (const [task, list] of [...byTask.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    if (list.some((t) => t.outcome === "pass")) continue;
    const withDetail = list.filter((t) => t.verifierDetail);
    const errors = withDetail.map((t) => t.verifierSideError);
    const first = errors[0];
    if (!first || errors.some((e) => e?.key !== first.key)) continue;
    // A test module that fails to import once may be the agent's own broken module; every run failing so is the task.
    if (first.key === "collection" && withDetail.length < 2) continue;
    const ids = list.map((t) => t.id).sort();
    suspects.push({ task, reason: first.reason, failures: list.length, trials: ids, runs: [...new Set(list.map((t) => t.run))].sort() });
  }
  return suspects;
}

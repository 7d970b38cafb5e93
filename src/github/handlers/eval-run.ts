import type { SelfharnessConfig } from "../../config/schema.js";
import { dashboardBlocked, recordEvalRun, type FilteredRun } from "../../loop/dashboard.js";
import type { EvalRun, Log } from "../../loop/host.js";
import { improve } from "../../loop/improve.js";
import { startValidation, type ValidationStarted } from "../../loop/validate.js";
import { watchMerged } from "../../loop/watch.js";
import { loopContext } from "../context.js";
import { gitHubHost } from "../host.js";
import type { AppLogin } from "../identity.js";
import type { Octokit, RepoRef } from "../types.js";
import { dashboardOf, updateDashboard } from "./dashboard.js";

export interface EvalRunInput {
  octokit: Octokit;
  repo: RepoRef;
  config: SelfharnessConfig;
  run: EvalRun & { workflowId: number };
  log: Log;
  /** The repository's web address, for links to runs. */
  htmlUrl?: string;
  /** Where OPENAI_BASE_URL / OPENAI_API_KEY come from. */
  env?: NodeJS.ProcessEnv;
  /** The app's login, to find its dashboard issue. */
  appLogin: AppLogin;
}

export type EvalRunOutcome = { status: "opened"; pr: number; weakness: string; branch: string } | { status: "skipped"; reason: string };

/**
 * A completed eval run: the watch of merged proposals, the loop's `improve` step (weaknesses ignored on the dashboard left out), then
 * validation of the proposal it opened, then the dashboard says what happened, or why nothing did.
 */
export async function handleEvalRun(input: EvalRunInput): Promise<EvalRunOutcome> {
  const { run, log } = input;
  const host = gitHubHost({ ...input, evalWorkflowId: run.workflowId });
  const ctx = loopContext(input.config, log, input.env);
  const store = dashboardOf(input);
  // Without the dashboard's list of ignored weaknesses, the run could propose one a person ignored: it
  // fails instead (GitHub's answer was already retried), before anything is written.
  const board = store
    ? await store.read().catch((error: unknown) => {
        throw new Error(`eval run ${run.id}: the dashboard issue could not be read, so nothing is proposed from this run (a weakness ignored there could be proposed again): ${String(error)}`, { cause: error });
      })
    : null;
  const closed = await host.proposals("closed");
  // Merged proposals first: what their merge did is news whether or not anything new is proposed.
  await watchMerged(host, ctx, run, closed).catch((error: unknown) => log.warn({ runId: run.id, err: String(error) }, "watch after merge failed; the next eval run looks again"));
  const outcome = await improve(host, ctx, run, { blocked: dashboardBlocked(board?.state ?? null), closed });
  let validation: ValidationStarted | undefined;
  if (outcome.status === "opened") {
    try {
      validation = await startValidation(host, ctx, outcome.pr);
    } catch (error) {
      // The pull request stands on its own; `/selfharness retry regression` starts validation again.
      log.error({ runId: run.id, pr: outcome.pr.number, err: String(error) }, "validation could not be started");
    }
  }
  if (store) await updateDashboard(log, `eval run ${run.id}`, () => recordEvalRun(store, host, ctx, { run, outcome, ...(validation ? { validation } : {}) }));
  if (outcome.status === "skipped") return { status: "skipped", reason: outcome.reason };
  return { status: "opened", pr: outcome.pr.number, weakness: outcome.draft.weakness.id, branch: outcome.pr.headRef };
}

/** An eval run whose conclusion is not a trigger: nothing is mined, and the dashboard says so. */
export async function noteFilteredRun(input: EvalRunInput, filtered: FilteredRun): Promise<void> {
  const store = dashboardOf(input);
  if (!store) return;
  const host = gitHubHost({ ...input, evalWorkflowId: input.run.workflowId });
  await updateDashboard(input.log, `eval run ${input.run.id}`, () => recordEvalRun(store, host, loopContext(input.config, input.log, input.env), { run: input.run, outcome: filtered }));
}

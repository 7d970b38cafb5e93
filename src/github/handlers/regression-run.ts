import type { SelfharnessConfig } from "../../config/schema.js";
import { judgedVerdict, recordVerdict } from "../../loop/dashboard.js";
import type { Log, ProposalPR } from "../../loop/host.js";
import { judgeRegressionRun, type JudgeOutcome, type RegressionRun } from "../../loop/judge.js";
import { loopContext } from "../context.js";
import { gitHubHost } from "../host.js";
import type { AppLogin } from "../identity.js";
import type { Octokit, RepoRef } from "../types.js";
import { dashboardOf, updateDashboard } from "./dashboard.js";

/** The fields of a `workflow_run` payload the gate relies on. */
export interface CompletedRun {
  id: number;
  path: string;
  name?: string | null;
  head_sha: string;
  head_branch?: string | null;
  display_title: string;
  html_url: string;
  actor?: { login?: string } | null;
  triggering_actor?: { login?: string } | null;
}

export interface RegressionRunInput {
  octokit: Octokit;
  repo: RepoRef;
  run: CompletedRun;
  config: SelfharnessConfig;
  log: Log;
  htmlUrl?: string;
  /** The app's login, to find its dashboard issue. */
  appLogin: AppLogin;
}

/** A completed regression run: the loop's `judge` step over the open proposals, then the dashboard. */
export async function handleRegressionRun(input: RegressionRunInput): Promise<JudgeOutcome> {
  const host = gitHubHost(input);
  const ctx = loopContext(input.config, input.log);
  const open = (await host.proposals("open")).filter((pr): pr is ProposalPR => pr.state !== null);
  const outcome = await judgeRegressionRun(host, ctx, regressionRunOf(input.run), open);
  const store = dashboardOf(input);
  // The run that completed last may be the baseline's, on the base branch: the verdict is on the proposal's head.
  const judgedHead = "pr" in outcome ? open.find((pr) => pr.number === outcome.pr)?.headSha : undefined;
  const verdict = judgedHead ? judgedVerdict(outcome, judgedHead) : null;
  if (store && verdict) await updateDashboard(input.log, `verdict on #${verdict.pr}`, () => recordVerdict(store, host, ctx, verdict));
  return outcome;
}

export function regressionRunOf(run: CompletedRun): RegressionRun {
  const actor = run.triggering_actor?.login ?? run.actor?.login;
  return { id: run.id, path: run.path, name: run.name ?? null, headSha: run.head_sha, title: run.display_title, url: run.html_url, ...(actor ? { actor } : {}) };
}

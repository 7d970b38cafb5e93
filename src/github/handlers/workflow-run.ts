import type { Context } from "probot";
import type { SelfharnessConfig } from "../../config/schema.js";
import { isWorkflowPath } from "../../loop/judge.js";
import { BRANCH_PREFIX } from "../../loop/names.js";
import { closeConfigIssue, loadRepoConfig } from "../api/config.js";
import { claimOnce, releaseClaim, runKey } from "../runtime/dedupe.js";
import { enqueue } from "../runtime/queue.js";
import { handleEvalRun, noteFilteredRun, type EvalRunInput } from "./eval-run.js";
import { handleRegressionRun, type CompletedRun } from "./regression-run.js";
import type { AppLogin } from "../identity.js";
import type { Octokit } from "../types.js";

type WorkflowRunContext = Context<"workflow_run.completed">;

/** The fields of the payload that decide what a completed run means to selfharness. */
interface RunFacts {
  path: string;
  name: string | null;
  workflowName: string | null;
  conclusion: string | null;
  headBranch: string | null;
  headRepository: string | null;
  repository: string;
}

/** Which configured workflow a run belongs to; the regression workflow wins if both names match. */
export function routeOf(run: Pick<RunFacts, "path" | "name" | "workflowName">, config: SelfharnessConfig): "regression" | "eval" | null {
  const named = (workflow: string) => isWorkflowPath(run.path, workflow) || run.name === workflow || run.workflowName === workflow;
  if (named(config.regression.workflow)) return "regression";
  if (named(config.eval.workflow)) return "eval";
  return null;
}

/**
 * Why a run can matter to no route: a fork's run is neither an eval run of this repository nor a
 * regression run the app dispatched (those run on the repository's own branches). Payload only.
 */
export function forkReason(run: Pick<RunFacts, "headRepository" | "repository">): string | null {
  if (!run.headRepository || run.headRepository.toLowerCase() !== run.repository.toLowerCase()) {
    return `run from a fork (${run.headRepository ?? "unknown repository"})`;
  }
  return null;
}

/** Why an eval run's conclusion keeps it from being mined, or null when it is a trigger. */
export function conclusionFiltered(run: Pick<RunFacts, "conclusion">, config: SelfharnessConfig): string | null {
  if (run.conclusion && (config.eval.conclusions as string[]).includes(run.conclusion)) return null;
  return `conclusion ${run.conclusion ?? "none"} is not one of eval.conclusions (${config.eval.conclusions.join(", ")})`;
}

/** Why an eval run must not trigger mining, or null when it may. */
export function evalSkipReason(run: RunFacts, config: SelfharnessConfig): string | null {
  const filtered = conclusionFiltered(run, config);
  if (filtered) return filtered;
  const fork = forkReason(run);
  if (fork) return fork;
  // Our own commits trigger workflows too (installation tokens do): never mine our own branches.
  if (run.headBranch?.startsWith(BRANCH_PREFIX)) return `run on ${run.headBranch}, a selfharness branch`;
  return null;
}

/**
 * Answers a completed workflow run at once, with no GitHub call: fork runs are dropped from the
 * payload alone, a run attempt already claimed (redelivery, concurrent delivery) is skipped, and the
 * rest, reading the configuration included, continues in the background queue.
 */
export async function onWorkflowRunCompleted(context: WorkflowRunContext, appLogin: AppLogin): Promise<void> {
  const { workflow_run: run, repository, workflow } = context.payload;
  const facts: RunFacts = {
    path: run.path,
    name: run.name ?? null,
    workflowName: workflow?.name ?? null,
    conclusion: run.conclusion,
    headBranch: run.head_branch,
    headRepository: run.head_repository?.full_name ?? null,
    repository: repository.full_name,
  };
  const fork = forkReason(facts);
  if (fork) {
    context.log.info({ runId: run.id }, `workflow run ignored: ${fork}`);
    return;
  }
  const attempt = run.run_attempt ?? 1;
  const key = runKey(repository.full_name, run.id, attempt);
  if (!claimOnce(key)) {
    context.log.info({ runId: run.id, attempt }, "workflow run already handled (redelivery or concurrent delivery)");
    return;
  }
  enqueue({
    name: `workflow run ${key}`,
    key: repository.full_name.toLowerCase(),
    runId: run.id,
    client: context.octokit,
    release: () => releaseClaim(key),
    run: async () => {
      // A run that was not acted on may be tried again on redelivery, and so may one that failed on the
      // way (the queue gives its claim back): whatever failed was retried already and left nothing half-made.
      if (!(await routeRun(context, facts, attempt, appLogin))) releaseClaim(key);
    },
    log: context.log,
  });
}

/**
 * Routes a claimed run: regression runs to the gate, eval runs to mining. False when it was not acted
 * on; a failure is logged and thrown (the claim is given back either way), so a durable queue retries it.
 */
async function routeRun(context: WorkflowRunContext, facts: RunFacts, attempt: number, appLogin: AppLogin): Promise<boolean> {
  const { workflow_run: run, repository } = context.payload;
  const config = await loadRepoConfig(context);
  if (!config) return false;
  const route = routeOf(facts, config);
  if (!route) {
    context.log.debug({ runId: run.id, path: run.path }, "not a configured selfharness workflow");
    return true;
  }
  const octokit = context.octokit as unknown as Octokit;
  const repo = context.repo();
  await closeConfigIssue(octokit, repo, context.log);
  if (route === "regression") {
    try {
      await handleRegressionRun({ octokit, repo, run: run as unknown as CompletedRun, config, log: context.log, htmlUrl: repository.html_url, appLogin });
      return true;
    } catch (error) {
      context.log.error({ runId: run.id, attempt, err: error instanceof Error ? error.message : String(error) }, "regression run failed");
      // The queue records the failure too: the Redis queue retries the delivery with backoff.
      throw error;
    }
  }

  const input: EvalRunInput = {
    octokit,
    repo,
    config,
    log: context.log,
    htmlUrl: repository.html_url,
    appLogin,
    run: {
      id: run.id,
      attempt,
      workflowId: run.workflow_id,
      headSha: run.head_sha,
      headBranch: run.head_branch ?? repository.default_branch,
      url: run.html_url,
      conclusion: run.conclusion,
    },
  };
  const skip = evalSkipReason(facts, config);
  if (skip) {
    context.log.info({ runId: run.id }, `eval run ignored: ${skip}`);
    // Of the skips, only the conclusion is the repository's own choice to know about; forks and
    // selfharness branches are never the eval runs it means.
    const filtered = facts.headBranch?.startsWith(BRANCH_PREFIX) ? null : conclusionFiltered(facts, config);
    if (filtered) await noteFilteredRun(input, { status: "filtered", reason: `its ${filtered}, so it was not mined` });
    return true;
  }
  try {
    await handleEvalRun(input);
    return true;
  } catch (error) {
    context.log.error({ runId: run.id, attempt, err: error instanceof Error ? error.message : String(error) }, "eval run failed");
    throw error;
  }
}

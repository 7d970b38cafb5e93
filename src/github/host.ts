import type { SelfharnessConfig } from "../config/schema.js";
import type {
  ChangedPaths,
  Dispatched,
  DispatchRequest,
  EvalRun,
  HarnessSnapshot,
  Host,
  LoadedTrials,
  Log,
  OpenProposalRequest,
  OpenRevertRequest,
  ProposalPR,
  PullRequest,
  ProposalUpdate,
  ReplaceCandidateRequest,
  RunQuery,
  RunStatus,
} from "../loop/host.js";
import { regressionInputs } from "../loop/dispatch.js";
import { LABEL_REJECTED, LABEL_VALIDATING } from "../loop/names.js";
import { withState, type StateKey } from "../loop/state.js";
import { harnessFromFiles } from "../propose/harness.js";
import { collectRunTrials, recentEvalRuns } from "./api/artifacts.js";
import { writeGateCheck } from "./api/check-run.js";
import { addLabels, postComment, removeLabels, upsertComment } from "./api/comments.js";
import { dispatchWorkflow, findRunBySelfharnessId } from "./api/dispatch.js";
import { createCommit, fileWrites, harnessEntries, readCommitTree, readHarnessFiles } from "./api/git-data.js";
import { ensureLabels } from "./api/labels.js";
import { listProposalPRs, openProposalPR } from "./api/pulls.js";
import { statusOf, withRetry } from "./api/retry.js";
import { stateKeyFromEnv } from "./state-key.js";
import type { Octokit, RepoRef } from "./types.js";

export interface GitHubHostOptions {
  octokit: Octokit;
  repo: RepoRef;
  config: SelfharnessConfig;
  log: Log;
  /** The repository's web address (differs from github.com on GitHub Enterprise Server). */
  htmlUrl?: string;
  /** The eval workflow's id, for listing its recent runs. */
  evalWorkflowId?: number;
  /** Seals the state kept in pull request bodies (see `stateKeyFromEnv`). */
  stateKey?: StateKey;
}

/** The loop's host on GitHub: every read and write through the installation's Octokit. */
export function gitHubHost(options: GitHubHostOptions): Host {
  const { octokit, repo, config, log } = options;
  const htmlUrl = options.htmlUrl ?? `https://github.com/${repo.owner}/${repo.repo}`;
  const key = options.stateKey ?? stateKeyFromEnv();

  // One event may read the same runs twice (a retry mines them, then plans its validation from them):
  // a finished run's artifacts never change, so the host reads them once.
  const loaded = new Map<string, Promise<LoadedTrials>>();
  function loadTrials(runIds: number[]): Promise<LoadedTrials> {
    const key = runIds.join(",");
    let trials = loaded.get(key);
    if (!trials) {
      trials = collectRunTrials({ octokit, repo, config, runIds, log }).then(({ trials, notes }) => ({ trials, notes }));
      trials.catch(() => loaded.delete(key));
      loaded.set(key, trials);
    }
    return trials;
  }

  async function evalRuns(trigger: EvalRun, limit: number): Promise<EvalRun[]> {
    if (options.evalWorkflowId === undefined) return [trigger];
    const { runs } = await recentEvalRuns({ octokit, repo, workflowId: options.evalWorkflowId, current: trigger, harnessPaths: config.harness.paths, limit, log });
    return runs;
  }

  async function readHarness(sha: string): Promise<HarnessSnapshot> {
    const tree = await readCommitTree(octokit, repo, sha);
    if (tree.truncated) log.warn({ sha }, "repository tree listing truncated by GitHub; some harness files may be missing");
    const files = await readHarnessFiles(octokit, repo, harnessEntries(tree, config.harness.paths));
    return { harness: harnessFromFiles(files, config.harness), sha, ...(tree.truncated ? {} : { paths: new Set(tree.entries.map((e) => e.path)) }) };
  }

  async function changedPaths(baseSha: string, headSha: string): Promise<ChangedPaths> {
    const [base, head] = await Promise.all([readCommitTree(octokit, repo, baseSha), readCommitTree(octokit, repo, headSha)]);
    if (base.truncated || head.truncated) return { ok: false, reason: "GitHub cut the repository's file listing short" };
    const blobs = (tree: typeof base) => new Map(tree.entries.filter((e) => e.type !== "tree").map((e) => [e.path, `${e.mode}:${e.sha}`]));
    const before = blobs(base);
    const after = blobs(head);
    const paths = new Set<string>();
    for (const [path, blob] of before) if (after.get(path) !== blob) paths.add(path);
    for (const path of after.keys()) if (!before.has(path)) paths.add(path);
    return { ok: true, paths: [...paths].sort() };
  }

  /** The commit on its branch and the pull request, its labels created first with their colours. */
  async function openPullRequest(request: OpenRevertRequest, labels: string[], body: (headSha: string) => string) {
    await ensureLabels(octokit, repo, labels, config.labels.automerge);
    const tree = await readCommitTree(octokit, repo, request.base.sha);
    return openProposalPR({
      octokit,
      repo,
      branch: request.branch,
      base: { ...request.base, treeSha: tree.treeSha },
      files: fileWrites(request.changes, harnessEntries(tree, config.harness.paths)),
      commitMessage: request.commitMessage,
      title: request.title,
      body,
      labels: request.labels,
      log,
    });
  }

  async function openProposal(request: OpenProposalRequest): Promise<ProposalPR> {
    // The labels validation sets later are created now, with their colours, rather than grey on first use.
    const labels = [...request.labels, LABEL_VALIDATING, LABEL_REJECTED, config.labels.automerge];
    const opened = await openPullRequest(request, labels, (headSha) => withState(request.body, { ...request.state, head: headSha }, key));
    return {
      number: opened.number,
      open: true,
      merged: false,
      title: request.title,
      body: opened.body,
      headRef: request.branch,
      headSha: opened.headSha,
      baseRef: request.base.ref,
      labels: request.labels,
      state: { ...request.state, head: opened.headSha },
    };
  }

  async function openRevert(request: OpenRevertRequest): Promise<{ number: number; url: string }> {
    const opened = await openPullRequest(request, request.labels, () => request.body);
    return { number: opened.number, url: opened.htmlUrl };
  }

  async function replaceCandidate(pr: ProposalPR, request: ReplaceCandidateRequest): Promise<ProposalPR> {
    const tree = await readCommitTree(octokit, repo, request.baseSha);
    const sha = await createCommit(octokit, repo, {
      parentSha: request.baseSha,
      baseTreeSha: tree.treeSha,
      files: fileWrites(request.changes, harnessEntries(tree, config.harness.paths)),
      message: request.commitMessage,
    });
    const state = { ...request.state, head: sha };
    const body = withState(request.body, state, key);
    // The description names the new head before the branch moves, so the push reads as the app's own.
    await withRetry(() => octokit.rest.pulls.update({ ...repo, pull_number: pr.number, title: request.title, body }));
    await octokit.rest.git.updateRef({ ...repo, ref: `heads/${pr.headRef}`, sha, force: true });
    return { ...pr, title: request.title, body, headSha: sha, state };
  }

  async function dispatchRegression(request: DispatchRequest): Promise<Dispatched> {
    try {
      const { runId, htmlUrl: url } = await dispatchWorkflow({
        octokit,
        repo,
        workflow: config.regression.workflow,
        ref: request.ref,
        selfharnessId: request.selfharnessId,
        inputs: regressionInputs(request.selfharnessId, request.tasks, request.trials),
        log,
      });
      return { ok: true, runId, ...(url ? { url } : {}) };
    } catch (error) {
      const status = statusOf(error);
      const message = error instanceof Error ? error.message : String(error);
      return { ok: false, reason: status === 404 ? "missing-workflow" : status === 422 ? "not-dispatchable" : "error", message };
    }
  }

  async function regressionRun(query: RunQuery): Promise<RunStatus | null> {
    if (query.runId !== undefined) {
      try {
        const { data } = await octokit.rest.actions.getWorkflowRun({ ...repo, run_id: query.runId });
        const actor = data.triggering_actor?.login ?? data.actor?.login;
        return { id: data.id, completed: data.status === "completed", headSha: data.head_sha, url: data.html_url, ...(actor ? { actor } : {}) };
      } catch (error) {
        // A run someone deleted cannot be found: "gone", not a failure of the whole step.
        if (statusOf(error) === 404) return null;
        throw error;
      }
    }
    if (!query.selfharnessId) return null;
    const found = await findRunBySelfharnessId({ octokit, repo, workflow: config.regression.workflow, branch: query.branch, selfharnessId: query.selfharnessId });
    return found ? { id: found.id, completed: found.status === "completed", headSha: found.headSha, url: found.htmlUrl, ...(found.actor ? { actor: found.actor } : {}) } : null;
  }

  async function update(pr: PullRequest, change: ProposalUpdate): Promise<{ checkRunId?: number }> {
    const checkRunId = change.check ? await writeGateCheck(octokit, repo, change.check) : undefined;
    if (change.labels?.add?.length) await addLabels(octokit, repo, pr.number, change.labels.add);
    // Only labels the proposal has are removed: each removal is a request.
    if (change.labels?.remove) await removeLabels(octokit, repo, pr.number, change.labels.remove.filter((l) => pr.labels.includes(l)));
    if (change.autoMerge && pr.nodeId) await setAutoMerge(octokit, pr, change.autoMerge, log);
    if (change.close) await withRetry(() => octokit.rest.pulls.update({ ...repo, pull_number: pr.number, state: "closed" }));
    if (change.comment) {
      if (change.comment.marker) await upsertComment(octokit, repo, pr.number, change.comment.marker, change.comment.body);
      else await postComment(octokit, repo, pr.number, change.comment.body);
    }
    if (change.body || change.title) {
      const body = change.body ? withState(change.body.text, change.body.state, key) : undefined;
      // Writing the same description again is harmless: a 5xx here must not leave a step unrecorded.
      await withRetry(() => octokit.rest.pulls.update({ ...repo, pull_number: pr.number, ...(change.title ? { title: change.title } : {}), ...(body !== undefined ? { body } : {}) }));
    }
    return checkRunId !== undefined ? { checkRunId } : {};
  }

  return {
    loadTrials,
    evalRuns,
    readHarness,
    changedPaths,
    proposals: (which) => listProposalPRs(octokit, repo, which, key),
    openProposal,
    replaceCandidate,
    openRevert,
    dispatchRegression,
    runUrl: (runId) => `${htmlUrl}/actions/runs/${runId}`,
    regressionRun,
    update,
    log,
  };
}

/**
 * Native auto-merge pinned to the tested commit when enabled (a later push can never be merged by it);
 * turned off after someone else's push. Auto-merge may be off for the repository: the label still says
 * the gate passed, so a refusal is logged, not raised.
 */
async function setAutoMerge(octokit: Octokit, pr: PullRequest, action: "enable" | "disable", log: Log): Promise<void> {
  try {
    if (action === "enable") {
      await octokit.graphql(
        `mutation($pullRequestId: ID!, $expectedHeadOid: GitObjectID!) {
          enablePullRequestAutoMerge(input: { pullRequestId: $pullRequestId, expectedHeadOid: $expectedHeadOid }) {
            pullRequest { number }
          }
        }`,
        { pullRequestId: pr.nodeId, expectedHeadOid: pr.headSha },
      );
    } else {
      await octokit.graphql(
        `mutation($pullRequestId: ID!) {
          disablePullRequestAutoMerge(input: { pullRequestId: $pullRequestId }) { pullRequest { number } }
        }`,
        { pullRequestId: pr.nodeId },
      );
    }
  } catch (error) {
    if (action === "enable") log.warn({ pr: pr.number, err: String(error) }, "could not enable native auto-merge");
    else log.debug({ pr: pr.number, err: String(error) }, "native auto-merge not disabled");
  }
}

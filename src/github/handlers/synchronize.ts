import type { Context } from "probot";
import type { ProposalPR } from "../../loop/host.js";
import { handleForeignPush, isKnownHead } from "../../loop/push.js";
import { loadRepoConfig } from "../api/config.js";
import { proposalOf, type PullJson } from "../api/pulls.js";
import { loopContext } from "../context.js";
import { gitHubHost } from "../host.js";
import { stateKeyFromEnv } from "../state-key.js";
import { enqueue } from "../runtime/queue.js";
import type { Octokit } from "../types.js";

/** Probot entry: a push to a pull request branch; someone else's push to a proposal is validated again. */
export async function onPullRequestSynchronize(context: Context<"pull_request.synchronize">): Promise<void> {
  const { pull_request: payload, repository, sender } = context.payload;
  const pr = proposalOf(payload as PullJson, stateKeyFromEnv());
  if (!pr.state || isKnownHead(pr.headSha, pr.state)) return;
  const octokit = context.octokit as unknown as Octokit;
  const repo = context.repo();
  enqueue({
    name: `push ${repo.owner}/${repo.repo}#${pr.number}@${pr.headSha.slice(0, 7)}`,
    key: repository.full_name.toLowerCase(),
    client: context.octokit,
    run: async () => {
      // Read in the queue, not before answering the delivery.
      const config = await loadRepoConfig(context);
      if (!config) return;
      const host = gitHubHost({ octokit, repo, config, log: context.log, htmlUrl: repository.html_url });
      await handleForeignPush(host, loopContext(config, context.log), pr as ProposalPR, sender.login);
    },
    log: context.log,
  });
}

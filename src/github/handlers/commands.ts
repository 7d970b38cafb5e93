import type { Context } from "probot";
import type { SelfharnessConfig } from "../../config/schema.js";
import { immediateReply, parseCommand, runCommand, type Command, type CommandOutcome } from "../../loop/commands.js";
import type { Log, ProposalPR } from "../../loop/host.js";
import { refusalComment } from "../../report/comments.js";
import { loadRepoConfig } from "../api/config.js";
import { postComment } from "../api/comments.js";
import { canCommand } from "../api/permissions.js";
import { proposalOf, type PullJson } from "../api/pulls.js";
import { NO_PLUGIN_RETRY } from "../api/retry.js";
import { loopContext } from "../context.js";
import { gitHubHost } from "../host.js";
import { stateKeyFromEnv } from "../state-key.js";
import { claimOnce } from "../runtime/dedupe.js";
import { enqueue } from "../runtime/queue.js";
import type { Octokit, RepoRef } from "../types.js";
import type { AppLogin } from "../identity.js";
import { refreshDashboard } from "../../loop/dashboard.js";
import { dashboardOf, updateDashboard } from "./dashboard.js";

/** Probot entry: a new comment; only `/selfharness` commands by people on selfharness pull requests count. */
export async function onIssueComment(context: Context<"issue_comment.created">, appLogin: AppLogin): Promise<void> {
  const { comment, issue, sender, repository } = context.payload;
  const command = parseCommand(comment.body);
  // Bots, this app included, never command it: its own replies quote the commands.
  if (!command || !issue.pull_request || comment.user?.type === "Bot" || sender.type === "Bot") return;
  const octokit = context.octokit as unknown as Octokit;
  const repo = context.repo();
  const key = `${repository.full_name.toLowerCase()}#comment#${comment.id}`;
  if (!claimOnce(key)) {
    context.log.info({ comment: comment.id }, "command already handled (redelivery or concurrent delivery)");
    return;
  }
  enqueue({
    name: `command ${repo.owner}/${repo.repo}#${issue.number} ${command.name}`,
    key: repository.full_name.toLowerCase(),
    client: context.octokit,
    run: async () => {
      await handleCommand({
        octokit,
        repo,
        command,
        number: issue.number,
        commentId: comment.id,
        user: comment.user?.login ?? sender.login,
        log: context.log,
        htmlUrl: repository.html_url,
        loadConfig: () => loadRepoConfig(context),
        appLogin,
      });
    },
    log: context.log,
  });
}

export interface CommandInput {
  octokit: Octokit;
  repo: RepoRef;
  command: Command;
  number: number;
  commentId: number;
  user: string;
  log: Log;
  htmlUrl?: string;
  loadConfig: () => Promise<SelfharnessConfig | null>;
  env?: NodeJS.ProcessEnv;
  /** The app's login, to find its dashboard issue. */
  appLogin: AppLogin;
}

/** Commands after which a weakness can have another status on the dashboard. */
const CHANGES_STATUS = new Set<Command["name"]>(["retry", "retry-regression", "ignore", "approve"]);

/** Runs one command on a proposal pull request, after checking who asked and that it was not taken already. */
export async function handleCommand(input: CommandInput): Promise<CommandOutcome> {
  const { octokit, repo, command, number, log } = input;
  const { data } = await octokit.rest.pulls.get({ ...repo, pull_number: number });
  const pr = proposalOf(data as PullJson, stateKeyFromEnv());
  if (!pr.state) return { status: "ignored", reason: "not a selfharness pull request" };

  if (!(await canCommand(octokit, repo, input.user))) {
    await postComment(octokit, repo, number, refusalComment(input.user));
    log.info({ pr: number, user: input.user, command: command.name }, "command refused: no write permission");
    return { status: "refused" };
  }
  // GitHub answers 200 instead of 201 when the reaction exists: this app (here or on another replica,
  // before a restart) already took this comment, and a redelivered command must not run twice. Octokit's
  // own retry stays off here: a retried create whose first answer was lost would read as that 200.
  const reaction = await octokit.rest.reactions.createForIssueComment({ ...repo, comment_id: input.commentId, content: "eyes", request: NO_PLUGIN_RETRY });
  if (reaction.status === 200) {
    log.info({ pr: number, comment: input.commentId, command: command.name }, "command already handled (the comment carries our reaction)");
    return { status: "ignored", reason: "command already handled" };
  }

  const immediate = immediateReply(command, pr);
  if (immediate) {
    await postComment(octokit, repo, number, immediate.reply);
    return { status: "done", command: command.name, ...(immediate.detail ? { detail: immediate.detail } : {}) };
  }
  const config = await input.loadConfig();
  if (!config) return { status: "ignored", reason: "no valid configuration" };
  const host = gitHubHost({ octokit, repo, config, log, ...(input.htmlUrl ? { htmlUrl: input.htmlUrl } : {}) });
  const ctx = loopContext(config, log, input.env);
  const outcome = await runCommand(host, ctx, pr as ProposalPR, command, input.user);
  const store = CHANGES_STATUS.has(command.name) ? dashboardOf({ octokit, repo, config, log, appLogin: input.appLogin }) : null;
  if (store) await updateDashboard(log, `/selfharness ${command.name}`, () => refreshDashboard(store, host, ctx));
  return outcome;
}

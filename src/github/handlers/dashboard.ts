import type { Context } from "probot";
import type { SelfharnessConfig } from "../../config/schema.js";
import { actOnDashboard, refreshDashboard, type DashboardStore } from "../../loop/dashboard.js";
import { dashboardState } from "../../loop/dashboard-state.js";
import { stateKeyFromEnv } from "../state-key.js";
import type { Log } from "../../loop/host.js";
import { LABEL_DASHBOARD } from "../../loop/names.js";
import { tickedActions } from "../../report/dashboard.js";
import { loadRepoConfig } from "../api/config.js";
import { gitHubDashboard } from "../api/dashboard-issue.js";
import { canCommand } from "../api/permissions.js";
import { loopContext } from "../context.js";
import { gitHubHost } from "../host.js";
import type { AppLogin } from "../identity.js";
import { claimOnce, releaseClaim } from "../runtime/dedupe.js";
import { enqueue } from "../runtime/queue.js";
import type { Octokit, RepoRef } from "../types.js";

/** The repository's dashboard, or null when the configuration turns it off. */
export function dashboardOf(input: { octokit: Octokit; repo: RepoRef; config: SelfharnessConfig; log: Log; appLogin: AppLogin }): DashboardStore | null {
  return input.config.dashboard.enabled ? gitHubDashboard(input) : null;
}

/** Runs a dashboard update; the dashboard only reports, so a failure is logged and never fails the work it reports on. */
export async function updateDashboard(log: Log, what: string, update: () => Promise<void>): Promise<void> {
  try {
    await update();
  } catch (error) {
    log.warn({ err: error instanceof Error ? error.message : String(error) }, `dashboard not updated (${what})`);
  }
}

/**
 * Probot entry: an issue was edited. Acts only on boxes newly ticked on the app's own dashboard issue,
 * by a person with write access (checked with the permission API); anything else is left alone.
 */
export async function onDashboardEdited(context: Context<"issues.edited">, appLogin: AppLogin): Promise<void> {
  const { issue, sender, repository, changes } = context.payload;
  // The app's own rewrites (which untick the boxes) come back as edits too, as do other apps'.
  if (sender.type === "Bot" || !changes.body || !issue.labels?.some((l) => l.name === LABEL_DASHBOARD)) return;
  const before = new Set(tickedActions(changes.body.from ?? "").map((t) => `${t.action} ${t.weakness}`));
  const ticks = tickedActions(issue.body ?? "").filter((t) => !before.has(`${t.action} ${t.weakness}`));
  if (ticks.length === 0) return;
  const key = `${repository.full_name.toLowerCase()}#dashboard#${context.id}`;
  if (!claimOnce(key)) return;
  const octokit = context.octokit as unknown as Octokit;
  const repo = context.repo();
  const log = context.log;
  enqueue({
    name: `dashboard ${repo.owner}/${repo.repo}#${issue.number}`,
    key: repository.full_name.toLowerCase(),
    client: context.octokit,
    release: () => releaseClaim(key),
    run: async () => {
      if (issue.user?.login !== (await appLogin()) || !dashboardState(stateKeyFromEnv()).decode(issue.body)) {
        log.info({ issue: issue.number }, "ticked boxes ignored: not the app's own dashboard issue");
        return;
      }
      const config = await loadRepoConfig(context);
      const store = config ? dashboardOf({ octokit, repo, config, log, appLogin }) : null;
      if (!config || !store) return;
      const host = gitHubHost({ octokit, repo, config, log, htmlUrl: repository.html_url });
      const ctx = loopContext(config, log);
      if (!(await canCommand(octokit, repo, sender.login))) {
        log.info({ issue: issue.number, user: sender.login }, "dashboard ticks refused: no write permission");
        // Written again, so the refused ticks do not stay as if they had been done.
        await refreshDashboard(store, host, ctx);
        return;
      }
      await actOnDashboard(store, host, ctx, ticks, sender.login);
    },
    log,
  });
}

import type { Context } from "probot";
import type { ProposalPR } from "../../loop/host.js";
import { judgedVerdict, recordVerdict, refreshDashboard } from "../../loop/dashboard.js";
import { rerunGate } from "../../loop/rerun.js";
import { GATE_CHECK_NAME } from "../api/check-run.js";
import { loadRepoConfig } from "../api/config.js";
import { canCommand } from "../api/permissions.js";
import { loopContext } from "../context.js";
import { gitHubHost } from "../host.js";
import type { AppLogin } from "../identity.js";
import { claimOnce, releaseClaim } from "../runtime/dedupe.js";
import { enqueue } from "../runtime/queue.js";
import type { Octokit } from "../types.js";
import { dashboardOf, updateDashboard } from "./dashboard.js";

/**
 * Probot entry: someone pressed Re-run on a `selfharness/gate` check. Only for the open proposal whose
 * head the check is on, and only for people with write access: the gate judges again, or what is
 * missing is dispatched again.
 */
export async function onCheckRunRerequested(context: Context<"check_run.rerequested">, appLogin: AppLogin): Promise<void> {
  const { check_run: check, repository, sender } = context.payload;
  if (check.name !== GATE_CHECK_NAME || sender.type === "Bot") return;
  const key = `${repository.full_name.toLowerCase()}#rerun#${context.id}`;
  if (!claimOnce(key)) return;
  const octokit = context.octokit as unknown as Octokit;
  const repo = context.repo();
  const log = context.log;
  enqueue({
    name: `re-run ${repo.owner}/${repo.repo} check ${check.id}`,
    key: repository.full_name.toLowerCase(),
    client: context.octokit,
    release: () => releaseClaim(key),
    run: async () => {
      const config = await loadRepoConfig(context);
      if (!config) return;
      if (!(await canCommand(octokit, repo, sender.login))) {
        log.info({ check: check.id, user: sender.login }, "re-run refused: no write permission");
        return;
      }
      const host = gitHubHost({ octokit, repo, config, log, htmlUrl: repository.html_url });
      const pr = (await host.proposals("open")).find((p): p is ProposalPR => p.state !== null && p.headSha === check.head_sha);
      if (!pr) {
        log.info({ check: check.id, head: check.head_sha }, "re-run ignored: no open proposal has this commit as its head");
        return;
      }
      const ctx = loopContext(config, log);
      const outcome = await rerunGate(host, ctx, pr, check.head_sha);
      log.info({ pr: pr.number, check: check.id, outcome: outcome.status }, "gate re-run");
      const store = dashboardOf({ octokit, repo, config, log, appLogin });
      const verdict = outcome.status === "judge" ? judgedVerdict(outcome.outcome, pr.headSha) : null;
      if (store) await updateDashboard(log, "re-run", () => (verdict ? recordVerdict(store, host, ctx, verdict) : refreshDashboard(store, host, ctx)));
    },
    log,
  });
}

import { guardOptions, guardProposal } from "../propose/edit.js";
import { proposalTasks } from "./dispatch.js";
import { isHarnessPath } from "../propose/harness.js";
import type { Proposal } from "../propose/types.js";
import type { Host, LoopContext, ProposalPR } from "./host.js";
import type { ProposalState } from "./state.js";
import { startValidation, type ValidationStarted } from "./validate.js";

/**
 * The app's own pushes are recorded before the branch moves (`head`), and a commit already under
 * validation needs nothing new; any other head is someone else's push.
 */
export function isKnownHead(headSha: string, state: ProposalState): boolean {
  return headSha === state.head || headSha === state.validation?.headSha || headSha === state.refused?.headSha;
}

export type PushOutcome = { validated: true; started: ValidationStarted } | { validated: false; reason: string };

/**
 * Someone else's commit was never tested: the auto-merge label goes, native auto-merge is turned off,
 * and the running check of the old commit is closed as stale. The whole change from the base to the
 * new head then passes the same guards as a proposal (harness paths only, nothing protected, the size
 * budget, content rules, no task names) before the gate runs for it; a change that does not pass keeps
 * no automatic path to merge, and the pull request says why.
 */
export async function handleForeignPush(host: Host, ctx: LoopContext, pr: ProposalPR, pusher: string): Promise<PushOutcome> {
  const { config } = ctx;
  host.log.info({ pr: pr.number, head: pr.headSha, pusher }, "push by someone else to a proposal branch");
  const automerge = config.labels.automerge;
  const old = pr.state.validation;
  await host.update(pr, {
    ...(old?.checkRunId !== undefined && old.headSha !== pr.headSha
      ? {
          check: {
            headSha: old.headSha,
            checkRunId: old.checkRunId,
            selfharnessId: `${pr.state.slug}-${old.headSha.slice(0, 7)}-gate`,
            ifRunning: true,
            conclusion: "neutral" as const,
            title: "Stale: the branch has a newer commit",
            summary: `The branch moved to ${pr.headSha.slice(0, 7)} before this run finished; the gate runs again for the new commit.`,
          },
        }
      : {}),
    labels: { remove: [automerge] },
    ...(config.labels.nativeAutoMerge ? { autoMerge: "disable" as const } : {}),
  });
  const current = { ...pr, labels: pr.labels.filter((l) => l !== automerge) };

  const refusal = await guardBranch(host, ctx, current);
  if (refusal) {
    const reason = `the push by @${pusher} ${refusal}`;
    const summary = `Not validated: ${reason}. The gate validates only changes within the harness paths that pass the same guards as a proposal; review this pull request and merge it by hand, or push a change that passes.`;
    const state: ProposalState = { ...current.state, refused: { headSha: pr.headSha, reason } };
    delete state.verdict;
    await host.update(current, {
      check: { headSha: pr.headSha, selfharnessId: `${state.slug}-${pr.headSha.slice(0, 7)}-refused`, conclusion: "neutral", title: "Not validated: the push does not pass the guards", summary },
      comment: { body: summary },
      body: { text: current.body, state },
    });
    host.log.info({ pr: pr.number, head: pr.headSha, reason }, "push refused by the guards; no validation");
    return { validated: false, reason };
  }
  return { validated: true, started: await startValidation(host, ctx, current) };
}

/** Why the change from the proposal's base to its head may not be validated automatically, or null. */
export async function guardBranch(host: Pick<Host, "changedPaths" | "readHarness">, ctx: LoopContext, pr: ProposalPR): Promise<string | null> {
  const { config } = ctx;
  const base = pr.state.base.sha;
  const changed = await host.changedPaths(base, pr.headSha);
  if (!changed.ok) return `cannot be compared with the base: ${changed.reason}`;
  if (changed.paths.length === 0) return null;
  const [before, after] = await Promise.all([host.readHarness(base), host.readHarness(pr.headSha)]);
  const contentBefore = new Map(before.harness.files.map((f) => [f.path, f.content]));
  const contentAfter = new Map(after.harness.files.map((f) => [f.path, f.content]));
  const edits: Proposal["edits"] = [];
  for (const path of changed.paths) {
    const was = contentBefore.get(path);
    const now = contentAfter.get(path);
    if (was === undefined && now === undefined && isHarnessPath(path, config.harness.paths)) {
      return `changes ${path}, which cannot be checked as text (binary, or over the harness file size limit)`;
    }
    // A path outside the harness was not read: the guard refuses it by its path alone.
    edits.push({ path, before: was ?? "", after: now ?? "" });
  }
  const guarded = guardProposal(
    { weakness: pr.state.weakness, title: "push", rationale: "", expected: "", preserved: "", risk: "", edits },
    guardOptions(config, before, proposalTasks(pr.state.tasks)),
  );
  return guarded.ok ? null : `changes what the guards refuse: ${guarded.reason}`;
}

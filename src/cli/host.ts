import type { SelfharnessConfig } from "../config/schema.js";
import type { EvalRun, Host, Log, ProposalPR } from "../loop/host.js";
import { listRepositoryPaths, loadHarness } from "../propose/harness.js";
import type { IngestResult } from "../traces/types.js";

/** The one "run" the CLI stands for: the trace paths it was given, read already. */
export const LOCAL_RUN: EvalRun = { id: 1, attempt: 1, headSha: "working-tree", headBranch: "local", url: "", conclusion: null };

/**
 * The loop's host on a person's machine: traces already read from folders, the harness from a
 * repository folder, and a proposal that is shown (or written as a patch) instead of opened.
 * Validation and every GitHub write are for the app and the Action; asking for them here is a bug.
 */
export function localHost(input: { traces: IngestResult; repoDir: string; config: SelfharnessConfig; log?: Log }): Host {
  const unavailable = (what: string) => () => Promise.reject(new Error(`${what} needs the GitHub App or the Action; the CLI only proposes`));
  return {
    loadTrials: async () => ({ trials: input.traces.trials, notes: [] }),
    evalRuns: async (trigger) => [trigger],
    readHarness: async (sha) => {
      const paths = await listRepositoryPaths(input.repoDir);
      if (!paths) input.log?.warn({ repo: input.repoDir }, `${input.repoDir} holds too many files to list: no candidate may create a file`);
      return { harness: await loadHarness(input.repoDir, input.config.harness), sha, ...(paths ? { paths } : {}) };
    },
    changedPaths: unavailable("comparing commits"),
    proposals: async () => [],
    // The CLI prints the draft itself; the proposal "opened" here is only the loop's answer.
    openProposal: async (request): Promise<ProposalPR> => {
      return {
        number: 0,
        open: true,
        merged: false,
        title: request.title,
        body: request.body,
        headRef: request.branch,
        headSha: request.base.sha,
        baseRef: request.base.ref,
        labels: request.labels,
        state: request.state,
      };
    },
    replaceCandidate: unavailable("replacing a candidate"),
    openRevert: unavailable("opening a revert"),
    dispatchRegression: unavailable("dispatching a regression run"),
    runUrl: () => "",
    regressionRun: unavailable("looking up a regression run"),
    update: unavailable("updating a proposal"),
    log: input.log ?? quietLog,
  };
}

const quietLog: Log = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

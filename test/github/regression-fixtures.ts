/**
 * GitHub-side fixtures of the gate: regression run traces (zipped from fixtures/github-regression/),
 * a proposal's metadata, pull request objects, and the requests validation and the verdict make.
 */
import path from "node:path";
import { ProbotOctokit } from "probot";
import { parseConfig } from "../../src/config/load.js";
import type { SelfharnessConfig } from "../../src/config/schema.js";
import { type ProposalState } from "../../src/loop/state.js";
import { sealState } from "../state.js";
import type { Octokit } from "../../src/github/types.js";
import type { Proposal } from "../../src/propose/types.js";
import { ROOT, sha, zipFolder } from "./eval-fixtures.js";
import { API, OWNER, REPO, webhookExample, type GitHubMock } from "./helpers.js";

export const R = `/repos/${OWNER}/${REPO}`;
export const REGRESSION_DIR = path.join(ROOT, "fixtures/github-regression");
export const WORKFLOW = "selfharness-regression.yml";
export const BRANCH = "selfharness/missing-output-file-3f9a2c1d";
export const BASE_SHA = sha("base commit");
export const HEAD_SHA = sha("proposal commit");
export const PR_NUMBER = 7;
export const TASKS = { targeted: ["csv-summary", "log-rotate"], preserve: ["hello-file"], heldOut: ["sort-lines", "json-merge"] };

/** The repository's configuration for the gate tests (the paper rule: five tasks decide nothing statistically). */
/** The gate's configuration, dashboard off unless `extra` names it (its requests are tested end to end in test/e2e). */
export function gateConfig(extra = ""): SelfharnessConfig {
  const dashboard = /^dashboard:/m.test(extra) ? "" : "dashboard:\n  enabled: false\n";
  const parsed = parseConfig(`eval:\n  artifacts: "traces-*"\nregression:\n  trials: 2\ngate:\n  rule: paper\n${extra}${dashboard}`);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.config;
}

/** An installation-token client that goes through nock, without retries or throttling. */
export function testOctokit(): Octokit {
  const Client = ProbotOctokit.defaults((options: Record<string, unknown>) => ({ ...options, retry: { enabled: false }, throttle: { enabled: false } }));
  return new Client({ auth: { token: "ghs_testtoken0000000000000000000000000000" } }) as unknown as Octokit;
}

export const WRITE_OUTPUT_FIRST: Proposal = {
  weakness: "w3f9a2c1d",
  title: "Write the output file before exploring further",
  rationale: "Failures ended without the required output file; the prompt never asks for it early.",
  expected: "Tasks that need an output file get one even when the agent runs out of time.",
  preserved: "Tasks without an output file are unaffected.",
  risk: "Low: one extra rule in the system prompt.",
  edits: [{ path: "harness/system_prompt.md", before: "- Prefer small, safe commands.", after: "- Prefer small, safe commands.\n- Write the required output file as soon as you know its format, then refine it." }],
};

export const CHECK_OUTPUT_AT_END: Proposal = {
  weakness: "w3f9a2c1d",
  title: "Check the output file exists before finishing",
  rationale: "The agent declared success without checking that the output exists.",
  expected: "Fewer runs end with a missing output file.",
  preserved: "Passing tasks still finish the same way.",
  risk: "Low: one extra check at the end.",
  edits: [{ path: "harness/system_prompt.md", before: "- Read the task statement first.", after: "- Read the task statement first.\n- Before you finish, list the output files the task asks for and check each exists." }],
};

export function sampleMetadata(overrides: Partial<ProposalState> = {}): ProposalState {
  return {
    version: 1,
    weakness: "w3f9a2c1d",
    slug: "missing-output-file-3f9a2c1d",
    harnessVersion: "5d1c0e9a7b42",
    base: { ref: "main", sha: BASE_SHA },
    runsMined: [7001],
    proposer: "playbook",
    current: WRITE_OUTPUT_FIRST,
    alternatives: [CHECK_OUTPUT_AT_END],
    attempts: [],
    tasks: TASKS,
    head: HEAD_SHA,
    ...overrides,
  };
}

export function prBody(metadata: ProposalState, text = "**Write the output file before exploring further**: the proposal."): string {
  return `${text}\n\n### Validation\n\nPending: the regression workflow runs on this branch.\n\n### Commands\n\n- \`/selfharness help\`\n\n${sealState(metadata)}\n`;
}

export interface PullOptions {
  number?: number;
  headRef?: string;
  headSha?: string;
  body?: string;
  labels?: string[];
  state?: "open" | "closed";
  /** Who opened it: the app's bot unless a test says otherwise. */
  author?: { login: string; type: "Bot" | "User" };
  /** Where the head branch lives: this repository unless a test says otherwise (a fork). */
  headRepo?: string;
}

/** A pull request as `GET /pulls/{n}` and `GET /pulls` return it, from GitHub's own example. */
export function pullJson(options: PullOptions = {}): Record<string, unknown> {
  const pr = (webhookExample("pull_request", (e) => e.action === "opened").pull_request ?? {}) as Record<string, unknown>;
  const number = options.number ?? PR_NUMBER;
  const head = pr.head as Record<string, unknown>;
  const base = pr.base as Record<string, unknown>;
  const repo = (fullName: string) => ({ ...(base.repo as Record<string, unknown>), full_name: fullName, name: fullName.split("/")[1], html_url: `https://github.com/${fullName}` });
  Object.assign(head, { ref: options.headRef ?? BRANCH, sha: options.headSha ?? HEAD_SHA, label: `${OWNER}:${options.headRef ?? BRANCH}`, repo: repo(options.headRepo ?? `${OWNER}/${REPO}`) });
  Object.assign(base, { ref: "main", sha: BASE_SHA, label: `${OWNER}:main`, repo: repo(`${OWNER}/${REPO}`) });
  const author = options.author ?? { login: "selfharness[bot]", type: "Bot" };
  return {
    ...pr,
    user: { ...(pr.user as Record<string, unknown>), login: author.login, type: author.type, html_url: `https://github.com/apps/${author.login.replace(/\[bot\]$/, "")}` },
    number,
    node_id: `PR_kwDOtest${number}`,
    state: options.state ?? "open",
    title: "selfharness: write the output file before exploring further",
    body: options.body ?? prBody(sampleMetadata()),
    labels: (options.labels ?? ["selfharness"]).map((name, i) => ({ id: 2000 + i, node_id: `LA_${i}`, url: `${API}${R}/labels/${encodeURIComponent(name)}`, name, color: "ededed", default: false, description: null })),
    url: `${API}${R}/pulls/${number}`,
    html_url: `https://github.com/${OWNER}/${REPO}/pull/${number}`,
  };
}

/** `POST /actions/workflows/{file}/dispatches`: 200 with the run id, or 204 as older servers answer. */
export function mockDispatch(gh: GitHubMock, ref: string, runId: number | null, check: (inputs: Record<string, string>) => boolean = () => true): void {
  const interceptor = gh.post(`${R}/actions/workflows/${WORKFLOW}/dispatches`, (body: { ref: string; inputs: Record<string, string>; return_run_details?: boolean }) =>
    body.ref === ref && body.return_run_details === true && check(body.inputs),
  );
  if (runId === null) interceptor.reply(204);
  else interceptor.reply(200, { workflow_run_id: runId, run_url: `${API}${R}/actions/runs/${runId}`, html_url: `https://github.com/${OWNER}/${REPO}/actions/runs/${runId}` });
}

/** `GET /actions/workflows/{file}/runs` for dispatched runs on a branch. */
export function mockDispatchedRuns(gh: GitHubMock, branch: string, runs: { id: number; title: string; headSha: string; status?: string }[]): void {
  gh.get(`${R}/actions/workflows/${WORKFLOW}/runs`)
    .query({ branch, event: "workflow_dispatch", per_page: "30" })
    .reply(200, {
      total_count: runs.length,
      workflow_runs: runs.map((r) => ({
        id: r.id,
        display_title: r.title,
        head_sha: r.headSha,
        head_branch: branch,
        status: r.status ?? "queued",
        conclusion: null,
        html_url: `https://github.com/${OWNER}/${REPO}/actions/runs/${r.id}`,
      })),
    });
}

/** `GET /actions/runs/{id}`. */
export function mockRun(gh: GitHubMock, id: number, headSha: string, status = "completed"): void {
  gh.get(`${R}/actions/runs/${id}`).reply(200, {
    id,
    head_sha: headSha,
    status,
    conclusion: status === "completed" ? "success" : null,
    html_url: `https://github.com/${OWNER}/${REPO}/actions/runs/${id}`,
  });
}

export function checkRunJson(id: number, headSha: string, status = "in_progress"): Record<string, unknown> {
  return { id, head_sha: headSha, name: "selfharness/gate", status, conclusion: null, html_url: `https://github.com/${OWNER}/${REPO}/runs/${id}` };
}

/** The regression traces of one fixture set, zipped as actions/upload-artifact does. */
export function regressionZip(set: "baseline" | "improved" | "regressed" | "invalid"): Promise<Buffer> {
  return zipFolder(path.join(REGRESSION_DIR, set));
}

/** The run-name a regression workflow shows, carrying the id (as the template's `run-name` does). */
export function runTitle(selfharnessId: string): string {
  return `selfharness regression ${selfharnessId}`;
}

/** The body of the first request with this method whose path starts with `pathPrefix`. */
export function bodyOf(gh: GitHubMock, method: string, pathPrefix: string): Record<string, unknown> {
  const request = gh.requests.find((r) => r.method === method && r.path.startsWith(pathPrefix));
  if (!request) throw new Error(`no ${method} ${pathPrefix} in ${gh.requests.map((r) => `${r.method} ${r.path}`).join(", ")}`);
  return request.body as Record<string, unknown>;
}

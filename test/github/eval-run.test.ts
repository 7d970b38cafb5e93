import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { readState } from "../state.js";
import { stageDispatchId } from "../../src/loop/stages.js";
import { pullJson, prBody, sampleMetadata } from "./regression-fixtures.js";
import { whenIdle } from "../../src/github/runtime/queue.js";
import { retryDefaults } from "../../src/github/api/retry.js";
import {
  API,
  OWNER,
  REPO,
  createTestProbot,
  mockGitHub,
  mockInstallationToken,
  resetGitHub,
  workflowRunPayload,
  type GitHubMock,
  type LogLine,
} from "./helpers.js";
import {
  CONFIG_YAML,
  EVAL_WORKFLOW_ID,
  HARNESS_FILES,
  freshSha,
  mockArtifactDownload,
  mockConfigFile,
  mockConfigIssueLookup,
  mockHarnessBlobs,
  mockRunArtifacts,
  mockTree,
  mockWorkflowRuns,
  sha,
  tracesZip,
  zipBomb,
  type ListedArtifact,
} from "./eval-fixtures.js";

const R = `/repos/${OWNER}/${REPO}`;
let zip: Buffer;
let cacheDir: string;

beforeAll(async () => {
  retryDefaults.baseMs = 1;
  retryDefaults.maxMs = 5;
  zip = await tracesZip();
});

beforeEach(() => {
  cacheDir = mkdtempSync(path.join(os.tmpdir(), "selfharness-cache-test-"));
  process.env.SELFHARNESS_CACHE_DIR = cacheDir;
});

afterEach(() => {
  resetGitHub();
  rmSync(cacheDir, { recursive: true, force: true });
  delete process.env.SELFHARNESS_CACHE_DIR;
});

let runCounter = 20_000;

interface Flow {
  gh: GitHubMock;
  runId: number;
  headSha: string;
  olderRunId: number;
  branch: string;
}

interface FlowOptions {
  config?: string;
  /** Artifacts of the triggering run beyond the good one, with what their download serves. */
  extraArtifacts?: { artifact: ListedArtifact; bytes: Buffer | "expired" | null }[];
  /** What the good artifact serves (default the fixture traces). */
  traces?: Buffer;
  /** Stop after mining: no harness, no PR. */
  expectPR?: boolean;
  /** Every attempt to label the new pull request fails. */
  labelsFail?: boolean;
  /** False when the traces hold no weakness (closed PRs are then never listed). */
  openPRs?: unknown[] | ((runId: number) => unknown[]);
  closedPRs?: unknown[];
  /** POST /git/refs answers 422 (branch left by an earlier attempt) and the ref is moved instead. */
  branchExists?: boolean;
  /** POST /pulls keeps failing: the branch is deleted again. */
  pullFails?: boolean;
}

const WEAKNESS_ID = "20b0ae6fe4";
const BRANCH = `selfharness/missing-artifact-${WEAKNESS_ID.slice(0, 8)}`;

/**
 * Mocks every GitHub request of one eval run, in the order the app makes them: config, PR listing,
 * run listing and harness versions, artifacts, harness files, labels, the Git Data commit, the PR,
 * and the validation hand-over.
 */
function mockEvalFlow(options: FlowOptions = {}): Flow {
  const gh = mockGitHub();
  const runId = ++runCounter;
  const olderRunId = ++runCounter;
  const otherHarnessRunId = ++runCounter;
  const headSha = freshSha("head");
  const olderSha = freshSha("older");
  const otherSha = freshSha("other");
  mockInstallationToken(gh);
  mockConfigFile(gh, options.config ?? CONFIG_YAML);
  mockConfigIssueLookup(gh);
  const openPRs = typeof options.openPRs === "function" ? options.openPRs(runId) : (options.openPRs ?? []);
  // Closed proposals first (merged ones are watched), then the open ones.
  gh.get(`${R}/pulls`).query({ state: "closed", per_page: "100", sort: "created", direction: "desc" }).reply(200, options.closedPRs ?? []);
  gh.get(`${R}/pulls`).query({ state: "open", per_page: "100", sort: "created", direction: "desc" }).reply(200, openPRs);
  if (openPRs.length > 0) return { gh, runId, headSha, olderRunId, branch: BRANCH };

  const { blobs } = mockTree(gh, headSha);
  mockWorkflowRuns(gh, [
    { id: runId, headSha },
    { id: olderRunId, headSha: olderSha },
    { id: otherHarnessRunId, headSha: otherSha },
  ]);
  mockTree(gh, olderSha);
  mockTree(gh, otherSha, { files: { ...HARNESS_FILES, "harness/system_prompt.md": "an older prompt\n" } });

  const goodArtifact = runId * 10;
  mockRunArtifacts(gh, runId, [
    ...(options.extraArtifacts ?? []).map((e) => e.artifact),
    { id: goodArtifact, name: "eval-traces" },
    { id: goodArtifact + 1, name: "coverage-report" },
  ]);
  for (const extra of options.extraArtifacts ?? []) if (extra.bytes !== null) mockArtifactDownload(gh, extra.artifact.id, extra.bytes);
  mockArtifactDownload(gh, goodArtifact, options.traces ?? zip);
  mockRunArtifacts(gh, olderRunId, [{ id: olderRunId * 10, name: "eval-traces", expired: true }]);
  if (options.expectPR === false) return { gh, runId, headSha, olderRunId, branch: BRANCH };

  mockHarnessBlobs(gh, blobs);
  // The open proposals again, with the draft in hand: another run of the delivery may have opened it meanwhile.
  gh.get(`${R}/pulls`).query({ state: "open", per_page: "100", sort: "created", direction: "desc" }).reply(200, []);
  gh.get(`${R}/labels/selfharness`).reply(404, { message: "Not Found" });
  gh.post(`${R}/labels`, (b) => b.name === "selfharness").reply(201, { id: 1, name: "selfharness", color: "5319e7" });
  gh.get(`${R}/labels/agent-harness`).reply(200, { id: 2, name: "agent-harness", color: "ededed" });
  // The labels validation sets later are created up front with their colours, not grey on first use.
  gh.get(`${R}/labels/selfharness%3Avalidating`).reply(404, { message: "Not Found" });
  gh.post(`${R}/labels`, (b) => b.name === "selfharness:validating" && b.color === "fbca04" && typeof b.description === "string").reply(201, { id: 3, name: "selfharness:validating", color: "fbca04" });
  gh.get(`${R}/labels/selfharness%3Arejected`).reply(200, { id: 4, name: "selfharness:rejected", color: "d93f0b" });
  gh.get(`${R}/labels/selfharness%3Aautomerge`).reply(404, { message: "Not Found" });
  gh.post(`${R}/labels`, (b) => b.name === "selfharness:automerge" && b.color === "0e8a16").reply(201, { id: 5, name: "selfharness:automerge", color: "0e8a16" });
  const blobSha = sha("new prompt");
  const newTree = sha("new tree");
  const commitSha = sha(`commit ${runId}`);
  gh.post(`${R}/git/blobs`).reply(201, { sha: blobSha, url: `${API}${R}/git/blobs/${blobSha}` });
  gh.post(`${R}/git/trees`).reply(201, { sha: newTree, url: `${API}${R}/git/trees/${newTree}`, tree: [], truncated: false });
  gh.post(`${R}/git/commits`).reply(201, { sha: commitSha, url: `${API}${R}/git/commits/${commitSha}` });
  if (options.branchExists) {
    gh.post(`${R}/git/refs`).reply(422, { message: "Reference already exists" });
    gh.patch(`${R}/git/refs/heads%2F${BRANCH.replace("/", "%2F")}`).reply(200, { ref: `refs/heads/${BRANCH}`, object: { sha: commitSha } });
  } else {
    gh.post(`${R}/git/refs`).reply(201, { ref: `refs/heads/${BRANCH}`, object: { sha: commitSha } });
  }
  if (options.pullFails) {
    gh.post(`${R}/pulls`).times(retryDefaults.attempts).reply(502, { message: "Server Error" });
    gh.delete(`${R}/git/refs/heads%2F${BRANCH.replace("/", "%2F")}`).reply(204);
    return { gh, runId, headSha, olderRunId, branch: BRANCH };
  }
  gh.post(`${R}/pulls`).reply(201, { number: 12, html_url: `https://github.com/${OWNER}/${REPO}/pull/12`, head: { ref: BRANCH, sha: commitSha } });
  if (options.labelsFail) gh.post(`${R}/issues/12/labels`, (b: { labels: string[] }) => b.labels.includes("agent-harness")).times(retryDefaults.attempts).reply(502, { message: "Server Error" });
  else gh.post(`${R}/issues/12/labels`).reply(200, [{ name: "selfharness" }, { name: "agent-harness" }]);

  // Validation (started right after the PR): planned from the runs just mined (read once per event),
  // stage 1 dispatched on the branch and on main with the same tasks; then the check run.
  gh.post(`${R}/actions/workflows/selfharness-regression.yml/dispatches`, (b: { ref: string }) => b.ref === BRANCH).reply(200, {
    workflow_run_id: 777,
    run_url: `${API}${R}/actions/runs/777`,
    html_url: `https://github.com/${OWNER}/${REPO}/actions/runs/777`,
  });
  gh.post(`${R}/actions/workflows/selfharness-regression.yml/dispatches`, (b: { ref: string }) => b.ref === "main").reply(200, {
    workflow_run_id: 778,
    run_url: `${API}${R}/actions/runs/778`,
    html_url: `https://github.com/${OWNER}/${REPO}/actions/runs/778`,
  });
  gh.post(`${R}/check-runs`).reply(201, { id: 4242, name: "selfharness/gate", status: "in_progress" });
  gh.patch(`${R}/pulls/12`).reply(200, { number: 12 });
  gh.post(`${R}/issues/12/labels`).reply(200, [{ name: "selfharness:validating" }]);
  return { gh, runId, headSha, olderRunId, branch: BRANCH };
}

async function deliver(flow: Pick<Flow, "runId" | "headSha">, overrides: Parameters<typeof workflowRunPayload>[0] = {}, id = `delivery-${flow.runId}`) {
  const { probot, logs } = createTestProbot();
  await probot.receive({
    id,
    name: "workflow_run",
    payload: workflowRunPayload({ id: flow.runId, headSha: flow.headSha, workflowId: EVAL_WORKFLOW_ID, ...overrides }) as never,
  });
  await whenIdle();
  return { probot, logs };
}

function bodyOf(gh: GitHubMock, method: string, pathPrefix: string): Record<string, unknown> {
  const request = gh.requests.find((r) => r.method === method && r.path.startsWith(pathPrefix));
  if (!request) throw new Error(`no ${method} ${pathPrefix} request`);
  return request.body as Record<string, unknown>;
}

function messages(logs: LogLine[]): string[] {
  return logs.map((l) => l.msg);
}

describe("a failed eval run becomes a pull request", () => {
  it("goes from one webhook to one PR with exactly these requests", async () => {
    const flow = mockEvalFlow();
    const { logs } = await deliver(flow);
    flow.gh.expectAllDone();

    const [, , , ...queued] = flow.gh.requests.map((r) => `${r.method} ${r.path.replace(/\?.*$/, "")}`);
    expect(flow.gh.requests.slice(0, 3).map((r) => `${r.method} ${r.path}`)).toEqual([
      "POST /app/installations/42/access_tokens",
      `GET ${R}/contents/.github%2Fselfharness.yml`,
      `GET ${R}/issues?state=open&labels=selfharness&per_page=100`,
    ]);
    expect(queued).toEqual([
      `GET ${R}/pulls`,
      `GET ${R}/pulls`,
      `GET ${R}/git/trees/${flow.headSha}`,
      `GET ${R}/actions/workflows/${EVAL_WORKFLOW_ID}/runs`,
      expect.stringMatching(new RegExp(`^GET ${R}/git/trees/[0-9a-f]{40}$`)),
      expect.stringMatching(new RegExp(`^GET ${R}/git/trees/[0-9a-f]{40}$`)),
      `GET ${R}/actions/runs/${flow.runId}/artifacts`,
      `GET ${R}/actions/artifacts/${flow.runId * 10}/zip`,
      `GET ${R}/actions/runs/${flow.olderRunId}/artifacts`,
      expect.stringMatching(/\/git\/blobs\//),
      expect.stringMatching(/\/git\/blobs\//),
      `GET ${R}/pulls`,
      `GET ${R}/labels/selfharness`,
      `POST ${R}/labels`,
      `GET ${R}/labels/agent-harness`,
      `GET ${R}/labels/selfharness%3Avalidating`,
      `POST ${R}/labels`,
      `GET ${R}/labels/selfharness%3Arejected`,
      `GET ${R}/labels/selfharness%3Aautomerge`,
      `POST ${R}/labels`,
      `POST ${R}/git/blobs`,
      `POST ${R}/git/trees`,
      `POST ${R}/git/commits`,
      `POST ${R}/git/refs`,
      `POST ${R}/pulls`,
      `POST ${R}/issues/12/labels`,
      `POST ${R}/actions/workflows/selfharness-regression.yml/dispatches`,
      `POST ${R}/actions/workflows/selfharness-regression.yml/dispatches`,
      `POST ${R}/check-runs`,
      `PATCH ${R}/pulls/12`,
      `POST ${R}/issues/12/labels`,
    ]);

    // One commit with the edited system prompt on top of the eval run's commit.
    const blob = bodyOf(flow.gh, "POST", `${R}/git/blobs`);
    const prompt = Buffer.from(blob.content as string, "base64").toString("utf8");
    expect(prompt.startsWith(HARNESS_FILES["harness/system_prompt.md"]!)).toBe(true);
    expect(prompt).toMatch(/Write the required output early and read it back/);
    expect(prompt).not.toMatch(/csv-summary|json-merge|log-rotate|summary\.json/);
    const tree = bodyOf(flow.gh, "POST", `${R}/git/trees`);
    expect(tree).toEqual({ base_tree: sha(`tree ${flow.headSha}`), tree: [{ path: "harness/system_prompt.md", mode: "100644", type: "blob", sha: sha("new prompt") }] });
    expect(bodyOf(flow.gh, "POST", `${R}/git/commits`)).toMatchObject({ tree: sha("new tree"), parents: [flow.headSha] });
    expect(bodyOf(flow.gh, "POST", `${R}/git/refs`)).toEqual({ ref: `refs/heads/${BRANCH}`, sha: sha(`commit ${flow.runId}`) });

    const pr = bodyOf(flow.gh, "POST", `${R}/pulls`);
    expect(pr).toMatchObject({ title: "selfharness: write the required output early and read it back", head: BRANCH, base: "main" });
    const body = pr.body as string;
    expect(body).toMatch(/\*\*4\*\* failing trials over \*\*3\*\* tasks/);
    expect(body).toContain("`csv-summary`, `json-merge`, `log-rotate`");
    expect(body).toContain(`[#${flow.runId}](https://github.com/${OWNER}/${REPO}/actions/runs/${flow.runId}) (failure)`);
    expect(body).toContain(`[#${flow.olderRunId}](https://github.com/${OWNER}/${REPO}/actions/runs/${flow.olderRunId})`);
    expect(body).toMatch(/<details><summary>Excerpt from <code>\d+\/2026-11-20__09-00-00\/[a-z-]+__\w+<\/code><\/summary>\n\n```+text\n/);
    expect(body).toMatch(/- \*\*Expected:\*\* The agent produces the required output early/);
    expect(body).toMatch(/- \*\*Preserved:\*\* /);
    expect(body).toMatch(/- \*\*Risk:\*\* /);
    expect(body).toMatch(/\| `harness\/system_prompt\.md` \| \+\d+ \| -0 \|/);
    expect(body).toContain("Written by the built-in playbook;");
    expect(body).toMatch(/### Validation\n\nPending: the regression workflow `selfharness-regression.yml`/);
    expect(body).toContain("`/selfharness retry`");
    expect(body).toMatch(/artifact `eval-traces` \(\d+\) of run \d+ has expired and was skipped/);

    const metadata = readState(body)!;
    expect(metadata).toMatchObject({
      weakness: WEAKNESS_ID,
      slug: BRANCH.slice("selfharness/".length),
      base: { ref: "main", sha: flow.headSha },
      runsMined: [flow.runId, flow.olderRunId],
      trigger: { runId: flow.runId, attempt: 1 },
      proposer: "playbook",
      head: sha(`commit ${flow.runId}`),
      tasks: { targeted: ["csv-summary", "json-merge", "log-rotate"], preserve: ["hello-file"], heldOut: ["sort-lines"] },
    });
    expect(metadata.alternatives.length).toBe(1);
    expect(bodyOf(flow.gh, "POST", `${R}/issues/12/labels`)).toEqual({ labels: ["selfharness", "agent-harness"] });

    // The hand-over to validation: stage 1 on the new branch and on main at once, the same tasks and trials.
    const slug = BRANCH.slice("selfharness/".length);
    const head = sha(`commit ${flow.runId}`);
    const dispatches = flow.gh.requests.filter((r) => r.method === "POST" && r.path.endsWith("/dispatches")).map((r) => r.body as { ref: string; inputs: Record<string, string> });
    expect(dispatches.map((d) => [d.ref, d.inputs.selfharness_id])).toEqual([
      [BRANCH, stageDispatchId(slug, head, 1, 0, "candidate")],
      ["main", stageDispatchId(slug, head, 1, 0, "baseline")],
    ]);
    expect(dispatches[1]!.inputs.tasks).toBe(dispatches[0]!.inputs.tasks);
    expect(dispatches[1]!.inputs.trials).toBe(dispatches[0]!.inputs.trials);
    expect(dispatches[0]!.inputs.tasks!.split(",").sort()).toEqual(["csv-summary", "hello-file", "json-merge", "log-rotate", "sort-lines"]);
    const validated = readState(bodyOf(flow.gh, "PATCH", `${R}/pulls/12`).body as string)!;
    expect(validated.validation).toMatchObject({ headSha: head, baseRef: "main", checkRunId: 4242 });
    expect(validated.validation?.stages.map((s) => [s.candidate[0]!.runId, s.baseline[0]!.runId])).toEqual([[777, 778]]);
    expect(validated.validation?.plan).toMatch(/budget of \d+ task-trials/);
    // The improvement test's weights, fixed now from the mined runs: the targeted tasks failed every trial there.
    expect(validated.validation?.weights).toEqual({ neverPassed: ["csv-summary", "json-merge", "log-rotate"], alwaysPassed: ["hello-file", "sort-lines"] });
    expect(bodyOf(flow.gh, "PATCH", `${R}/pulls/12`).body).toContain("on this branch and on `main`, at the same time.");
    expect(messages(logs)).toContain("proposal pull request opened");
  });

  it("validates the new pull request even when labelling it fails on every retry", async () => {
    const flow = mockEvalFlow({ labelsFail: true });
    const { logs } = await deliver(flow);
    flow.gh.expectAllDone();
    expect(flow.gh.requests.filter((r) => r.path.endsWith("/dispatches"))).toHaveLength(2);
    expect(readState(bodyOf(flow.gh, "PATCH", `${R}/pulls/12`).body as string)?.validation).toMatchObject({ checkRunId: 4242, stages: [{ candidate: [{ runId: 777 }], baseline: [{ runId: 778 }] }] });
    expect(messages(logs)).toContain("labels could not be added to the new pull request");
  });

  it("reuses a branch left behind by an earlier attempt", async () => {
    const flow = mockEvalFlow({ branchExists: true });
    await deliver(flow);
    flow.gh.expectAllDone();
    const moved = flow.gh.requests.find((r) => r.method === "PATCH" && r.path.includes("/git/refs/"));
    expect(moved?.body).toEqual({ sha: sha(`commit ${flow.runId}`), force: true });
  });

  it("deletes the branch again when the pull request cannot be opened, and logs the run id", async () => {
    const flow = mockEvalFlow({ pullFails: true });
    const { logs } = await deliver(flow);
    flow.gh.expectAllDone();
    expect(flow.gh.requests.filter((r) => r.method === "POST" && r.path === `${R}/pulls`)).toHaveLength(retryDefaults.attempts);
    const failure = logs.find((l) => l.msg === "eval run failed");
    expect(failure?.level).toBe("error");
    expect(failure?.obj).toMatchObject({ runId: flow.runId, attempt: 1 });
  });
});

describe("runs that never trigger mining", () => {
  function mockUpToRoute(options: { issueLookup: boolean }) {
    const gh = mockGitHub();
    mockInstallationToken(gh);
    mockConfigFile(gh, CONFIG_YAML);
    if (options.issueLookup) mockConfigIssueLookup(gh);
    return gh;
  }

  it("ignores runs from forks from the payload alone, without a GitHub request", async () => {
    const gh = mockGitHub();
    const { logs } = await deliver({ runId: ++runCounter, headSha: freshSha("fork") }, { headRepository: "someone/octo-repo" });
    gh.expectAllDone();
    expect(gh.requests).toEqual([]);
    expect(messages(logs)).toContain("workflow run ignored: run from a fork (someone/octo-repo)");
  });

  it("never mines runs on selfharness branches", async () => {
    const gh = mockUpToRoute({ issueLookup: true });
    const { logs } = await deliver({ runId: ++runCounter, headSha: freshSha("own") }, { headBranch: "selfharness/missing-artifact-20b0ae6f" });
    gh.expectAllDone();
    expect(messages(logs)).toContain("eval run ignored: run on selfharness/missing-artifact-20b0ae6f, a selfharness branch");
  });

  it("ignores other workflows", async () => {
    const gh = mockUpToRoute({ issueLookup: false });
    const { logs } = await deliver({ runId: ++runCounter, headSha: freshSha("lint") }, { path: ".github/workflows/lint.yml", name: "lint" });
    gh.expectAllDone();
    expect(gh.requests).toHaveLength(2);
    expect(messages(logs)).toContain("not a configured selfharness workflow");
  });

  it("ignores conclusions that are not configured triggers (by default: cancelled and skipped runs)", async () => {
    const gh = mockUpToRoute({ issueLookup: true });
    const { logs } = await deliver({ runId: ++runCounter, headSha: freshSha("ok") }, { conclusion: "cancelled" });
    gh.expectAllDone();
    expect(messages(logs)).toContain("eval run ignored: conclusion cancelled is not one of eval.conclusions (success, failure, timed_out, neutral)");
  });

  it("does nothing without a configuration file", async () => {
    const gh = mockGitHub();
    mockInstallationToken(gh);
    mockConfigFile(gh, null);
    const { logs } = await deliver({ runId: ++runCounter, headSha: freshSha("none") });
    gh.expectAllDone();
    expect(messages(logs)).toContain("no .github/selfharness.yml; nothing to do");
  });
});

describe("at most once per run attempt", () => {
  const openPR = (n: number) => ({
    number: n,
    state: "open",
    title: "selfharness: stop looping",
    head: { ref: "selfharness/stalled-loop-0a1b2c3d", sha: "c".repeat(40), repo: { full_name: `${OWNER}/${REPO}` } },
    base: { ref: "main", repo: { full_name: `${OWNER}/${REPO}` } },
    user: { login: "selfharness[bot]", type: "Bot" },
    labels: [{ name: "selfharness" }],
    body: "open proposal",
    merged_at: null,
  });

  it("handles a redelivered webhook once, and a re-run attempt again", async () => {
    const flow = mockEvalFlow({ openPRs: [openPR(3)] });
    const first = await deliver(flow, {}, "delivery-a");
    flow.gh.expectAllDone();
    expect(messages(first.logs)).toContain("no proposal: 1 proposal pull request is open (limits.maxOpenPRs: 1)");

    // Answered from memory: not even the configuration is read again.
    const again = mockGitHub();
    const redelivered = await deliver(flow, {}, "delivery-a");
    again.expectAllDone();
    expect(again.requests).toEqual([]);
    expect(messages(redelivered.logs)).toContain("workflow run already handled (redelivery or concurrent delivery)");

    const rerun = mockEvalFlow({ openPRs: [openPR(3)] });
    const second = await deliver({ runId: flow.runId, headSha: flow.headSha }, { attempt: 2 }, "delivery-b");
    rerun.gh.expectAllDone();
    expect(messages(second.logs)).toContain("no proposal: 1 proposal pull request is open (limits.maxOpenPRs: 1)");
  });

  it("handles two concurrent deliveries of the same run once", async () => {
    const flow = mockEvalFlow({ openPRs: [openPR(4)] });
    const { probot, logs } = createTestProbot();
    const payload = workflowRunPayload({ id: flow.runId, headSha: flow.headSha, workflowId: EVAL_WORKFLOW_ID }) as never;
    await Promise.all([
      probot.receive({ id: "concurrent-1", name: "workflow_run", payload }),
      probot.receive({ id: "concurrent-2", name: "workflow_run", payload }),
    ]);
    await whenIdle();
    flow.gh.expectAllDone();
    // One delivery listed the proposals (closed, then open) and stopped there; the other did nothing.
    expect(flow.gh.requests.filter((r) => r.path.startsWith(`${R}/pulls`))).toHaveLength(2);
    expect(messages(logs).filter((m) => m === "workflow run already handled (redelivery or concurrent delivery)")).toHaveLength(1);
  });

  it("starts the validation of an open proposal that never got one, before anything else", async () => {
    const state = sampleMetadata({ slug: "stalled-loop-0a1b2c3d", runsMined: [], head: "c".repeat(40) });
    const flow = mockEvalFlow({ openPRs: [{ ...openPR(6), body: prBody(state) }] });
    flow.gh.post(`${R}/actions/workflows/selfharness-regression.yml/dispatches`, (b: { ref: string }) => b.ref === "selfharness/stalled-loop-0a1b2c3d").reply(200, { workflow_run_id: 801, run_url: `${API}${R}/actions/runs/801`, html_url: `https://github.com/${OWNER}/${REPO}/actions/runs/801` });
    flow.gh.post(`${R}/actions/workflows/selfharness-regression.yml/dispatches`, (b: { ref: string }) => b.ref === "main").reply(200, { workflow_run_id: 802, run_url: `${API}${R}/actions/runs/802`, html_url: `https://github.com/${OWNER}/${REPO}/actions/runs/802` });
    flow.gh.post(`${R}/check-runs`).reply(201, { id: 4343 });
    flow.gh.patch(`${R}/pulls/6`).reply(200, {});
    flow.gh.post(`${R}/issues/6/labels`, { labels: ["selfharness:validating"] }).reply(200, []);

    const { logs } = await deliver(flow);

    flow.gh.expectAllDone();
    expect(readState(bodyOf(flow.gh, "PATCH", `${R}/pulls/6`).body as string)?.validation).toMatchObject({ checkRunId: 4343, stages: [{ candidate: [{ runId: 801 }], baseline: [{ runId: 802 }] }] });
    expect(messages(logs)).toContain("validation of an open proposal never started; starting it now");
    // The open proposal still counts against limits.maxOpenPRs: nothing new is mined.
    expect(messages(logs)).toContain("no proposal: 1 proposal pull request is open (limits.maxOpenPRs: 1)");
  });

  it("skips a run another replica already turned into a proposal", async () => {
    const flow = mockEvalFlow({
      openPRs: (runId) => [{ ...openPR(5), body: prBody(sampleMetadata({ weakness: "w", slug: "stalled-loop-0a1b2c3d", runsMined: [runId], trigger: { runId, attempt: 1 } })) }],
    });
    const { logs } = await deliver(flow);
    flow.gh.expectAllDone();
    expect(messages(logs)).toContain(`no proposal: run ${flow.runId} attempt 1 was already handled`);
  });
});

describe("artifacts that cannot be used", () => {
  it("skips an expired artifact with a note and mines the rest", async () => {
    const expired = { id: 5_000_001, name: "eval-retry" };
    const flow = mockEvalFlow({ extraArtifacts: [{ artifact: expired, bytes: "expired" }] });
    await deliver(flow);
    flow.gh.expectAllDone();
    const body = bodyOf(flow.gh, "POST", `${R}/pulls`).body as string;
    expect(body).toContain(`artifact \`eval-retry\` (5000001) of run ${flow.runId} has expired and was skipped`);
  });

  it("survives a zip bomb: the bomb is reported, the good artifact still makes the PR", async () => {
    const bomb = await zipBomb(16);
    expect(bomb.length).toBeLessThan(100_000);
    const flow = mockEvalFlow({ extraArtifacts: [{ artifact: { id: 5_000_002, name: "eval-bomb", size: bomb.length }, bytes: bomb }] });
    await deliver(flow);
    flow.gh.expectAllDone();
    const body = bodyOf(flow.gh, "POST", `${R}/pulls`).body as string;
    expect(body).toMatch(/artifact `eval-bomb` \(5000002\) of run \d+: [^\n]*(ratio|expands|beyond)/i);
  });

  it("skips an artifact over eval.maxArtifactBytes without downloading it", async () => {
    const flow = mockEvalFlow({
      config: `${CONFIG_YAML.replace("  artifacts: \"eval-*\"\n", "  artifacts: \"eval-*\"\n  maxArtifactBytes: 1000000\n")}`,
      extraArtifacts: [{ artifact: { id: 5_000_003, name: "eval-huge", size: 2_000_000 }, bytes: null }],
    });
    await deliver(flow);
    flow.gh.expectAllDone();
    const body = bodyOf(flow.gh, "POST", `${R}/pulls`).body as string;
    expect(body).toContain("artifact `eval-huge` (5000003) of run");
    expect(body).toContain("is 2000000 bytes, over eval.maxArtifactBytes (1000000), and was skipped");
  });
});

describe("when nothing can be proposed", () => {
  it("opens no PR when the traces hold no recurring weakness, and says so in one log line", async () => {
    const passing = await tracesZipOnly(["hello-file", "sort-lines"]);
    const flow = mockEvalFlow({ traces: passing, expectPR: false });
    const { logs } = await deliver(flow);
    flow.gh.expectAllDone();
    const lines = logs.filter((l) => l.msg.startsWith("no proposal:"));
    expect(lines).toHaveLength(1);
    expect(lines[0]!.msg).toBe("no proposal: no recurring weakness in 0 mined failures of 1 trial (minimum 2 failures over 2 tasks)");
    expect(lines[0]!.obj).toMatchObject({ runId: flow.runId });
  });

  it("stops before mining when limits.maxOpenPRs is reached", async () => {
    const flow = mockEvalFlow({
      config: `${CONFIG_YAML}limits:\n  maxOpenPRs: 2\n`,
      openPRs: [1, 2].map((n) => ({ number: n, state: "open", title: `w-${n}`, head: { ref: `selfharness/w-${n}`, sha: "d".repeat(40) }, base: { ref: "main" }, labels: [], body: "", merged_at: null })),
    });
    const { logs } = await deliver(flow);
    flow.gh.expectAllDone();
    expect(messages(logs)).toContain("no proposal: 2 proposal pull requests are open (limits.maxOpenPRs: 2)");
    expect(flow.gh.requests.some((r) => r.path.includes("/actions/"))).toBe(false);
  });

  it("does not propose again for a weakness a person ignored", async () => {
    const ignored = {
      ...pullJson({ number: 9, state: "closed", headRef: BRANCH, headSha: "e".repeat(40), labels: ["selfharness", "selfharness:ignored"] }),
      body: prBody(sampleMetadata({ weakness: WEAKNESS_ID, slug: BRANCH.slice("selfharness/".length), runsMined: [], alternatives: [] })),
    };
    const flow = mockEvalFlow({ closedPRs: [ignored], expectPR: false });
    const { logs } = await deliver(flow);
    flow.gh.expectAllDone();
    expect(messages(logs)).toContain("no proposal: every weakness is taken (ignored in #9)");
  });

  describe("with a model that answers nothing usable", () => {
    let server: Server;
    let calls = 0;
    beforeAll(async () => {
      server = createServer((req, res) => {
        calls++;
        req.resume();
        req.on("end", () => {
          res.writeHead(200, { "content-type": "application/json" });
          res.end(
            JSON.stringify({
              id: "chatcmpl-1",
              object: "chat.completion",
              created: 1_763_700_000,
              model: "example-coder-7b",
              choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content: "I would rather not change anything today." } }],
            }),
          );
        });
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      process.env.OPENAI_BASE_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
      process.env.OPENAI_API_KEY = "sk-test";
    });
    afterAll(async () => {
      delete process.env.OPENAI_BASE_URL;
      delete process.env.OPENAI_API_KEY;
      await new Promise((resolve) => server.close(resolve));
    });

    it("falls back to the playbook when propose.fallback is playbook", async () => {
      calls = 0;
      const flow = mockEvalFlow({ config: `${CONFIG_YAML}propose:\n  model: example-coder-7b\n` });
      await deliver(flow);
      flow.gh.expectAllDone();
      expect(calls).toBeGreaterThan(0);
      const body = bodyOf(flow.gh, "POST", `${R}/pulls`).body as string;
      expect(body).toContain("Written by the built-in playbook (the model `example-coder-7b` gave no usable answer)");
      expect(readState(body)?.discarded?.[0]?.reason).toMatch(/model answer unusable/);
    });

    it("opens no PR when propose.fallback is none", async () => {
      calls = 0;
      const flow = mockEvalFlow({ config: `${CONFIG_YAML}propose:\n  model: example-coder-7b\n  fallback: none\n`, expectPR: false });
      mockHarnessBlobsForFlow(flow);
      const { logs } = await deliver(flow);
      flow.gh.expectAllDone();
      expect(calls).toBeGreaterThan(0);
      const line = logs.find((l) => l.msg.startsWith("no proposal:"));
      expect(line?.msg).toMatch(/^no proposal: nothing usable was proposed for "Never writes the required output file[^"]*" \(model answer unusable: /);
    });
  });
});

/** The harness blobs of a flow's head commit (a flow stopped after mining does not mock them). */
function mockHarnessBlobsForFlow(flow: Flow): void {
  const blobs = Object.fromEntries(Object.entries(HARNESS_FILES).map(([p, content]) => [p, sha(`blob ${content}`)]));
  mockHarnessBlobs(flow.gh, blobs);
}

/** The fixture traces restricted to some tasks' trial folders. */
async function tracesZipOnly(tasks: string[]): Promise<Buffer> {
  const { default: yazl } = await import("yazl");
  const { readdirSync, statSync } = await import("node:fs");
  const { TRACES_DIR } = await import("./eval-fixtures.js");
  const out = new yazl.ZipFile();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const relative = path.relative(TRACES_DIR, full).split(path.sep).join("/");
      const trialFolder = relative.split("/")[2];
      if (trialFolder && !trialFolder.endsWith(".json") && !tasks.some((t) => trialFolder.startsWith(`${t}__`))) continue;
      if (statSync(full).isDirectory()) walk(full);
      else out.addFile(full, relative);
    }
  };
  walk(TRACES_DIR);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    out.outputStream.on("data", (c: Buffer) => chunks.push(c)).on("end", () => resolve(Buffer.concat(chunks))).on("error", reject);
    out.end();
  });
}

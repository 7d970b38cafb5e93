import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import nock from "nock";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { SelfharnessConfig } from "../../src/config/schema.js";
import { type ProposalState } from "../../src/loop/state.js";
import { readState } from "../state.js";
import { whenIdle } from "../../src/github/runtime/queue.js";
import { handleRegressionRun, regressionRunOf, type CompletedRun } from "../../src/github/handlers/regression-run.js";
import { matchRun } from "../../src/loop/judge.js";
import { stageDispatchId } from "../../src/loop/stages.js";
import { harborJob, zipFiles, type Behaviour } from "../e2e/trace-fixtures.js";
import { retryDefaults } from "../../src/github/api/retry.js";
import { verdictMarker } from "../../src/report/comments.js";
import { mockArtifactDownload, mockConfigFile, mockConfigIssueLookup, mockRunArtifacts } from "./eval-fixtures.js";
import { API, captureLog, createTestProbot, mockGitHub, mockInstallationToken, resetGitHub, workflowRunPayload, type GitHubMock } from "./helpers.js";
import {
  BRANCH,
  HEAD_SHA,
  mockDispatch,
  PR_NUMBER,
  R,
  gateConfig,
  mockRun,
  prBody,
  pullJson,
  regressionZip,
  sampleMetadata,
  testOctokit,
  bodyOf,
} from "./regression-fixtures.js";

const SLUG = "missing-output-file-3f9a2c1d";
const ID = stageDispatchId(SLUG, HEAD_SHA, 1, 0, "candidate");
const BASE_ID = stageDispatchId(SLUG, HEAD_SHA, 1, 0, "baseline");
const CANDIDATE_RUN = 5501;
const BASELINE_RUN = 5502;
const CHECK = 3301;
const ALL_TASKS = ["csv-summary", "hello-file", "json-merge", "log-rotate", "sort-lines"];
let cacheDir: string;
const zips: Record<string, Buffer> = {};

beforeAll(async () => {
  retryDefaults.baseMs = 1;
  retryDefaults.maxMs = 5;
  for (const set of ["baseline", "improved", "regressed", "invalid"] as const) zips[set] = await regressionZip(set);
});

beforeEach(() => {
  cacheDir = mkdtempSync(path.join(os.tmpdir(), "selfharness-gate-test-"));
  process.env.SELFHARNESS_CACHE_DIR = cacheDir;
});

afterEach(() => {
  resetGitHub();
  rmSync(cacheDir, { recursive: true, force: true });
  delete process.env.SELFHARNESS_CACHE_DIR;
});

/** Stage 1 of a validation of HEAD_SHA: every task on both sides, the dispatches' run ids known unless left out. */
function stage1(ids: { candidate?: number; baseline?: number } = { candidate: CANDIDATE_RUN, baseline: BASELINE_RUN }, trials = 2) {
  return {
    stage: 1,
    tasks: ALL_TASKS,
    trials,
    dispatchedAt: "2026-11-21T09:00:00Z",
    candidate: [{ selfharnessId: ID, ...(ids.candidate !== undefined ? { runId: ids.candidate } : {}) }],
    baseline: [{ selfharnessId: BASE_ID, ...(ids.baseline !== undefined ? { runId: ids.baseline } : {}) }],
  };
}

function validatingMetadata(overrides: Partial<ProposalState> = {}, stages = [stage1()]): ProposalState {
  return sampleMetadata({ validation: { headSha: HEAD_SHA, baseRef: "main", checkRunId: CHECK, budget: 18, stages }, ...overrides });
}

function completedRun(overrides: Partial<CompletedRun> = {}): CompletedRun {
  return {
    id: CANDIDATE_RUN,
    path: ".github/workflows/selfharness-regression.yml",
    name: "selfharness regression",
    head_sha: HEAD_SHA,
    head_branch: BRANCH,
    display_title: `selfharness regression ${ID}`,
    html_url: `https://github.com/octo-org/octo-repo/actions/runs/${CANDIDATE_RUN}`,
    ...overrides,
  };
}

function mockOpenPulls(gh: GitHubMock, pulls: Record<string, unknown>[]): void {
  gh.get(`${R}/pulls`).query({ state: "open", per_page: "100", sort: "created", direction: "desc" }).reply(200, pulls);
}

/** The candidate's and the baseline's artifacts, and the baseline run's status. */
function mockBothSides(gh: GitHubMock, candidate: keyof typeof zips): void {
  mockRun(gh, BASELINE_RUN, "1111111111111111111111111111111111111111");
  mockRunArtifacts(gh, CANDIDATE_RUN, [{ id: 91001, name: "traces-regression" }]);
  mockArtifactDownload(gh, 91001, zips[candidate]!);
  mockRunArtifacts(gh, BASELINE_RUN, [{ id: 91002, name: "traces-regression" }]);
  mockArtifactDownload(gh, 91002, zips.baseline!);
}

async function judge(gh: GitHubMock, run: CompletedRun, config: SelfharnessConfig = gateConfig()) {
  const octokit = testOctokit();
  const { log, logs } = captureLog();
  const repo = { owner: "octo-org", repo: "octo-repo" };
  const outcome = await handleRegressionRun({ octokit, repo, run, config, log, appLogin: async () => "selfharness[bot]" });
  return { outcome, logs };
}

describe("the regression run's completion", () => {
  it("accepts: check success with the verdict, one comment, the auto-merge label, validating label removed", async () => {
    const gh = mockGitHub();
    mockOpenPulls(gh, [pullJson({ body: prBody(validatingMetadata()), labels: ["selfharness", "selfharness:validating"] })]);
    mockBothSides(gh, "improved");
    gh.patch(`${R}/check-runs/${CHECK}`).reply(200, {});
    gh.get(`${R}/issues/${PR_NUMBER}/comments`).query({ per_page: "100" }).reply(200, []);
    gh.post(`${R}/issues/${PR_NUMBER}/comments`).reply(201, { id: 880 });
    gh.post(`${R}/issues/${PR_NUMBER}/labels`, { labels: ["selfharness:automerge"] }).reply(200, []);
    gh.delete(`${R}/issues/${PR_NUMBER}/labels/selfharness%3Avalidating`).reply(200, []);
    gh.patch(`${R}/pulls/${PR_NUMBER}`).reply(200, {});

    const { outcome } = await judge(gh, completedRun());

    gh.expectAllDone();
    expect(outcome).toMatchObject({ status: "judged", pr: PR_NUMBER });
    const check = bodyOf(gh, "PATCH", `${R}/check-runs/${CHECK}`);
    expect(check).toMatchObject({ status: "completed", conclusion: "success" });
    const output = check.output as { title: string; summary: string };
    expect(output.title).toBe("Accepted: held-in +50.0 pts, held-out +25.0 pts");
    expect(output.summary).toContain("```mermaid");
    expect(output.summary).toContain("interval");
    expect(output.summary).toContain("baseline: `main`, run in the same stages at the same time.");
    const comment = bodyOf(gh, "POST", `${R}/issues/${PR_NUMBER}/comments`).body as string;
    expect(comment.startsWith(verdictMarker(HEAD_SHA))).toBe(true);
    expect(comment).toContain("labelled `selfharness:automerge`");
    const body = bodyOf(gh, "PATCH", `${R}/pulls/${PR_NUMBER}`).body as string;
    expect(body).toContain(`### Validation\n\nAccepted: held-in +50.0 pts, held-out +25.0 pts for \`${HEAD_SHA.slice(0, 7)}\` after 1 stage`);
    expect(body).toContain("### Commands\n\n- `/selfharness help`");
    const recorded = readState(body);
    expect(recorded?.verdict).toMatchObject({ decision: "accept", headSha: HEAD_SHA });
    expect(recorded?.verdict?.reasons?.length).toBeGreaterThan(0);
  });

  it("judges with the task weights the validation recorded when it started, and says so", async () => {
    const weighted = (weights?: { neverPassed: string[]; alwaysPassed: string[] }) => {
      const metadata = validatingMetadata();
      return { ...metadata, validation: { ...metadata.validation!, ...(weights ? { weights } : {}) } };
    };
    const reasons = async (metadata: ProposalState) => {
      const gh = mockGitHub();
      mockOpenPulls(gh, [pullJson({ body: prBody(metadata), labels: ["selfharness", "selfharness:validating"] })]);
      mockBothSides(gh, "improved");
      gh.patch(`${R}/check-runs/${CHECK}`).reply(200, {});
      gh.get(`${R}/issues/${PR_NUMBER}/comments`).query({ per_page: "100" }).reply(200, []);
      gh.post(`${R}/issues/${PR_NUMBER}/comments`).reply(201, { id: 880 });
      gh.post(`${R}/issues/${PR_NUMBER}/labels`).reply(200, []);
      gh.delete(`${R}/issues/${PR_NUMBER}/labels/selfharness%3Avalidating`).reply(200, []);
      gh.patch(`${R}/pulls/${PR_NUMBER}`).reply(200, {});
      // One look: the whole verdict comes from these trials.
      const config = gateConfig();
      await judge(gh, completedRun(), { ...config, gate: { ...config.gate, rule: "statistical", sequential: { ...config.gate.sequential, enabled: false } } });
      resetGitHub();
      return readState(bodyOf(gh, "PATCH", `${R}/pulls/${PR_NUMBER}`).body as string)!.verdict!.reasons!.find((r) => r.includes("significant improvement"))!;
    };
    const plain = await reasons(weighted());
    expect(plain).toMatch(/the candidate passed (\d+) trials where [\d.]+ were expected/);
    const recorded = await reasons(weighted({ neverPassed: ["csv-summary", "json-merge", "log-rotate"], alwaysPassed: ["hello-file"] }));
    expect(recorded).toMatch(/the candidate's passes weighed \d+ \(a pass counts 3 on a task the base never passed in earlier eval runs, 1 on one it always passed, 2 otherwise\) where [\d.]+ were expected/);
    // The improved candidate passes the targeted tasks the base fails: they weigh 3, so the sum is more than the count.
    const passed = Number(/the candidate passed (\d+) trials/.exec(plain)![1]);
    expect(Number(/weighed (\d+)/.exec(recorded)![1])).toBeGreaterThan(passed);
  });

  it("rejects: check failure, the rejected label, the existing comment for this commit updated, the retry command named", async () => {
    const gh = mockGitHub();
    mockOpenPulls(gh, [pullJson({ body: prBody(validatingMetadata()), labels: ["selfharness", "selfharness:validating"] })]);
    mockBothSides(gh, "regressed");
    gh.patch(`${R}/check-runs/${CHECK}`).reply(200, {});
    gh.get(`${R}/issues/${PR_NUMBER}/comments`).query({ per_page: "100" }).reply(200, [
      { id: 870, body: "Looks promising!", user: { login: "octocat", type: "User" } },
      { id: 871, body: `${verdictMarker(HEAD_SHA)}\nearlier verdict`, user: { login: "selfharness[bot]", type: "Bot" } },
    ]);
    gh.patch(`${R}/issues/comments/871`).reply(200, { id: 871 });
    gh.post(`${R}/issues/${PR_NUMBER}/labels`, { labels: ["selfharness:rejected"] }).reply(200, []);
    gh.delete(`${R}/issues/${PR_NUMBER}/labels/selfharness%3Avalidating`).reply(200, []);
    gh.patch(`${R}/pulls/${PR_NUMBER}`).reply(200, {});

    const { outcome } = await judge(gh, completedRun());

    gh.expectAllDone();
    expect(outcome.status).toBe("judged");
    expect(bodyOf(gh, "PATCH", `${R}/check-runs/${CHECK}`)).toMatchObject({ conclusion: "failure" });
    const comment = bodyOf(gh, "PATCH", `${R}/issues/comments/871`).body as string;
    expect(comment).toContain("`/selfharness retry` tries the next candidate (1 left)");
    // hello-file went from 2/2 to 0/2: shown as a loss, too few trials to be a hard regression.
    expect(comment).toMatch(/`hello-file` \| held-in \| 2\/2 \| 0\/2 \| -100\.0 pts \| loss, not significant \(p = 0\.167\)/);
    expect(gh.requests.some((r) => r.method === "POST" && r.path.endsWith("/comments"))).toBe(false);
    expect(gh.requests.some((r) => r.method === "PATCH" && r.path === `${R}/pulls/${PR_NUMBER}` && (r.body as { state?: string }).state === "closed")).toBe(false);
  });

  it("is inconclusive on invalid trials: check neutral, the invalid trials listed, `/selfharness retry regression` offered", async () => {
    const gh = mockGitHub();
    mockOpenPulls(gh, [pullJson({ body: prBody(validatingMetadata()), labels: ["selfharness", "selfharness:validating"] })]);
    mockBothSides(gh, "invalid");
    gh.patch(`${R}/check-runs/${CHECK}`).reply(200, {});
    gh.get(`${R}/issues/${PR_NUMBER}/comments`).query({ per_page: "100" }).reply(200, []);
    gh.post(`${R}/issues/${PR_NUMBER}/comments`).reply(201, { id: 881 });
    gh.delete(`${R}/issues/${PR_NUMBER}/labels/selfharness%3Avalidating`).reply(200, []);
    gh.patch(`${R}/pulls/${PR_NUMBER}`).reply(200, {});

    const { outcome } = await judge(gh, completedRun());

    gh.expectAllDone();
    expect(outcome.status).toBe("judged");
    expect(bodyOf(gh, "PATCH", `${R}/check-runs/${CHECK}`)).toMatchObject({ conclusion: "neutral" });
    const comment = bodyOf(gh, "POST", `${R}/issues/${PR_NUMBER}/comments`).body as string;
    expect(comment).toContain("Invalid trials: `csv-summary` (candidate) × 2, `log-rotate` (candidate) × 1.");
    expect(comment).toMatch(/\| candidate \| `csv-summary` \| `5501\/[^`]*csv-summary__\w+` \| `environment` \|/);
    expect(comment).toContain("`/selfharness retry regression`");
    expect(gh.requests.some((r) => r.method === "POST" && r.path.endsWith("/labels"))).toBe(false);
  });

  it("finds a run the dispatch gave no id for by the id in its name, and records it", async () => {
    const gh = mockGitHub();
    mockOpenPulls(gh, [pullJson({ body: prBody(validatingMetadata({}, [stage1({ candidate: CANDIDATE_RUN })])), labels: ["selfharness", "selfharness:validating"] })]);
    // The baseline run was dispatched on a server without run details: found by its run name now.
    gh.get(`${R}/actions/workflows/selfharness-regression.yml/runs`)
      .query({ branch: "main", event: "workflow_dispatch", per_page: "30" })
      .reply(200, {
        total_count: 1,
        workflow_runs: [{ id: BASELINE_RUN, display_title: `selfharness regression ${BASE_ID}`, head_sha: "1".repeat(40), status: "completed", conclusion: "success", html_url: `https://github.com/octo-org/octo-repo/actions/runs/${BASELINE_RUN}`, triggering_actor: { login: "selfharness[bot]", type: "Bot" } }],
      });
    mockRunArtifacts(gh, CANDIDATE_RUN, [{ id: 91011, name: "traces-regression" }]);
    mockArtifactDownload(gh, 91011, zips.improved!);
    mockRunArtifacts(gh, BASELINE_RUN, [{ id: 91012, name: "traces-regression" }]);
    mockArtifactDownload(gh, 91012, zips.baseline!);
    gh.patch(`${R}/check-runs/${CHECK}`).reply(200, {});
    gh.get(`${R}/issues/${PR_NUMBER}/comments`).query({ per_page: "100" }).reply(200, []);
    gh.post(`${R}/issues/${PR_NUMBER}/comments`).reply(201, { id: 883 });
    gh.post(`${R}/issues/${PR_NUMBER}/labels`, { labels: ["selfharness:automerge"] }).reply(200, []);
    gh.delete(`${R}/issues/${PR_NUMBER}/labels/selfharness%3Avalidating`).reply(200, []);
    gh.patch(`${R}/pulls/${PR_NUMBER}`).reply(200, {});

    const { outcome } = await judge(gh, completedRun());

    gh.expectAllDone();
    expect(outcome.status === "judged" && outcome.verdict.decision).toBe("accept");
    const recorded = readState(bodyOf(gh, "PATCH", `${R}/pulls/${PR_NUMBER}`).body as string);
    expect(recorded?.validation?.stages[0]?.baseline).toEqual([{ selfharnessId: BASE_ID, runId: BASELINE_RUN }]);
  });

  describe("with the statistical rule, in stages", () => {
    /** A Harbor job with one trial per task, each passing or failing as given. */
    async function stageZip(outcomes: Record<string, Behaviour>, trials: number): Promise<Buffer> {
      const specs = Object.entries(outcomes).flatMap(([task, behaviour]) => Array.from({ length: trials }, (_, i) => ({ task, behaviour, attempt: i + 1 })));
      return zipFiles(harborJob(`2026-11-21__09-0${trials}-00`, specs));
    }
    const statistical = () => {
      const config = gateConfig();
      return { ...config, gate: { ...config.gate, rule: "statistical" as const } };
    };
    const BASE_STAGE_1: Record<string, Behaviour> = { "csv-summary": "no-output", "log-rotate": "no-output", "hello-file": "pass", "sort-lines": "pass", "json-merge": "no-output" };
    const CANDIDATE_STAGE_1: Record<string, Behaviour> = { ...BASE_STAGE_1, "csv-summary": "pass", "log-rotate": "pass" };

    it("dispatches the next stage the gate asks for, on both sides at once, for the tasks whose outcomes disagreed; then judges every trial pooled", async () => {
      const gh = mockGitHub();
      mockOpenPulls(gh, [pullJson({ body: prBody(validatingMetadata({}, [stage1(undefined, 1)])), labels: ["selfharness", "selfharness:validating"] })]);
      mockRun(gh, BASELINE_RUN, "1".repeat(40));
      mockRunArtifacts(gh, CANDIDATE_RUN, [{ id: 92001, name: "traces-regression" }]);
      mockArtifactDownload(gh, 92001, await stageZip(CANDIDATE_STAGE_1, 1));
      mockRunArtifacts(gh, BASELINE_RUN, [{ id: 92002, name: "traces-regression" }]);
      mockArtifactDownload(gh, 92002, await stageZip(BASE_STAGE_1, 1));
      const stage2 = { candidate: stageDispatchId(SLUG, HEAD_SHA, 2, 0, "candidate"), baseline: stageDispatchId(SLUG, HEAD_SHA, 2, 0, "baseline") };
      mockDispatch(gh, BRANCH, 5601, (inputs) => inputs.selfharness_id === stage2.candidate && inputs.tasks === "csv-summary,log-rotate" && inputs.trials === "2");
      mockDispatch(gh, "main", 5602, (inputs) => inputs.selfharness_id === stage2.baseline && inputs.tasks === "csv-summary,log-rotate" && inputs.trials === "2");
      gh.patch(`${R}/check-runs/${CHECK}`).reply(200, {});
      gh.patch(`${R}/pulls/${PR_NUMBER}`).reply(200, {});

      const first = await judge(gh, completedRun(), statistical());

      gh.expectAllDone();
      expect(first.outcome).toMatchObject({ status: "next-stage", stage: 2 });
      // Two flips cannot decide at alpha 0.03: more evidence, only where the sides disagreed.
      const check = bodyOf(gh, "PATCH", `${R}/check-runs/${CHECK}`);
      expect(check).toMatchObject({ status: "in_progress", output: { title: "Stage 2 in progress" } });
      expect((check.output as { summary: string }).summary).toContain("Stage 2: 2 tasks × 2 trials");
      expect(gh.requests.some((r) => r.path.endsWith("/labels") || r.path.endsWith("/comments"))).toBe(false);
      const state = readState(bodyOf(gh, "PATCH", `${R}/pulls/${PR_NUMBER}`).body as string)!;
      expect(state.validation?.stages.map((s) => [s.stage, s.tasks, s.trials])).toEqual([
        [1, ALL_TASKS, 1],
        [2, ["csv-summary", "log-rotate"], 2],
      ]);
      expect(state.verdict).toBeUndefined();
      resetGitHub();

      // Stage 2 completes: the same two tasks fail on the base branch and pass with the candidate again.
      const gh2 = mockGitHub();
      mockOpenPulls(gh2, [pullJson({ body: prBody(state), labels: ["selfharness", "selfharness:validating"] })]);
      mockRun(gh2, 5602, "1".repeat(40));
      // Stage 1's runs are listed again; their artifacts come from the cache.
      mockRunArtifacts(gh2, CANDIDATE_RUN, [{ id: 92001, name: "traces-regression" }]);
      mockRunArtifacts(gh2, BASELINE_RUN, [{ id: 92002, name: "traces-regression" }]);
      mockRunArtifacts(gh2, 5601, [{ id: 92101, name: "traces-regression" }]);
      mockArtifactDownload(gh2, 92101, await stageZip({ "csv-summary": "pass", "log-rotate": "pass" }, 2));
      mockRunArtifacts(gh2, 5602, [{ id: 92102, name: "traces-regression" }]);
      mockArtifactDownload(gh2, 92102, await stageZip({ "csv-summary": "no-output", "log-rotate": "no-output" }, 2));
      gh2.patch(`${R}/check-runs/${CHECK}`).reply(200, {});
      gh2.get(`${R}/issues/${PR_NUMBER}/comments`).query({ per_page: "100" }).reply(200, []);
      gh2.post(`${R}/issues/${PR_NUMBER}/comments`).reply(201, { id: 887 });
      gh2.post(`${R}/issues/${PR_NUMBER}/labels`, { labels: ["selfharness:automerge"] }).reply(200, []);
      gh2.delete(`${R}/issues/${PR_NUMBER}/labels/selfharness%3Avalidating`).reply(200, []);
      gh2.patch(`${R}/pulls/${PR_NUMBER}`).reply(200, {});

      const second = await judge(gh2, completedRun({ id: 5601, display_title: `selfharness regression ${stage2.candidate}` }), statistical());

      gh2.expectAllDone();
      if (second.outcome.status !== "judged") throw new Error(`not judged: ${JSON.stringify(second.outcome)}`);
      expect(second.outcome.verdict.decision).toBe("accept");
      // Every trial counts: stage 1's five tasks and stage 2's two, pooled by task.
      expect(second.outcome.verdict.flips.map((f) => [f.task, f.baseline, f.candidate])).toEqual([
        ["csv-summary", { passes: 0, valid: 3 }, { passes: 3, valid: 3 }],
        ["log-rotate", { passes: 0, valid: 3 }, { passes: 3, valid: 3 }],
      ]);
      expect(second.outcome.verdict.budget).toEqual({ total: 18, spent: 18 });
      expect(readState(bodyOf(gh2, "PATCH", `${R}/pulls/${PR_NUMBER}`).body as string)?.verdict).toMatchObject({ decision: "accept", headSha: HEAD_SHA });
    });
  });
});

describe("runs that do not lead to a verdict", () => {
  it("is inconclusive when a side left no readable traces, and says how to run it again", async () => {
    const gh = mockGitHub();
    mockOpenPulls(gh, [pullJson({ body: prBody(validatingMetadata()), labels: ["selfharness", "selfharness:validating"] })]);
    mockRun(gh, BASELINE_RUN, "1".repeat(40));
    mockRunArtifacts(gh, CANDIDATE_RUN, [{ id: 91021, name: "traces-regression", expired: true }]);
    mockRunArtifacts(gh, BASELINE_RUN, [{ id: 91022, name: "traces-regression" }]);
    mockArtifactDownload(gh, 91022, zips.baseline!);
    gh.patch(`${R}/check-runs/${CHECK}`).reply(200, {});
    gh.get(`${R}/issues/${PR_NUMBER}/comments`).query({ per_page: "100" }).reply(200, []);
    gh.post(`${R}/issues/${PR_NUMBER}/comments`).reply(201, { id: 884 });
    gh.delete(`${R}/issues/${PR_NUMBER}/labels/selfharness%3Avalidating`).reply(200, []);
    gh.patch(`${R}/pulls/${PR_NUMBER}`).reply(200, {});

    const { outcome } = await judge(gh, completedRun());

    gh.expectAllDone();
    expect(outcome).toMatchObject({ status: "problem", pr: PR_NUMBER });
    const check = bodyOf(gh, "PATCH", `${R}/check-runs/${CHECK}`);
    expect(check).toMatchObject({ conclusion: "neutral", output: { title: "Inconclusive: no readable traces" } });
    const comment = bodyOf(gh, "POST", `${R}/issues/${PR_NUMBER}/comments`).body as string;
    expect(comment).toContain(`The candidate side of stage 1 (run ${CANDIDATE_RUN}) left no trials of its tasks that selfharness could read.`);
    expect(comment).toContain("artifact `traces-regression` (91021) of run 5501 has expired and was skipped");
    expect(comment).toContain("`/selfharness retry regression`");
    expect(readState(bodyOf(gh, "PATCH", `${R}/pulls/${PR_NUMBER}`).body as string)?.verdict).toEqual({ decision: "inconclusive", headSha: HEAD_SHA });
  });

  it("ignores a recorded run that tested another commit than the branch head", async () => {
    const gh = mockGitHub();
    const moved = "c".repeat(40);
    mockOpenPulls(gh, [pullJson({ headSha: moved, body: prBody(validatingMetadata()) })]);

    const { outcome, logs } = await judge(gh, completedRun());

    gh.expectAllDone();
    expect(outcome).toEqual({ status: "ignored", reason: `run ${CANDIDATE_RUN} tested ${HEAD_SHA.slice(0, 7)}, but the branch head is ccccccc` });
    expect(logs.some((l) => l.msg.startsWith("regression run ignored"))).toBe(true);
  });

  it("waits for the candidate when the baseline run finishes first", async () => {
    const gh = mockGitHub();
    mockOpenPulls(gh, [pullJson({ body: prBody(validatingMetadata()) })]);
    mockRun(gh, CANDIDATE_RUN, HEAD_SHA, "in_progress");

    const { outcome } = await judge(gh, completedRun({ id: BASELINE_RUN, head_sha: "1".repeat(40), head_branch: "main", display_title: `selfharness regression ${BASE_ID}` }));

    gh.expectAllDone();
    expect(outcome).toEqual({ status: "waiting", pr: PR_NUMBER, reason: `the candidate run ${CANDIDATE_RUN} is not finished` });
  });

  it("waits for the baseline when the candidate finishes first", async () => {
    const gh = mockGitHub();
    mockOpenPulls(gh, [pullJson({ body: prBody(validatingMetadata()) })]);
    mockRun(gh, BASELINE_RUN, "1".repeat(40), "in_progress");

    const { outcome } = await judge(gh, completedRun());

    gh.expectAllDone();
    expect(outcome).toEqual({ status: "waiting", pr: PR_NUMBER, reason: `the baseline run ${BASELINE_RUN} is not finished` });
  });

  it("matches a run by its recorded id, or by the id in its name, and no run of another workflow", () => {
    const byName = { headSha: HEAD_SHA, state: validatingMetadata({}, [stage1({})]) };
    const byId = { headSha: HEAD_SHA, state: validatingMetadata() };
    const match = (run: CompletedRun, pr: typeof byId) => matchRun(regressionRunOf(run), pr, "selfharness-regression.yml");
    expect(match(completedRun({ id: 999 }), byName)).toEqual({ at: { stage: 0, side: "candidate", index: 0 } });
    expect(match(completedRun({ id: 999, display_title: `selfharness regression ${ID}0` }), byName)).toBeNull();
    expect(match(completedRun({ path: ".github/workflows/eval.yml", name: "eval" }), byName)).toBeNull();
    expect(match(completedRun({ id: BASELINE_RUN }), byId)).toEqual({ at: { stage: 0, side: "baseline", index: 0 } });
  });

  it("takes a run known only by the id in its name only when the proposal's author (the app) started it", () => {
    const pr = { headSha: HEAD_SHA, state: validatingMetadata({}, [stage1({})]), author: "selfharness[bot]" };
    const match = (actor: string) => matchRun(regressionRunOf(completedRun({ id: 999, triggering_actor: { login: actor } })), pr, "selfharness-regression.yml");
    expect(match("selfharness[bot]")).toEqual({ at: { stage: 0, side: "candidate", index: 0 } });
    // Anyone who can dispatch the workflow can give a run that name; it proves nothing.
    expect(match("mallory")).toBeNull();
    // A run the dispatch answered with its id is the app's whoever is shown as its actor.
    expect(matchRun(regressionRunOf(completedRun({ triggering_actor: { login: "mallory" } })), { ...pr, state: validatingMetadata() }, "selfharness-regression.yml")).toEqual({ at: { stage: 0, side: "candidate", index: 0 } });
  });
});

describe("the regression run webhook", () => {
  it("routes a completed regression run to the gate and enables native auto-merge pinned to the tested commit", async () => {
    const gh = mockGitHub();
    mockInstallationToken(gh);
    mockConfigFile(gh, `eval:\n  artifacts: "traces-*"\nregression:\n  trials: 2\ngate:\n  rule: paper\nlabels:\n  automerge: ready-to-merge\n  nativeAutoMerge: true\n`);
    mockConfigIssueLookup(gh);
    mockOpenPulls(gh, [pullJson({ body: prBody(validatingMetadata()), labels: ["selfharness", "selfharness:validating"] })]);
    mockBothSides(gh, "improved");
    gh.patch(`${R}/check-runs/${CHECK}`).reply(200, {});
    gh.get(`${R}/issues/${PR_NUMBER}/comments`).query({ per_page: "100" }).reply(200, []);
    gh.post(`${R}/issues/${PR_NUMBER}/comments`).reply(201, { id: 882 });
    gh.post(`${R}/issues/${PR_NUMBER}/labels`, { labels: ["ready-to-merge"] }).reply(200, []);
    gh.delete(`${R}/issues/${PR_NUMBER}/labels/selfharness%3Avalidating`).reply(200, []);
    // GraphQL has no REST description to check against: its own scope, asserted below.
    const graphql = nock(API)
      .post("/graphql", (body: { query: string; variables: { pullRequestId: string; expectedHeadOid: string } }) =>
        body.query.includes("enablePullRequestAutoMerge") && body.variables.pullRequestId === `PR_kwDOtest${PR_NUMBER}` && body.variables.expectedHeadOid === HEAD_SHA,
      )
      .reply(200, { data: { enablePullRequestAutoMerge: { pullRequest: { number: PR_NUMBER } } } });
    gh.patch(`${R}/pulls/${PR_NUMBER}`).reply(200, {});

    const { probot } = createTestProbot();
    const payload = workflowRunPayload({
      id: CANDIDATE_RUN,
      path: ".github/workflows/selfharness-regression.yml",
      name: "selfharness regression",
      headBranch: BRANCH,
      headSha: HEAD_SHA,
      displayTitle: `selfharness regression ${ID}`,
      event: "workflow_dispatch",
      conclusion: "success",
    });
    await probot.receive({ id: "gate-1", name: "workflow_run", payload } as never);
    await whenIdle();

    gh.expectAllDone();
    expect(graphql.isDone()).toBe(true);
    expect(bodyOf(gh, "PATCH", `${R}/check-runs/${CHECK}`)).toMatchObject({ conclusion: "success" });
    expect(bodyOf(gh, "POST", `${R}/issues/${PR_NUMBER}/comments`).body).toContain("auto-merge is enabled for exactly this commit");
  });
});

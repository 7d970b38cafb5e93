import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import nock from "nock";
import { ProbotOctokit } from "probot";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { validateConfig } from "../../src/config/load.js";
import type { SelfharnessConfig } from "../../src/config/schema.js";
import { collectRunTrials, downloadArtifact, runIdOf } from "../../src/github/api/artifacts.js";
import type { Octokit } from "../../src/github/types.js";
import { BLOB_HOST, OWNER, REPO, captureLog, mockGitHub, resetGitHub } from "./helpers.js";
import { TRACES_DIR, mockArtifactDownload, mockRunArtifacts, tracesZip, zipFolder } from "./eval-fixtures.js";

const repo = { owner: OWNER, repo: REPO };
const R = `/repos/${OWNER}/${REPO}`;
let dir: string;

function octokit(): Octokit {
  const Client = ProbotOctokit.defaults((o: Record<string, unknown>) => ({ ...o, retry: { enabled: false }, throttle: { enabled: false } }));
  return new Client({ auth: { token: "ghs_test" } }) as unknown as Octokit;
}

function config(overrides: Record<string, unknown> = {}): SelfharnessConfig {
  const result = validateConfig(overrides);
  if (!result.ok) throw new Error("test config invalid");
  return result.config;
}

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "selfharness-artifacts-test-"));
  process.env.SELFHARNESS_CACHE_DIR = path.join(dir, "cache");
});

afterEach(() => {
  resetGitHub();
  rmSync(dir, { recursive: true, force: true });
  delete process.env.SELFHARNESS_CACHE_DIR;
});

describe("downloadArtifact", () => {
  it("follows the redirect itself and never sends the token to the blob host", async () => {
    const gh = mockGitHub();
    gh.get(`${R}/actions/artifacts/11/zip`).reply(302, "", { Location: `${BLOB_HOST}/a/11.zip?sig=x` });
    let authorization: string | undefined = "unset";
    nock(BLOB_HOST)
      .get("/a/11.zip")
      .query(true)
      .reply(function () {
        authorization = this.req.headers.authorization as string | undefined;
        return [200, Buffer.from("PK\x03\x04payload")];
      });
    const file = path.join(dir, "a.zip");
    expect(await downloadArtifact(octokit(), repo, 11, file, 1000)).toEqual({ ok: true, bytes: 11 });
    expect(readFileSync(file, "latin1")).toBe("PK\x03\x04payload");
    expect(authorization).toBeUndefined();
    gh.expectAllDone();
  });

  it("stops a download that grows past the cap, whatever Content-Length claimed", async () => {
    const gh = mockGitHub();
    gh.get(`${R}/actions/artifacts/12/zip`).reply(302, "", { Location: `${BLOB_HOST}/a/12.zip` });
    nock(BLOB_HOST).get("/a/12.zip").reply(200, () => Buffer.alloc(5000, 1), { "Transfer-Encoding": "chunked" });
    const result = await downloadArtifact(octokit(), repo, 12, path.join(dir, "b.zip"), 1000);
    expect(result).toEqual({ ok: false, reason: "grew over eval.maxArtifactBytes (1000) while downloading and was skipped" });
    gh.expectAllDone();
  });

  it("refuses a download whose declared size is over the cap", async () => {
    const gh = mockGitHub();
    mockArtifactDownload(gh, 13, Buffer.alloc(2000, 1));
    const result = await downloadArtifact(octokit(), repo, 13, path.join(dir, "c.zip"), 1000);
    expect(result).toEqual({ ok: false, reason: "is 2000 bytes, over eval.maxArtifactBytes (1000), and was skipped" });
  });

  it("reports an expired artifact (410)", async () => {
    const gh = mockGitHub();
    mockArtifactDownload(gh, 14, "expired");
    expect(await downloadArtifact(octokit(), repo, 14, path.join(dir, "d.zip"), 1000)).toEqual({ ok: false, reason: "has expired and was skipped" });
    gh.expectAllDone();
  });
});

describe("collectRunTrials", () => {
  it("parses each artifact once, then serves it from the cache by artifact id", async () => {
    const zip = await tracesZip();
    const gh = mockGitHub();
    mockRunArtifacts(gh, 31, [{ id: 310, name: "eval-traces" }]);
    mockArtifactDownload(gh, 310, zip);
    mockRunArtifacts(gh, 31, [{ id: 310, name: "eval-traces" }]);
    const { log } = captureLog();
    const first = await collectRunTrials({ octokit: octokit(), repo, config: config(), runIds: [31], log });
    const second = await collectRunTrials({ octokit: octokit(), repo, config: config(), runIds: [31], log });
    gh.expectAllDone();
    expect(first.trials).toHaveLength(6);
    expect(first.artifacts).toEqual([{ runId: 31, artifactId: 310, name: "eval-traces", trials: 6, cached: false }]);
    expect(second.artifacts[0]!.cached).toBe(true);
    expect(second.trials).toEqual(first.trials);
    expect(first.trials.every((t) => t.id.startsWith("31/2026-11-20__09-00-00/") && runIdOf(t) === 31)).toBe(true);
    expect(readdirSync(path.join(dir, "cache"))).toEqual([expect.stringMatching(/^v2-[\w.-]+-auto-artifact-310\.jsonl$/)]);
  });

  it("reads an artifact uploaded with archive: false (not a zip) by its bytes", async () => {
    const trajectory = readFileSync(path.join(TRACES_DIR, "jobs/2026-11-20__09-00-00/csv-summary__Qm3xT7a/agent/trajectory.json"));
    const gh = mockGitHub();
    mockRunArtifacts(gh, 32, [{ id: 320, name: "trajectory.json" }]);
    mockArtifactDownload(gh, 320, trajectory);
    const { log } = captureLog();
    const result = await collectRunTrials({ octokit: octokit(), repo, config: config(), runIds: [32], log });
    gh.expectAllDone();
    expect(result.notes).toEqual([]);
    expect(result.trials).toHaveLength(1);
    expect(result.trials[0]!.steps.length).toBeGreaterThan(5);
  });

  it("notes an artifact that is not traces at all and keeps going", async () => {
    const gh = mockGitHub();
    mockRunArtifacts(gh, 33, [{ id: 330, name: "eval-binary" }, { id: 331, name: "eval-expired", expired: true }]);
    mockArtifactDownload(gh, 330, Buffer.from([0x50, 0x4b, 0x03, 0x04, 1, 2, 3]));
    const { log } = captureLog();
    const result = await collectRunTrials({ octokit: octokit(), repo, config: config({ eval: { artifacts: "eval-*" } }), runIds: [33], log });
    gh.expectAllDone();
    expect(result.trials).toEqual([]);
    expect(result.notes[0]).toMatch(/^artifact `eval-binary` \(330\) of run 33: .*zip/);
    expect(result.notes).toContain("artifact `eval-expired` (331) of run 33 has expired and was skipped");
  });
});

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const REAL = path.resolve(REPO_ROOT, "../shared/real-traces");
const realExists = existsSync(REAL);

describe.skipIf(!realExists)("real artifacts (../shared/real-traces; skipped when absent)", () => {

  it("reads a real Harbor job and a real Terminal-Bench 1 run uploaded as two artifacts of one run", async () => {
    const harbor = await zipFolder(path.join(REAL, "skillsbench-harbor-job"));
    const tb1 = await zipFolder(path.join(REAL, "tb1-leaderboard/results/terminal-bench-core@0.1.1/20250825_swe-agent-mini_claude-4-sonnet"));
    const gh = mockGitHub();
    mockRunArtifacts(gh, 34, [{ id: 340, name: "harbor-jobs", size: harbor.length }, { id: 341, name: "tb1-runs", size: tb1.length }]);
    mockArtifactDownload(gh, 340, harbor);
    mockArtifactDownload(gh, 341, tb1);
    const { log } = captureLog();
    const result = await collectRunTrials({ octokit: octokit(), repo, config: config(), runIds: [34], log });
    gh.expectAllDone();
    const harborTrials = result.trials.filter((t) => t.source.format === "harbor");
    const tb1Trials = result.trials.filter((t) => t.source.format === "tb1");
    expect(harborTrials.map((t) => [t.task, t.outcome])).toEqual([["lean4-proof", "fail"]]);
    expect(tb1Trials.length).toBeGreaterThanOrEqual(5);
    expect(tb1Trials.some((t) => t.outcome === "invalid")).toBe(true);
    expect(result.trials.every((t) => t.id.startsWith("34/") && !t.source.path.includes("selfharness-artifact-"))).toBe(true);
    expect(result.artifacts.map((a) => [a.name, a.trials > 0])).toEqual([["harbor-jobs", true], ["tb1-runs", true]]);
  });
});

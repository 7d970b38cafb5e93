import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import picomatch from "picomatch";
import type { SelfharnessConfig } from "../../config/schema.js";
import { readTrials } from "../../traces/index.js";
import type { IngestResult, Trial } from "../../traces/types.js";
import { readCachedTrials, writeCachedTrials } from "../runtime/cache.js";
import { jobSignal } from "../runtime/deadline.js";
import { harnessEntries, readCommitTree, treeHarnessVersion } from "./git-data.js";
import { expectList, withRetry } from "./retry.js";
import type { EvalRun, Log } from "../../loop/host.js";
import type { Octokit, RepoRef } from "../types.js";

export interface CollectedTrials {
  trials: Trial[];
  /** One line per artifact that was skipped or could not be read entirely. */
  notes: string[];
  artifacts: { runId: number; artifactId: number; name: string; trials: number; cached: boolean }[];
}

/**
 * The last `limit` completed runs of the eval workflow on the same branch, from the same repository
 * (never forks) and on the same harness version as `current`, newest first, `current` included.
 */
export async function recentEvalRuns(input: {
  octokit: Octokit;
  repo: RepoRef;
  workflowId: number;
  current: EvalRun;
  harnessPaths: string[];
  limit: number;
  log: Log;
}): Promise<{ runs: EvalRun[]; harnessVersion: string }> {
  const { octokit, repo, current } = input;
  const fullName = `${repo.owner}/${repo.repo}`.toLowerCase();
  const versionOf = async (sha: string) => treeHarnessVersion(harnessEntries(await readCommitTree(octokit, repo, sha), input.harnessPaths));
  const harnessVersion = await versionOf(current.headSha);
  const runs: EvalRun[] = [current];
  if (input.limit <= 1) return { runs, harnessVersion };

  const listed = await withRetry(async () => {
    const { data } = await octokit.rest.actions.listWorkflowRuns({
      ...repo,
      workflow_id: input.workflowId,
      status: "completed",
      branch: current.headBranch,
      // Runs on other harness versions are skipped, so look a little further back than the limit.
      per_page: Math.min(100, input.limit * 3),
    });
    return expectList(data.workflow_runs, `GET /repos/${repo.owner}/${repo.repo}/actions/workflows/${input.workflowId}/runs`);
  });
  for (const run of listed) {
    if (runs.length >= input.limit) break;
    if (run.id === current.id || run.head_repository?.full_name?.toLowerCase() !== fullName) continue;
    if (run.head_sha !== current.headSha && (await versionOf(run.head_sha)) !== harnessVersion) continue;
    runs.push({
      id: run.id,
      attempt: run.run_attempt ?? 1,
      headSha: run.head_sha,
      headBranch: run.head_branch ?? current.headBranch,
      url: run.html_url,
      conclusion: run.conclusion,
    });
  }
  input.log.debug({ runs: runs.map((r) => r.id), harnessVersion }, "eval runs on the same harness version");
  return { runs, harnessVersion };
}

/**
 * The trials in the trace artifacts of `runIds`. Each artifact is parsed once (then cached by id);
 * expired, oversized and unreadable artifacts become notes, never failures of the whole collection.
 * Trials are namespaced by run id, so two runs with the same job name stay apart.
 */
export async function collectRunTrials(input: {
  octokit: Octokit;
  repo: RepoRef;
  config: SelfharnessConfig;
  runIds: number[];
  log: Log;
}): Promise<CollectedTrials> {
  const { octokit, repo, config, log } = input;
  const matches = picomatch(config.eval.artifacts, { dot: true });
  const result: CollectedTrials = { trials: [], notes: [], artifacts: [] };
  for (const runId of input.runIds) {
    const artifacts = await withRetry(async () => {
      const { data } = await octokit.rest.actions.listWorkflowRunArtifacts({ ...repo, run_id: runId, per_page: 100 });
      return expectList(data.artifacts, `GET /repos/${repo.owner}/${repo.repo}/actions/runs/${runId}/artifacts`);
    });
    const matching = artifacts.filter((a) => matches(a.name));
    if (matching.length === 0) {
      const names = artifacts.slice(0, 5).map((a) => `\`${a.name}\``).join(", ");
      result.notes.push(
        `run ${runId} has no artifact matching eval.artifacts (\`${config.eval.artifacts}\`): ${artifacts.length === 0 ? "it uploaded none" : `it has ${names}${artifacts.length > 5 ? ` and ${artifacts.length - 5} more` : ""}`}`,
      );
    }
    for (const artifact of matching) {
      const label = `artifact \`${artifact.name}\` (${artifact.id}) of run ${runId}`;
      if (artifact.expired) {
        result.notes.push(`${label} has expired and was skipped`);
        continue;
      }
      if (artifact.size_in_bytes > config.eval.maxArtifactBytes) {
        result.notes.push(`${label} is ${artifact.size_in_bytes} bytes, over eval.maxArtifactBytes (${config.eval.maxArtifactBytes}), and was skipped`);
        continue;
      }
      const key = { artifactId: artifact.id, format: config.eval.format };
      let parsed = await readCachedTrials(key);
      const cached = parsed !== null;
      if (!parsed) {
        const outcome = await downloadAndRead(octokit, repo, artifact.id, artifact.name, config);
        if (!outcome.ok) {
          result.notes.push(`${label} ${outcome.reason}`);
          log.warn({ runId, artifactId: artifact.id, reason: outcome.reason }, "artifact skipped");
          continue;
        }
        parsed = outcome.result;
        await writeCachedTrials(key, parsed);
      }
      for (const error of parsed.errors.slice(0, 5)) result.notes.push(`${label}: ${error.path}: ${error.message}`);
      if (parsed.errors.length > 5) result.notes.push(`${label}: ${parsed.errors.length - 5} more unreadable entries`);
      const trials = parsed.trials.map((trial) => namespaced(trial, runId));
      result.trials.push(...trials);
      result.artifacts.push({ runId, artifactId: artifact.id, name: artifact.name, trials: trials.length, cached });
    }
  }
  return result;
}

/** The eval run a namespaced trial came from. */
export function runIdOf(trial: Pick<Trial, "run">): number | null {
  const match = /^(\d+)\//.exec(trial.run);
  return match ? Number(match[1]) : null;
}

function namespaced(trial: Trial, runId: number): Trial {
  return { ...trial, id: `${runId}/${trial.id}`, run: `${runId}/${trial.run}` };
}

type Downloaded = { ok: true; result: IngestResult } | { ok: false; reason: string };

async function downloadAndRead(octokit: Octokit, repo: RepoRef, artifactId: number, name: string, config: SelfharnessConfig): Promise<Downloaded> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "selfharness-artifact-"));
  try {
    // With `archive: false` the artifact is the uploaded file itself: its name keeps the extension
    // the readers look at; the readers tell zips from other files by their bytes.
    const file = path.join(dir, safeFileName(name));
    const downloaded = await withRetry(() => downloadArtifact(octokit, repo, artifactId, file, config.eval.maxArtifactBytes));
    if (!downloaded.ok) return downloaded;
    return { ok: true, result: withoutTempDir(await readTrials([file], { format: config.eval.format }), dir) };
  } catch (error) {
    return { ok: false, reason: `could not be downloaded: ${error instanceof Error ? error.message : String(error)}` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Streams an artifact to `file`, at most `maxBytes`. The API answers with a redirect to a short-lived
 * signed URL on another host; following it by hand keeps the token off that host and lets the size
 * be checked as bytes arrive.
 */
export async function downloadArtifact(
  octokit: Octokit,
  repo: RepoRef,
  artifactId: number,
  file: string,
  maxBytes: number,
): Promise<{ ok: true; bytes: number } | { ok: false; reason: string }> {
  let location: string | undefined;
  try {
    // Octokit returns a 3xx as a plain response when redirects are not followed.
    const response = await octokit.request("GET /repos/{owner}/{repo}/actions/artifacts/{artifact_id}/{archive_format}", {
      ...repo,
      artifact_id: artifactId,
      archive_format: "zip",
      request: { redirect: "manual" },
    });
    location = (response.headers as Record<string, string | undefined>).location;
  } catch (error) {
    if ((error as { status?: number }).status === 410) return { ok: false, reason: "has expired and was skipped" };
    throw error;
  }
  if (!location) throw new Error("GitHub gave no download location");

  // Bound to the job's deadline: a download that trickles must not hold the repository's turn forever.
  const blob = await fetch(location, { signal: jobSignal() ?? null });
  if (!blob.ok || !blob.body) throw Object.assign(new Error(`download answered ${blob.status}`), { status: blob.status });
  const declared = Number(blob.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await blob.body.cancel();
    return { ok: false, reason: `is ${declared} bytes, over eval.maxArtifactBytes (${maxBytes}), and was skipped` };
  }
  let bytes = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      callback(bytes > maxBytes ? new Error(`over eval.maxArtifactBytes (${maxBytes})`) : null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(blob.body as import("node:stream/web").ReadableStream), cap, createWriteStream(file));
  } catch (error) {
    if (bytes > maxBytes) return { ok: false, reason: `grew over eval.maxArtifactBytes (${maxBytes}) while downloading and was skipped` };
    throw error;
  }
  return { ok: true, bytes };
}

/** Paths relative to the artifact (`eval-traces!/jobs/...`): the download folder is gone after parsing. */
function withoutTempDir(result: IngestResult, dir: string): IngestResult {
  const strip = (p: string) => (p.startsWith(`${dir}${path.sep}`) ? p.slice(dir.length + 1) : p);
  return {
    trials: result.trials.map((t) => ({ ...t, source: { ...t.source, path: strip(t.source.path) } })),
    errors: result.errors.map((e) => ({ ...e, path: strip(e.path) })),
  };
}

function safeFileName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^\.+/, "");
  return cleaned.slice(0, 120) || "artifact";
}

/**
 * The loop under faults: GitHub 5xx bursts (including a 502 after the write took effect), secondary
 * rate limits with retry-after, a deleted branch, an expired artifact, connections reset mid-download,
 * an app restart between dispatch and verdict. Each test starts a fresh world and checks GitHub's
 * state: exactly one proposal, one gate check per tested commit, one verdict comment.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { readState } from "../state.js";
import { candidatesAnswer, RETRY_FIX, SYSTEM_PROMPT, TASKS_V1, World } from "./world.js";
import type { Issue } from "./fake-github.js";
import { queueLimits } from "../../src/github/runtime/queue.js";


let world: World | undefined;

afterEach(async () => {
  await world?.stop();
  world = undefined;
});

function onlyProposal(w: World): Issue {
  const pulls = w.repo.pulls();
  expect(pulls).toHaveLength(1);
  return pulls[0]!;
}

function verdictComments(w: World, pr: number) {
  return w.repo.commentsOn(pr).filter((c) => c.body.includes("selfharness:verdict"));
}

describe("GitHub faults", () => {
  it("rides out 500/502 bursts while mining and opening the PR, including a 502 after the PR was already created", async () => {
    world = await World.start();
    const { gh, repo, model } = world;
    model.enqueue(candidatesAnswer([RETRY_FIX]));
    const [latest] = (await world.failingEvalRuns()).reverse();
    gh.fault("GET /repos/{owner}/{repo}/actions/runs/{run_id}/artifacts", { status: 502 }, 2);
    gh.fault("POST /repos/{owner}/{repo}/git/trees", { status: 500 }, 2);
    gh.fault("POST /repos/{owner}/{repo}/pulls", { status: 502, afterHandling: true });
    await world.deliverRun(latest!);

    const pr = onlyProposal(world);
    expect(pr.state).toBe("open");
    expect(repo.file(pr.pull!.head, SYSTEM_PROMPT)).toContain("read the full error");
    expect(readState(pr.body)!.runsMined).toHaveLength(3);
    expect(readState(pr.body)!.validation?.stages[0]?.candidate[0]?.runId).toBe(repo.dispatches[0]!.runId);
    expect(world.gateChecks(repo.headSha(pr)).map((c) => c.status)).toEqual(["in_progress"]);
    expect(gh.pendingFaults()).toBe(0);
    expect(gh.violations).toEqual([]);
  });

  it("rides out 5xx while recording the verdict, including a 502 after the comment was posted: one comment", async () => {
    world = await World.start();
    const { gh, repo, model } = world;
    model.enqueue(candidatesAnswer([RETRY_FIX]));
    const [latest] = (await world.failingEvalRuns()).reverse();
    await world.deliverRun(latest!);
    const pr = onlyProposal(world);

    gh.fault("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", { status: 502, afterHandling: true });
    gh.fault("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}", { status: 500 }, 2);
    gh.fault("GET /repos/{owner}/{repo}/actions/runs/{run_id}/artifacts", { status: 503 });
    await world.runDispatches();
    expect(world.gateChecks(repo.headSha(pr)).map((c) => c.conclusion)).toEqual(["success"]);
    expect(verdictComments(world, pr.number)).toHaveLength(1);
    expect(pr.labels).toContain("selfharness:automerge");
    expect(gh.pendingFaults()).toBe(0);
    expect(gh.violations).toEqual([]);
  });

  it("records validation and the whole verdict despite one 5xx on each of their writes, with Octokit's own retry off", async () => {
    world = await World.start({ octokit: "plain" });
    const { gh, repo, model } = world;
    model.enqueue(candidatesAnswer([RETRY_FIX]));
    const [latest] = (await world.failingEvalRuns()).reverse();
    // Validation records the dispatched run in the PR body; the verdict is matched through it.
    gh.fault("PATCH /repos/{owner}/{repo}/pulls/{pull_number}", { status: 502 });
    await world.deliverRun(latest!);
    const pr = onlyProposal(world);
    expect(gh.pendingFaults()).toBe(0);
    expect(readState(pr.body)!.validation?.stages[0]?.candidate[0]?.runId).toBe(repo.dispatches[0]!.runId);

    gh.fault("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}", { status: 502 });
    gh.fault("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", { status: 502, afterHandling: true });
    gh.fault("POST /repos/{owner}/{repo}/issues/{issue_number}/labels", { status: 500 });
    gh.fault("DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}", { status: 503 });
    gh.fault("PATCH /repos/{owner}/{repo}/pulls/{pull_number}", { status: 502 });
    await world.runDispatches();
    expect(gh.pendingFaults()).toBe(0);
    expect(world.gateChecks(repo.headSha(pr)).map((c) => c.conclusion)).toEqual(["success"]);
    expect(verdictComments(world, pr.number)).toHaveLength(1);
    expect(pr.labels).toContain("selfharness:automerge");
    expect(pr.labels).not.toContain("selfharness:validating");
    expect(readState(pr.body)!.verdict).toMatchObject({ decision: "accept", headSha: repo.headSha(pr) });
    expect(world.app.logs.filter((l) => l.level === "error")).toEqual([]);
    expect(gh.violations).toEqual([]);
  });

  it("finishes a verdict cut short by a 502 burst when GitHub redelivers the run's completion, without a second comment", async () => {
    world = await World.start();
    const { gh, repo, model } = world;
    model.enqueue(candidatesAnswer([RETRY_FIX]));
    const [latest] = (await world.failingEvalRuns()).reverse();
    await world.deliverRun(latest!);
    const pr = onlyProposal(world);

    // Longer than any retry policy waits (Octokit's 4 tries within each of the app's 4): the verdict's
    // labels cannot be written this time.
    gh.fault("POST /repos/{owner}/{repo}/issues/{issue_number}/labels", { status: 502 }, 24);
    // The candidate's run completes first and waits; main's run (the targeted tasks) completes last and
    // brings the verdict that is cut short.
    const runs = await world.runDispatches();
    expect(runs).toEqual(repo.dispatches.map((d) => d.runId));
    expect(repo.dispatches.map((d) => d.ref)).toEqual([pr.pull!.head, "main"]);
    expect(pr.labels).not.toContain("selfharness:automerge");
    gh.clearFaults();

    await world.deliverRun(runs.at(-1)!, { delivery: "manual-redelivery" });
    expect(world.gateChecks(repo.headSha(pr)).map((c) => c.conclusion)).toEqual(["success"]);
    expect(verdictComments(world, pr.number)).toHaveLength(1);
    expect(pr.labels).toContain("selfharness:automerge");
    expect(readState(pr.body)!.verdict).toMatchObject({ decision: "accept" });
  });

  it("starts validation despite a 503 on creating the gate check run", async () => {
    world = await World.start();
    const { gh, repo, model } = world;
    model.enqueue(candidatesAnswer([RETRY_FIX]));
    const [latest] = (await world.failingEvalRuns()).reverse();
    gh.fault("POST /repos/{owner}/{repo}/check-runs", { status: 503 });
    await world.deliverRun(latest!);

    const pr = onlyProposal(world);
    expect(readState(pr.body)!.validation?.stages[0]?.candidate[0]?.runId).toBe(repo.dispatches[0]!.runId);
    expect(readState(pr.body)!.validation?.stages[0]?.baseline[0]?.runId).toBe(repo.dispatches[1]!.runId);
    await world.runDispatches();
    expect(world.gateChecks(repo.headSha(pr)).map((c) => c.conclusion)).toEqual(["success"]);
    // One run on the branch, one on main for the targeted tasks; nothing dispatched twice.
    expect(repo.dispatches.map((d) => d.ref)).toEqual([pr.pull!.head, "main"]);
  });

  it("starts one regression run and one gate check when GitHub answers 502 after starting the run and after creating the check", async () => {
    world = await World.start();
    const { gh, repo, model } = world;
    model.enqueue(candidatesAnswer([RETRY_FIX]));
    const [latest] = (await world.failingEvalRuns()).reverse();
    gh.fault("POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches", { status: 502, afterHandling: true });
    gh.fault("POST /repos/{owner}/{repo}/check-runs", { status: 502, afterHandling: true });
    await world.deliverRun(latest!);

    const pr = onlyProposal(world);
    expect(gh.pendingFaults()).toBe(0);
    // The lost answer hid a started run on the branch: found by its name, not started again.
    expect(repo.dispatches.map((d) => d.ref)).toEqual([pr.pull!.head, "main"]);
    expect(readState(pr.body)!.validation?.stages[0]?.candidate[0]?.runId).toBe(repo.dispatches[0]!.runId);
    expect(readState(pr.body)!.validation?.stages[0]?.baseline[0]?.runId).toBe(repo.dispatches[1]!.runId);
    expect(world.gateChecks(repo.headSha(pr)).map((c) => c.status)).toEqual(["in_progress"]);
    await world.runDispatches();
    expect(world.gateChecks(repo.headSha(pr)).map((c) => c.conclusion)).toEqual(["success"]);
    expect(gh.violations).toEqual([]);
  });

  it("waits out a secondary rate limit (403 with retry-after) on a write, then continues", async () => {
    world = await World.start();
    const { gh, repo, model } = world;
    model.enqueue(candidatesAnswer([RETRY_FIX]));
    const [latest] = (await world.failingEvalRuns()).reverse();
    gh.fault("POST /repos/{owner}/{repo}/git/refs", { status: 403, retryAfter: 1 });
    await world.deliverRun(latest!);

    const pr = onlyProposal(world);
    const refs = gh.requests.filter((r) => r.method === "POST" && r.route === "/repos/{owner}/{repo}/git/refs");
    expect(refs.map((r) => r.status)).toEqual([403, 201]);
    // The app waited before trying again (tests cap the wait at 200 ms instead of the second asked for).
    expect(refs[1]!.at - refs[0]!.at).toBeGreaterThanOrEqual(150);
    expect(repo.git.refs.get(`heads/${pr.pull!.head}`)).toBe(repo.headSha(pr));
    expect(world.gateChecks(repo.headSha(pr)).map((c) => c.status)).toEqual(["in_progress"]);
  });

  it("waits out a secondary rate limit on the regression dispatch instead of giving up on validation", async () => {
    world = await World.start();
    const { gh, repo, model } = world;
    model.enqueue(candidatesAnswer([RETRY_FIX]));
    const [latest] = (await world.failingEvalRuns()).reverse();
    gh.fault("POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches", { status: 403, retryAfter: 1 });
    await world.deliverRun(latest!);

    const pr = onlyProposal(world);
    const dispatches = gh.requests.filter((r) => r.route === "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches");
    // The branch's dispatch waits out the limit; main's (the targeted tasks) goes through at once.
    expect(dispatches.map((r) => r.status)).toEqual([403, 200, 200]);
    expect(repo.dispatches.map((d) => d.ref)).toEqual([pr.pull!.head, "main"]);
    expect(world.gateChecks(repo.headSha(pr)).map((c) => c.status)).toEqual(["in_progress"]);
  });

  it("reports a regression workflow missing on the branch (404) on the gate check instead of waiting forever", async () => {
    world = await World.start();
    const { gh, repo, model } = world;
    model.enqueue(candidatesAnswer([RETRY_FIX]));
    const [latest] = (await world.failingEvalRuns()).reverse();
    gh.fault("POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches", { status: 404 });
    await world.deliverRun(latest!);

    const pr = onlyProposal(world);
    const checks = world.gateChecks(repo.headSha(pr));
    expect(checks.map((c) => [c.status, c.conclusion])).toEqual([["completed", "neutral"]]);
    expect(checks[0]!.output.summary).toContain("selfharness-regression.yml");
    expect(pr.labels).not.toContain("selfharness:validating");
    expect(repo.dispatches).toEqual([]);
    // A person fixes the workflow and asks again: validation starts.
    await world.comment(pr.number, "maintainer", "/selfharness retry regression");
    expect(repo.dispatches.map((d) => d.ref)).toEqual([pr.pull!.head, "main"]);
    expect(pr.labels).toContain("selfharness:validating");
  });

  it("stops a job whose artifact download stalls at the job's deadline, and handles the repository's next run", async () => {
    world = await World.start();
    const { gh, model } = world;
    const saved = queueLimits.deadlineMs;
    queueLimits.deadlineMs = 2000;
    try {
      model.enqueue(candidatesAnswer([RETRY_FIX]));
      const [first, second, third] = await world.failingEvalRuns();
      gh.fault("BLOB", { stall: true });
      await world.deliverRun(second!);
      const failed = world.app.logs.find((l) => l.msg === "background job failed");
      expect((failed?.obj as { err?: string } | undefined)?.err).toMatch(/^workflow run .* ran past its deadline of 2 s \(SELFHARNESS_JOB_DEADLINE_SECONDS\) and was stopped$/);
      // The stalled download was cut off, not left open.
      await vi.waitFor(() => expect(gh.requests.filter((r) => r.route === "BLOB").map((r) => r.status)).toEqual([0]));
      expect(world.repo.pulls()).toEqual([]);

      await world.deliverRun(third!);
      const pr = onlyProposal(world);
      expect(readState(pr.body)!.runsMined).toEqual([third, second, first]);
    } finally {
      queueLimits.deadlineMs = saved;
    }
  });

  it("skips an expired artifact with a note and proposes from the runs that remain", async () => {
    world = await World.start();
    const { repo, model } = world;
    model.enqueue(candidatesAnswer([RETRY_FIX]));
    const runs = await world.failingEvalRuns();
    const expired = [...repo.artifacts.values()].find((a) => a.run_id === runs[0])!;
    expired.expired = true;
    await world.deliverRun(runs[2]!);

    const pr = onlyProposal(world);
    expect(pr.body).toMatch(/expired/);
    expect(pr.body).toContain(String(expired.id));
    expect(world.gh.requests.some((r) => r.path.includes(`/actions/artifacts/${expired.id}/zip`))).toBe(false);
  });

  it("retries an artifact download reset mid-body and a request reset before any answer", async () => {
    world = await World.start();
    const { gh, model } = world;
    model.enqueue(candidatesAnswer([RETRY_FIX]));
    const [latest] = (await world.failingEvalRuns()).reverse();
    gh.fault("BLOB", { reset: "mid-body" });
    gh.fault("GET /repos/{owner}/{repo}/pulls", { reset: "before-body" });
    await world.deliverRun(latest!);

    const pr = onlyProposal(world);
    const blobs = gh.requests.filter((r) => r.route === "BLOB");
    expect(blobs.map((r) => r.status)).toEqual([0, 200, 200, 200]);
    expect(pr.body).not.toMatch(/could not be downloaded/);
    expect(readState(pr.body)!.runsMined).toHaveLength(3);
  });

  it("retries a listing cut mid-body (Octokit reads it as an empty 200): the run is handled at once, no duplicate PR", async () => {
    world = await World.start();
    const { gh, repo, model } = world;
    model.enqueue(candidatesAnswer([RETRY_FIX]));
    const runs = await world.failingEvalRuns();
    await world.deliverRun(runs[2]!);
    const later = await world.evalRun(TASKS_V1);
    gh.fault("GET /repos/{owner}/{repo}/pulls", { reset: "mid-body" });
    await world.deliverRun(later.id);
    expect(gh.pendingFaults()).toBe(0);
    expect(repo.pulls()).toHaveLength(1);
    const handled = () => world!.app.logs.filter((l) => l.msg.startsWith("no proposal:") && (l.obj as { runId?: number }).runId === later.id);
    expect(handled().map((l) => l.msg)).toEqual(["no proposal: 1 proposal pull request is open (limits.maxOpenPRs: 1)"]);
    expect(world.app.logs.filter((l) => l.level === "error")).toEqual([]);

    await world.deliverRun(later.id, { delivery: "manual-redelivery" });
    expect(handled()).toHaveLength(1);
    expect(repo.pulls()).toHaveLength(1);
  });

  it("retries every list GitHub cuts mid-body while mining, proposing and judging: one PR, one verdict", async () => {
    world = await World.start();
    const { gh, repo, model } = world;
    model.enqueue(candidatesAnswer([RETRY_FIX]));
    const [latest] = (await world.failingEvalRuns()).reverse();
    for (const route of ["GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs", "GET /repos/{owner}/{repo}/actions/runs/{run_id}/artifacts", "GET /repos/{owner}/{repo}/git/blobs/{file_sha}", "GET /repos/{owner}/{repo}/pulls"]) {
      gh.fault(route, { reset: "mid-body" });
    }
    await world.deliverRun(latest!);
    const pr = onlyProposal(world);
    expect(readState(pr.body)!.runsMined).toHaveLength(3);
    expect(gh.pendingFaults()).toBe(0);

    gh.fault("GET /repos/{owner}/{repo}/pulls", { reset: "mid-body" });
    gh.fault("GET /repos/{owner}/{repo}/issues/{issue_number}/comments", { reset: "mid-body" });
    await world.runDispatches();
    expect(gh.pendingFaults()).toBe(0);
    expect(world.gateChecks(repo.headSha(pr)).map((c) => c.conclusion)).toEqual(["success"]);
    expect(verdictComments(world, pr.number)).toHaveLength(1);
    expect(world.app.logs.filter((l) => l.level === "error")).toEqual([]);
  });

  it("ignores the regression result of a branch deleted by a person, and changes nothing on the closed PR", async () => {
    world = await World.start();
    const { repo, model } = world;
    model.enqueue(candidatesAnswer([RETRY_FIX]));
    const [latest] = (await world.failingEvalRuns()).reverse();
    await world.deliverRun(latest!);
    const pr = onlyProposal(world);
    const labelsBefore = [...pr.labels];
    repo.setRef(`heads/${pr.pull!.head}`, null);
    expect(pr.state).toBe("closed");

    await world.runDispatches();
    expect(verdictComments(world, pr.number)).toEqual([]);
    expect(pr.labels).toEqual(labelsBefore);
    expect(world.gateChecks(pr.pull!.lastHeadSha).map((c) => c.status)).toEqual(["in_progress"]);
    expect(world.app.logs.filter((l) => l.level === "error")).toEqual([]);
    expect(world.gh.violations).toEqual([]);
  });
});

/** A new process: every module (in-memory dedupe, queue, caches) starts empty. */
async function restartInFreshModules(w: World): Promise<void> {
  vi.resetModules();
  const fresh = await import("../../src/github/index.js");
  const freshQueue = await import("../../src/github/runtime/queue.js");
  const freshRetry = await import("../../src/github/api/retry.js");
  Object.assign(freshRetry.retryDefaults, { baseMs: 5, maxMs: 200 });
  await w.restartApp(fresh.default, freshQueue.whenIdle);
}

describe("restart", () => {
  it("resumes from the state on GitHub: a fresh app instance judges the run the old one dispatched, and a redelivery opens no second PR", async () => {
    world = await World.start();
    const { repo, model } = world;
    model.enqueue(candidatesAnswer([RETRY_FIX]));
    const runs = await world.failingEvalRuns();
    await world.deliverRun(runs[2]!);
    const pr = onlyProposal(world);

    await restartInFreshModules(world);

    await world.deliverRun(runs[2]!, { delivery: "redelivery-of-the-first" });
    expect(repo.pulls()).toHaveLength(1);
    await world.runDispatches();
    expect(world.gateChecks(repo.headSha(pr)).map((c) => c.conclusion)).toEqual(["success"]);
    expect(pr.labels).toContain("selfharness:automerge");
    expect(verdictComments(world, pr.number)).toHaveLength(1);
  });

  it("a delivery replayed after a restart, once its proposal was merged, opens no second PR", async () => {
    world = await World.start();
    const { repo, model } = world;
    model.enqueue(candidatesAnswer([RETRY_FIX]));
    const runs = await world.failingEvalRuns();
    await world.deliverRun(runs[2]!);
    const pr = onlyProposal(world);
    await world.runDispatches();
    world.merge(pr.number);

    await restartInFreshModules(world);
    model.enqueue(candidatesAnswer([RETRY_FIX]));
    await world.deliverRun(runs[2]!, { delivery: "replayed-after-merge" });

    expect(repo.pulls()).toHaveLength(1);
    expect(world.app.logs.some((l) => l.msg === `no proposal: run ${runs[2]} attempt 1 was already handled (#${pr.number})`)).toBe(true);
  });
});

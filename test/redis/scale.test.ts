/**
 * Workers as real processes on a real Redis: one killed in the middle of a job (another finishes it),
 * the load test's 500-delivery burst shared by two workers (every distinct run handled once, never
 * two jobs of the repository at the same time), Redis lost for less and for longer than a job's lease
 * (a job handed back to the process still running it is retried when that run fails), and draining
 * on SIGTERM.
 * Assertions are about what happened, never how fast: figures are in `npm run bench -- scale`.
 */
import { describe, expect, it } from "vitest";
import type { LogLine } from "../log.js";
import { burstConfig, burstSize, DEFAULT_BURST, runBurst, type BurstOptions } from "../e2e/burst.js";
import { candidatesAnswer, CONFIG, RETRY_FIX } from "../e2e/world.js";
import { workflowRunCompleted } from "../e2e/webhooks.js";
import { runKey } from "../../src/github/runtime/dedupe.js";
import { redisSkipReason } from "./redis-server.js";
import { outcomesOf, RedisWorld, TEST_TIMINGS, type WorkerProcess } from "./redis-world.js";

if (redisSkipReason) console.warn(`skipping the Redis worker tests: ${redisSkipReason}`);

/** Jobs of one repository, as the workers logged them; sorted by start. */
function jobSpans(logs: LogLine[], repo: string): { jobId: string; startedAt: number; endedAt: number }[] {
  return logs
    .filter((l) => l.msg === "job done" && (l.obj as { repo?: string }).repo === repo)
    .map((l) => l.obj as { jobId: string; startedAt: number; endedAt: number })
    .sort((a, b) => a.startedAt - b.startedAt);
}

function overlapping(spans: { jobId: string; startedAt: number; endedAt: number }[]): string[] {
  return spans.flatMap((span, i) => (i > 0 && span.startedAt < spans[i - 1]!.endedAt ? [`${spans[i - 1]!.jobId} and ${span.jobId}`] : []));
}

async function until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** One proposal pull request, validated once (the candidate's and the baseline's regression runs), nothing failed. */
async function expectOneValidatedProposal(rw: RedisWorld): Promise<void> {
  expect(rw.world.repo.pulls()).toHaveLength(1);
  expect(rw.world.repo.dispatches).toHaveLength(2);
  expect(await rw.queue.getJobCounts("failed")).toEqual({ failed: 0 });
  expect(rw.world.gh.violations).toEqual([]);
}

/**
 * Workers with a 0.8 s lease take the third failing eval run; once one asks the model (which answers
 * after `modelDelayMs`), `beforeOutage` runs and Redis stops for 2 s: the job is still running when
 * it comes back, and its lease is gone. Answers the run and its job's id.
 */
async function outageLongerThanLease(rw: RedisWorld, workers: string[], modelDelayMs: number, beforeOutage = () => {}): Promise<{ run: number; job: string; workers: WorkerProcess[] }> {
  const { world } = rw;
  const timings = { ...TEST_TIMINGS, lockMs: 800, stalledCheckMs: 300 };
  const started = await Promise.all(workers.map((name) => rw.spawnWorker(name, { timings })));
  world.model.enqueue({ delayMs: modelDelayMs, then: candidatesAnswer([RETRY_FIX]) }, candidatesAnswer([RETRY_FIX]));
  const run = (await world.failingEvalRuns())[2]!;
  expect((await world.app.send("workflow_run", workflowRunCompleted(world.repo, run))).status).toBe(200);
  await until(() => world.model.requests.length === 1, "a worker to ask the model");
  beforeOutage();
  await rw.redis.stop();
  await new Promise((resolve) => setTimeout(resolve, 2000));
  await rw.redis.start();
  return { run, job: `workflow_run#${runKey("octo-org/agent", run, 1)}`, workers: started };
}

describe.skipIf(redisSkipReason)("worker processes on Redis", () => {
  it("finishes the job of a worker killed in the middle of it (SIGKILL), with exactly one pull request", async () => {
    const rw = await RedisWorld.start();
    try {
      const { world } = rw;
      const a = await rw.spawnWorker("a");
      // The first model call hangs: worker a is killed while it waits, after mining, before any write.
      world.model.enqueue({ delayMs: 60_000, then: candidatesAnswer([RETRY_FIX]) }, candidatesAnswer([RETRY_FIX]));
      const runs = await world.failingEvalRuns();
      const answer = await world.app.send("workflow_run", workflowRunCompleted(world.repo, runs[2]!));
      expect(answer.status).toBe(200);
      await until(() => world.model.requests.length === 1, "worker a to ask the model");
      a.child.kill("SIGKILL");
      expect(await a.exited).toBeNull();

      const b = await rw.spawnWorker("b");
      await rw.settled();
      await world.deliverPushes();
      expect(outcomesOf(a.logs, runs[2]!)).toEqual([]);
      expect(outcomesOf(b.logs, runs[2]!)).toEqual(["proposal pull request opened"]);
      expect(b.logs.some((l) => l.msg.startsWith("job stalled"))).toBe(true);
      await expectOneValidatedProposal(rw);
    } finally {
      await rw.dispose();
    }
  }, 120_000);

  it("shares the load test's 500-delivery burst between two workers: every distinct run handled once, one job of the repository at a time", async () => {
    const rw = await RedisWorld.start({ config: burstConfig(CONFIG) });
    try {
      const { world } = rw;
      const [a, b] = await Promise.all([rw.spawnWorker("a"), rw.spawnWorker("b")]);
      const result = await runBurst(world, DEFAULT_BURST, () => rw.settled(300_000));
      expect(burstSize(DEFAULT_BURST)).toBe(500);
      expect(result.answers.filter((r) => r.status !== 200).map((r) => `${r.event}: ${r.status} ${r.text}`)).toEqual([]);

      const logs = rw.allWorkerLogs();
      for (const id of result.runIds) expect(outcomesOf(logs, id), `run ${id}`).toHaveLength(1);
      // Both processes took jobs, and never two of the repository at once.
      expect(a.logs.some((l) => l.msg === "job done")).toBe(true);
      expect(b.logs.some((l) => l.msg === "job done")).toBe(true);
      const spans = jobSpans(logs, "octo-org/agent");
      expect(spans.length).toBeGreaterThanOrEqual(DEFAULT_BURST.runs);
      expect(overlapping(spans)).toEqual([]);

      const pulls = world.repo.pulls();
      expect(pulls.length).toBeGreaterThanOrEqual(1);
      expect(new Set(pulls.map((p) => p.pull!.head)).size).toBe(pulls.length);
      expect(await rw.queue.getJobCounts("failed")).toEqual({ failed: 0 });
      expect(logs.filter((l) => l.level === "error")).toEqual([]);
      expect(world.gh.violations).toEqual([]);
    } finally {
      await rw.dispose();
    }
  }, 400_000);

  it("loses Redis for less than a job's lease and gets it back: the workers reconnect, nothing is lost or done twice", async () => {
    const rw = await RedisWorld.start({ config: burstConfig(CONFIG) });
    try {
      const { world } = rw;
      // The outage is the stop, 1.5 s, the start and the reconnection backoff (up to 2 s more): the lease
      // must outlast it. One that does not is a crash to BullMQ, which hands the running job to another
      // worker (the first test covers that).
      const timings = { ...TEST_TIMINGS, lockMs: 15_000 };
      await Promise.all([rw.spawnWorker("a", { timings }), rw.spawnWorker("b", { timings })]);
      const burst: BurstOptions = { runs: 12, redeliveries: 1, duplicates: 1, otherWorkflow: 20, comments: 10, pings: 5, seed: 11 };
      const sent = runBurst(world, burst, async () => {
        // Stop Redis while jobs are queued and running; the queued ones must all still run afterwards.
        await until(() => rw.allWorkerLogs().filter((l) => l.msg === "job done").length >= 5, "a few jobs done");
        await rw.redis.stop();
        await new Promise((resolve) => setTimeout(resolve, 1500));
        await rw.redis.start();
        await rw.settled(300_000);
      });
      const result = await sent;
      expect(result.answers.filter((r) => r.status !== 200)).toEqual([]);
      const logs = rw.allWorkerLogs();
      for (const id of result.runIds) {
        const outcomes = outcomesOf(logs, id);
        expect(outcomes, `run ${id}: ${JSON.stringify(outcomes)}`).toHaveLength(1);
      }
      expect(logs.some((l) => l.msg === "Redis connection lost; reconnecting")).toBe(true);
      expect(logs.some((l) => l.msg === "Redis connection back")).toBe(true);
      // No running job lost its lease. A job fetched in the instant Redis went away may stall: the
      // fetch's answer is lost, ioredis (5.11) sends unanswered commands again on reconnecting, and
      // the second fetch takes the next job. The stalled-job check hands the first on once its lease
      // runs out, and the outcomes above show every run handled once.
      expect(logs.filter((l) => l.msg.startsWith("job lease lost"))).toEqual([]);
      expect(overlapping(jobSpans(logs, "octo-org/agent"))).toEqual([]);
      expect(await rw.queue.getJobCounts("failed")).toEqual({ failed: 0 });
      expect(world.gh.violations).toEqual([]);
    } finally {
      await rw.dispose();
    }
  }, 400_000);

  it("loses Redis for longer than a job's lease: the job is handed on while it runs, and the run still gets one pull request and one validation", async () => {
    const rw = await RedisWorld.start();
    try {
      const { world } = rw;
      // The first model call outlasts the outage.
      const { run, job } = await outageLongerThanLease(rw, ["a", "b"], 10_000);
      // Both runs of the job end: the one that lost its lease, and the one it was handed to (on the
      // other process, or on the same one, where it waits for the first and takes its outcome).
      const done = () => rw.allWorkerLogs().filter((l) => l.msg === "job done" && (l.obj as { jobId?: string }).jobId === job);
      await until(() => done().length >= 2, "both runs of the job to end");
      await rw.settled();
      await world.deliverPushes();

      const logs = rw.allWorkerLogs();
      expect(logs.some((l) => l.msg.startsWith("job lease lost"))).toBe(true);
      expect(logs.some((l) => l.msg.startsWith("job stalled"))).toBe(true);
      const opened = logs.filter((l) => l.msg === "proposal pull request opened" && (l.obj as { runId?: number }).runId === run);
      expect(opened.length).toBeGreaterThanOrEqual(1);
      await expectOneValidatedProposal(rw);
      expect(new Set(opened.map((l) => (l.obj as { pr: number }).pr))).toEqual(new Set([world.repo.pulls()[0]!.number]));
    } finally {
      await rw.dispose();
    }
  }, 120_000);

  it("loses Redis for longer than a job's lease on the only worker, whose first run of the job then fails: the job is retried and the run gets its pull request", async () => {
    const rw = await RedisWorld.start();
    try {
      const { world } = rw;
      // Once mining is done, writing the proposal fails, past Octokit's own retries.
      const { job, workers } = await outageLongerThanLease(rw, ["a"], 6_000, () => world.gh.fault("POST /repos/{owner}/{repo}/git/trees", { status: 500 }, 50));
      const a = workers[0]!;
      await until(() => a.logs.some((l) => l.msg === "job failed; retried with backoff"), "the job's failure to be recorded", 90_000);
      world.gh.clearFaults();
      await rw.settled();
      await world.deliverPushes();

      expect(a.logs.some((l) => l.msg.startsWith("job lease lost"))).toBe(true);
      expect(a.logs.filter((l) => l.msg.startsWith("job handed back while this process still runs it")).map((l) => (l.obj as { jobId: string }).jobId)).toEqual([job]);
      expect(a.logs.some((l) => l.msg === "workflow run already handled (redelivery or concurrent delivery)")).toBe(false);
      await expectOneValidatedProposal(rw);
    } finally {
      await rw.dispose();
    }
  }, 180_000);

  it("drains on SIGTERM: a running job finishes before the worker exits; past the deadline it is handed back and another worker finishes it", async () => {
    const rw = await RedisWorld.start();
    try {
      const { world } = rw;
      world.model.enqueue({ delayMs: 1500, then: candidatesAnswer([RETRY_FIX]) });
      const runs = await world.failingEvalRuns();
      const patient = await rw.spawnWorker("patient", { drainSeconds: 60 });
      await world.app.send("workflow_run", workflowRunCompleted(world.repo, runs[2]!));
      await until(() => world.model.requests.length === 1, "the worker to ask the model");
      patient.child.kill("SIGTERM");
      expect(await patient.exited).toBe(0);
      expect(outcomesOf(patient.logs, runs[2]!)).toEqual(["proposal pull request opened"]);
      expect(patient.logs.some((l) => l.msg === "drained; exiting" && (l.obj as { outcomes: string[] }).outcomes.includes("finished"))).toBe(true);

      // A worker that must stop sooner than its job ends hands the job back.
      world.model.enqueue({ delayMs: 60_000, then: candidatesAnswer([RETRY_FIX]) }, candidatesAnswer([RETRY_FIX]));
      const retried = await world.evalRun(["build-cache", "fix-linker", "hello-world"], { branch: "main" });
      world.merge(world.repo.pulls()[0]!.number);
      const hasty = await rw.spawnWorker("hasty", { drainSeconds: 1 });
      await world.app.send("workflow_run", workflowRunCompleted(world.repo, retried.id));
      await until(() => world.model.requests.length === 2, "the second worker to ask the model");
      hasty.child.kill("SIGTERM");
      expect(await hasty.exited).toBe(0);
      expect(hasty.logs.some((l) => l.msg === "drain deadline passed; job handed back to the queue")).toBe(true);
      expect(await rw.queue.getJobCounts("wait")).toEqual({ wait: 1 });

      const last = await rw.spawnWorker("last");
      await rw.settled();
      expect(outcomesOf(hasty.logs, retried.id)).toEqual([]);
      expect(outcomesOf(last.logs, retried.id)).toHaveLength(1);
      expect(await rw.queue.getJobCounts("failed")).toEqual({ failed: 0 });
    } finally {
      await rw.dispose();
    }
  }, 180_000);
});

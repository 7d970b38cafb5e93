import { afterEach, describe, expect, it } from "vitest";
import { enqueue, queueLimits, queueSize, whenIdle } from "../../src/github/runtime/queue.js";
import { Octokit } from "@octokit/rest";
import { jobDeadlineMs } from "../../src/github/runtime/deadline.js";
import { captureLog } from "./helpers.js";

const saved = { ...queueLimits };

afterEach(async () => {
  await whenIdle();
  Object.assign(queueLimits, saved);
});

/** A job that records when it starts and ends, and finishes only when released. */
function gatedJob(events: string[], name: string) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const run = async () => {
    events.push(`start ${name}`);
    await gate;
    events.push(`end ${name}`);
  };
  return { run, release };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("the background work queue", () => {
  it("runs jobs in the background, keeps going after a failing one (logged with its run id), and reports idle", async () => {
    const { log, logs } = captureLog();
    const done: string[] = [];
    enqueue({ name: "a", key: "o/r", run: async () => void done.push("a"), log });
    enqueue({ name: "boom", key: "o/r", runId: 77, run: async () => {
        throw new Error("kaput");
      }, log });
    enqueue({ name: "b", key: "o/other", run: async () => void done.push("b"), log });
    await whenIdle();
    expect(done.sort()).toEqual(["a", "b"]);
    expect(queueSize()).toEqual({ running: 0, waiting: 0, keys: 0 });
    expect(logs.find((l) => l.msg === "background job failed")?.obj).toEqual({ job: "boom", runId: 77, err: "kaput" });
  });

  it("runs one job per repository at a time, in arrival order, while other repositories proceed", async () => {
    const { log } = captureLog();
    const events: string[] = [];
    const a1 = gatedJob(events, "a1");
    const a2 = gatedJob(events, "a2");
    const b1 = gatedJob(events, "b1");
    enqueue({ name: "a1", key: "octo/a", run: a1.run, log });
    enqueue({ name: "a2", key: "octo/a", run: a2.run, log });
    enqueue({ name: "b1", key: "octo/b", run: b1.run, log });
    await tick();
    expect(events).toEqual(["start a1", "start b1"]);
    expect(queueSize()).toEqual({ running: 2, waiting: 1, keys: 2 });

    b1.release();
    await tick();
    // octo/b is done, but a2 must wait for a1 of the same repository.
    expect(events).toEqual(["start a1", "start b1", "end b1"]);
    a1.release();
    await tick();
    expect(events).toEqual(["start a1", "start b1", "end b1", "end a1", "start a2"]);
    a2.release();
    await whenIdle();
    expect(events.at(-1)).toBe("end a2");
  });

  it("keeps global concurrency small however many repositories have work", async () => {
    const { log } = captureLog();
    let running = 0;
    let most = 0;
    for (let i = 0; i < 12; i++) {
      enqueue({
        name: `job-${i}`,
        key: `octo/repo-${i}`,
        run: async () => {
          most = Math.max(most, ++running);
          await tick();
          running--;
        },
        log,
      });
    }
    await whenIdle();
    expect(most).toBe(queueLimits.concurrency);
  });

  it("keeps every job of an 80-run burst in one repository, and runs them all", async () => {
    const { log, logs } = captureLog();
    const ran: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const accepted = Array.from({ length: 80 }, (_, i) =>
      enqueue({
        name: `eval ${i}`,
        key: "octo/agent",
        runId: 1000 + i,
        run: async () => {
          await gate;
          ran.push(1000 + i);
        },
        log,
      }),
    );
    expect(accepted.every(Boolean)).toBe(true);
    expect(queueSize()).toEqual({ running: 1, waiting: 79, keys: 1 });
    release();
    await whenIdle();
    expect(ran).toEqual(Array.from({ length: 80 }, (_, i) => 1000 + i));
    expect(logs.filter((l) => l.level === "error")).toEqual([]);
  });

  it("logs a job it cannot keep as an error naming the run id, never silently", async () => {
    queueLimits.maxWaiting = 3;
    const { log, logs } = captureLog();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const accepted = Array.from({ length: 6 }, (_, i) => enqueue({ name: `eval ${i}`, key: "octo/agent", runId: 500 + i, run: () => gate, log }));
    // One runs, three wait, two do not fit.
    expect(accepted).toEqual([true, true, true, true, false, false]);
    const dropped = logs.filter((l) => l.msg === "work queue full; job dropped");
    expect(dropped.map((l) => [l.level, (l.obj as { runId?: number }).runId])).toEqual([
      ["error", 504],
      ["error", 505],
    ]);
    release();
    await whenIdle();
  });
});

describe("a job's claim on its delivery", () => {
  it("is given back when the job fails or past its deadline, and kept when it succeeds", async () => {
    const { log } = captureLog();
    queueLimits.deadlineMs = 50;
    const released: string[] = [];
    const stuck = gatedJob([], "stuck");
    enqueue({ name: "ok", key: "o/a", run: async () => undefined, release: () => released.push("ok"), log });
    enqueue({ name: "boom", key: "o/b", run: async () => Promise.reject(new Error("kaput")), release: () => released.push("boom"), log });
    enqueue({ name: "stuck", key: "o/c", run: stuck.run, release: () => released.push("stuck"), log });
    await whenIdle();
    stuck.release();
    expect(released.sort()).toEqual(["boom", "stuck"]);
  });

  it("is given back when the queue is full and the job is refused", () => {
    const { log } = captureLog();
    queueLimits.maxWaiting = 0;
    const released: string[] = [];
    expect(enqueue({ name: "refused", key: "o/r", run: async () => undefined, release: () => released.push("refused"), log })).toBe(false);
    expect(released).toEqual(["refused"]);
  });
});

describe("the job deadline", () => {
  it("fails a job held past its deadline with the reason, and starts the repository's next job", async () => {
    const { log, logs } = captureLog();
    queueLimits.deadlineMs = 50;
    const events: string[] = [];
    const stuck = gatedJob(events, "stuck");
    enqueue({ name: "stuck job", key: "o/r", runId: 9, run: stuck.run, log });
    enqueue({ name: "next", key: "o/r", run: async () => void events.push("next"), log });
    await whenIdle();
    expect(events).toEqual(["start stuck", "next"]);
    expect(logs.find((l) => l.msg === "background job failed")?.obj).toEqual({
      job: "stuck job",
      runId: 9,
      err: "stuck job ran past its deadline of 0.05 s (SELFHARNESS_JOB_DEADLINE_SECONDS) and was stopped",
    });
    stuck.release();
  });

  it("binds the event's GitHub client to the job: a request in flight at the deadline is aborted and none starts after it", async () => {
    const { log } = captureLog();
    queueLimits.deadlineMs = 50;
    const seen: string[] = [];
    const fetch = (url: string, init: { signal?: AbortSignal }) =>
      new Promise<Response>((resolve, reject) => {
        seen.push(new URL(url).pathname);
        if (seen.length === 1) return resolve(Response.json({ full_name: "o/r" }));
        init.signal?.addEventListener("abort", () => reject(Object.assign(new Error("aborted"), { name: "AbortError" })));
      });
    const quiet = { debug() {}, info() {}, warn() {}, error() {} };
    const client = new Octokit({ request: { fetch }, log: quiet });
    const outcomes: string[] = [];
    enqueue({
      name: "slow",
      key: "o/r",
      client,
      log,
      run: async () => {
        await client.request("GET /repos/{owner}/{repo}", { owner: "o", repo: "r" });
        await client.request("GET /repos/{owner}/{repo}/pulls", { owner: "o", repo: "r" }).catch((e: Error) => outcomes.push(`in flight: ${e.name}`));
        await client.request("POST /repos/{owner}/{repo}/issues", { owner: "o", repo: "r", title: "late" }).catch((e: Error) => outcomes.push(`after: ${e.message}`));
      },
    });
    await whenIdle();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen).toEqual(["/repos/o/r", "/repos/o/r/pulls"]);
    expect(outcomes).toEqual(["in flight: AbortError", "after: slow ran past its deadline of 0.05 s (SELFHARNESS_JOB_DEADLINE_SECONDS) and was stopped"]);
  });

  it("reads SELFHARNESS_JOB_DEADLINE_SECONDS, an hour by default, and names the variable when it is wrong", () => {
    expect(jobDeadlineMs({})).toBe(3_600_000);
    expect(jobDeadlineMs({ SELFHARNESS_JOB_DEADLINE_SECONDS: "90" })).toBe(90_000);
    expect(() => jobDeadlineMs({ SELFHARNESS_JOB_DEADLINE_SECONDS: "soon" })).toThrow('SELFHARNESS_JOB_DEADLINE_SECONDS must be a whole number from 1 to 86400 (got "soon")');
  });
});

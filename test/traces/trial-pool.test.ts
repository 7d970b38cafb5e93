import { spawnSync } from "node:child_process";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readTrials, streamTrials, isIngestError } from "../../src/traces/index.js";
import { closeTrialPool, LOCAL_FIRST, trialPoolStats, workerCount } from "../../src/traces/trial-pool.js";
import type { IngestResult, Trial } from "../../src/traces/types.js";
import { FIXTURE_RUN as RUN, largeRun } from "./large-run.js";
import { hasRealTraces, NO_REAL_TRACES, realTraces, repoRoot } from "./paths.js";
import { useWorkDir } from "./work-dir.js";
import { hostileTrialFiles, writeTrialFiles } from "../e2e/hostile-artifacts.js";

async function readWith(workers: number, paths: string[]): Promise<IngestResult> {
  await closeTrialPool();
  process.env.SELFHARNESS_READ_WORKERS = String(workers);
  return readTrials(paths);
}

afterEach(async () => {
  delete process.env.SELFHARNESS_READ_WORKERS;
  await closeTrialPool();
});

describe("trial folders read on worker threads", () => {
  const work = useWorkDir("selfharness-pool-");

  it("yield exactly what one thread reads, in the same order", async () => {
    const run = await largeRun(work(), 12);
    const alone = await readWith(0, [run]);
    expect(alone.trials.length).toBeGreaterThan(2 * LOCAL_FIRST);
    expect(trialPoolStats().sent).toBe(0);
    const folders = alone.trials.filter((t) => !t.source.path.endsWith("results.json")).length;
    for (const workers of [1, 2]) {
      const shared = await readWith(workers, [run]);
      expect(trialPoolStats()).toMatchObject({ workers, died: 0 });
      // Once the workers run, this thread reads none of the folders: it only takes what they send back.
      expect(trialPoolStats().sent).toBe(folders - LOCAL_FIRST);
      expect(shared).toEqual(alone);
    }
  });

  it("bound what they read as this thread does: a hostile results.json read on a worker still gives a bounded trial", async () => {
    const run = await largeRun(work(), 12);
    // The last copy of a task, read after LOCAL_FIRST: on a worker.
    const last = join(run, "serve-api", "serve-api.12-of-12.2026-02-10__09-00-00", "results.json");
    const record = JSON.parse(await readFile(last, "utf8")) as Record<string, unknown>;
    await writeFile(last, JSON.stringify({ ...record, failure_mode: "x".repeat(100_000), parser_results: { [`test_${"y".repeat(200_000)}`]: "failed" } }));
    const alone = await readWith(0, [run]);
    const shared = await readWith(1, [run]);
    expect(trialPoolStats().sent).toBeGreaterThan(0);
    expect(shared).toEqual(alone);
    const hostile = shared.trials.find((t) => t.id.endsWith("serve-api.12-of-12.2026-02-10__09-00-00"))!;
    expect(hostile.failureMode!.length).toBeLessThanOrEqual(300);
    expect(hostile.tests![0]!.name.length).toBeLessThanOrEqual(600);
  });

  it("read hostile transcripts as this thread does: floods of escapes, blanks, carriage returns and binary bytes, read on a worker", async () => {
    const run = await largeRun(work(), 12);
    // The last task's folders come after LOCAL_FIRST: all of them are read on a worker.
    const task = (await readdir(run, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort().at(-1)!;
    const trials = (await readdir(join(run, task))).sort();
    const hostile = hostileTrialFiles();
    for (const [n, files] of hostile.entries()) await writeTrialFiles(join(run, task, trials[n]!), files);
    const alone = await readWith(0, [run]);
    const shared = await readWith(1, [run]);
    const folders = alone.trials.filter((t) => !t.source.path.endsWith("results.json")).length;
    // Every folder after LOCAL_FIRST went to the worker, and it read them all: none was handed back.
    expect(trialPoolStats()).toMatchObject({ sent: folders - LOCAL_FIRST, died: 0 });
    expect(shared).toEqual(alone);
    // Each hostile folder still gives its trial, bounded.
    for (const name of trials.slice(0, hostile.length)) {
      const trial = shared.trials.find((t) => t.id.endsWith(`/${name}`))!;
      expect(trial, name).toBeDefined();
      expect(JSON.stringify(trial).length).toBeLessThan(2_000_000);
    }
  }, 120_000);

  it("never keep the process alive with a worker that got no job: three workers and two folders for them", async () => {
    // LOCAL_FIRST folders read here, two more sent to workers: the third worker never gets one.
    const run = await largeRun(work(), 6);
    const folders = (await readTrials([run])).trials.filter((t) => !t.source.path.endsWith("results.json")).length;
    expect(folders).toBe(LOCAL_FIRST + 2);
    const cli = spawnSync(process.execPath, ["--import", "tsx", join(repoRoot, "test/cli/run-cli.ts"), "ingest", "--json", run], {
      cwd: repoRoot,
      env: { ...process.env, SELFHARNESS_READ_WORKERS: "3" },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(cli.signal).toBeNull();
    expect(cli.status).toBe(0);
    expect((JSON.parse(cli.stdout) as { trials: unknown[] }).trials.length).toBeGreaterThanOrEqual(folders);
  }, 90_000);

  it("lose nothing when the workers stop in the middle of a read: their trials are read on this thread", async () => {
    const run = await largeRun(work(), 12);
    const alone = await readWith(0, [run]);
    await closeTrialPool();
    process.env.SELFHARNESS_READ_WORKERS = "2";
    const trials: Trial[] = [];
    let closing: Promise<void> | undefined;
    for await (const item of streamTrials([run])) {
      if (isIngestError(item)) continue;
      trials.push(item);
      if (trials.length === LOCAL_FIRST + 2) closing = closeTrialPool();
    }
    await closing;
    expect(trials).toEqual(alone.trials);
  });

  it("refuse a SELFHARNESS_READ_WORKERS that is not a whole number in range, on a run of any size", async () => {
    expect(workerCount({ SELFHARNESS_READ_WORKERS: "0" })).toBe(0);
    expect(workerCount({ SELFHARNESS_READ_WORKERS: " 2 " })).toBe(2);
    // Unset or blank: one per core but one, at most three.
    for (const env of [{}, { SELFHARNESS_READ_WORKERS: " " }]) expect(workerCount(env)).toBe(Math.min(3, Math.max(0, availableParallelism() - 1)));
    for (const bad of ["off", "-1", "1.5", "17", "1e3"]) expect(() => workerCount({ SELFHARNESS_READ_WORKERS: bad })).toThrow(/SELFHARNESS_READ_WORKERS must be a whole number from 0 to 16/);
    await closeTrialPool();
    process.env.SELFHARNESS_READ_WORKERS = "off";
    // The fixture run has fewer trials than LOCAL_FIRST: no worker would start, and the value is still checked.
    await expect(readTrials([RUN])).rejects.toThrow(/SELFHARNESS_READ_WORKERS must be .* not "off"/);
  });

  if (!hasRealTraces) console.warn(NO_REAL_TRACES);
  it.skipIf(!hasRealTraces)("read the real Terminal-Bench and Harbor runs as one thread does", async () => {
    for (const corpus of ["tb1-mini-swe-agent", "skillsbench-harbor"]) {
      const paths = [join(realTraces, corpus)];
      const alone = await readWith(0, paths);
      const shared = await readWith(1, paths);
      expect(shared.trials.length).toBeGreaterThan(LOCAL_FIRST);
      expect(shared).toEqual(alone);
    }
  });
});

/**
 * Artifacts built to hurt: each case is a finding of an adversarial review, and each holds the
 * reading pipeline to one budget of bytes, entries, trials and time per artifact, nested archives
 * included, with an error naming the artifact and the limit. Time bounds here are loose (an order of
 * magnitude past the measured time); the bench holds the real figures.
 */
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import yazl from "yazl";
import { readTrials, streamTrials, isIngestError } from "../../src/traces/index.js";
import { MAX_JSON_BYTES } from "../../src/traces/limits.js";
import { buildZip, type RawEntry } from "./zip-writer.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
let work: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), "selfharness-hostile-"));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

async function zipOf(files: [string, Buffer | string][], compress = true): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, data] of files) zip.addBuffer(Buffer.isBuffer(data) ? data : Buffer.from(data), name, { compress });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const harborTrial = (task: string, reward: number) =>
  JSON.stringify({ task_name: task, trial_name: `${task}__1`, verifier_result: { rewards: { reward } }, agent_result: { n_input_tokens: 10, n_output_tokens: 10 } });

async function seconds<T>(run: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const start = performance.now();
  const value = await run();
  return { value, seconds: (performance.now() - start) / 1000 };
}

describe("one budget per artifact, nested archives included", () => {
  it("counts the bytes of every nested archive against the artifact's one byte budget", async () => {
    // Each inner archive stays under the cap; together they do not. A budget that started afresh in
    // each nested archive let a 43 KB artifact write 4.2 GB.
    const padding = "x".repeat(600 * 1024);
    const inner = async (n: number) => zipOf([[`job-${n}/t${n}__1/result.json`, harborTrial(`t${n}`, 1)], [`job-${n}/t${n}__1/verifier/test-stdout.txt`, padding]]);
    const artifact = join(work, "artifact.zip");
    await writeFile(artifact, await zipOf([["a.zip", await inner(1)], ["b.zip", await inner(2)], ["c.zip", await inner(3)]]));
    const { trials, errors } = await readTrials([artifact], { zipLimits: { maxTotalBytes: 1024 * 1024 } });
    expect(errors.map((e) => e.message).join("\n")).toMatch(/the artifact expands beyond 1048576 bytes, nested archives included/);
    expect(trials.length).toBeLessThan(3);
  });

  it("counts the entries of every nested archive against the artifact's one entry budget", async () => {
    const inner = await zipOf(Array.from({ length: 40 }, (_, i) => [`f${i}.json`, "{}"] as [string, string]));
    const artifact = join(work, "artifact.zip");
    await writeFile(artifact, await zipOf([["a.zip", inner], ["b.zip", inner], ["c.zip", inner]]));
    const { errors } = await readTrials([artifact], { zipLimits: { maxEntries: 100 } });
    expect(errors.map((e) => e.message)).toContain("archive lists 40 entries, more than the 17 allowed (83 already listed by the artifact's other archives); not read");
  });

  it("refuses an archive whose entries overlap, before inflating any", async () => {
    // One megabyte of zeros deflates to about a kilobyte; three hundred names point at it.
    const entries: RawEntry[] = [{ name: "jobs/j/t__1/verifier/test-stdout.txt", data: Buffer.alloc(1024 * 1024), deflate: true }];
    for (let i = 0; i < 300; i++) entries.push({ name: `jobs/j/t__1/agent/copy-${i}.txt`, alias: 0 });
    entries.push({ name: "jobs/j/t__1/result.json", data: harborTrial("t", 1) });
    const artifact = join(work, "overlap.zip");
    const bytes = buildZip(entries);
    expect(bytes.length).toBeLessThan(64 * 1024);
    await writeFile(artifact, bytes);
    const { value: read, seconds: took } = await seconds(() => readTrials([artifact]));
    expect(read.trials).toEqual([]);
    expect(read.errors[0]).toEqual({ path: artifact, message: expect.stringMatching(/^entries .+ share bytes \(overlapping entries, the mark of a zip bomb\); not read$/) });
    expect(took).toBeLessThan(5);
  });

  it("stops at the artifact's trial budget with an error saying so (a 1 KB zipped result.json listed 333,000 trials)", async () => {
    // 333,000 entries are now past the values a JSON file may hold; 200,000 small ones are not.
    const listed = Array.from({ length: 200_000 }, (_, i) => ({ trial_name: `t${i}__x` }));
    const artifact = join(work, "job.zip");
    await writeFile(artifact, await zipOf([["job/result.json", JSON.stringify({ n_total_trials: listed.length, trial_results: listed })]]));
    const { value: read, seconds: took } = await seconds(() => readTrials([artifact]));
    expect(read.trials).toHaveLength(20_000);
    expect(read.errors).toContainEqual({ path: artifact, message: "more than 20000 trials in one artifact: the first 20000 were read, the rest not" });
    expect(took).toBeLessThan(60);
    const capped = await readTrials([artifact], { limits: { maxTrials: 50 } });
    expect(capped.trials).toHaveLength(50);
  }, 120_000);

  it("stops at the artifact's time budget, keeping what it read, with an error naming the artifact", async () => {
    const folder = join(work, "many");
    await mkdir(folder);
    for (let i = 0; i < 3000; i++) await writeFile(join(folder, `f${i}.json`), JSON.stringify({ note: i }));
    const { value: read, seconds: took } = await seconds(() => readTrials([folder], { limits: { maxSeconds: 0.05 } }));
    expect(read.errors.at(-1)).toEqual({ path: folder, message: "reading stopped after 0.05 s, the time allowed per artifact: 0 trials read, the rest not" });
    expect(took).toBeLessThan(5);
  }, 60_000);
});

describe("many files, huge documents", () => {
  it("reads an archive of 99,999 junk files quickly and says why nothing came of it", async () => {
    const artifact = join(work, "junk.zip");
    await writeFile(artifact, buildZip(Array.from({ length: 99_999 }, (_, i) => ({ name: `junk/${Math.floor(i / 1000)}/f${i}.bin`, data: `junk ${i}` }))));
    const { value: read, seconds: took } = await seconds(() => readTrials([artifact]));
    expect(read.trials).toEqual([]);
    expect(read.errors[0]).toEqual({ path: artifact, message: "none of the archive's 99999 entries is a file any reader opens (.json, .jsonl, .ndjson, .traj, .txt, .log, .zip, .eval); not read" });
    // 80 s before archives were read in place; about a second now.
    expect(took).toBeLessThan(20);
  }, 120_000);

  it("reads an archive of 99,999 junk JSON files in seconds, not minutes, and explains what it found", async () => {
    const artifact = join(work, "junk-json.zip");
    await writeFile(artifact, buildZip(Array.from({ length: 99_999 }, (_, i) => ({ name: `junk/${Math.floor(i / 1000)}/f${i}.json`, data: `{"junk": ${i}}`, deflate: true }))));
    const { value: read, seconds: took } = await seconds(() => readTrials([artifact]));
    expect(read.trials).toEqual([]);
    const explanation = read.errors.at(-1)!.message;
    expect(explanation).toMatch(/^no trials found: found 99999 files in 102 folders \(99999 \.json\)/);
    // Files are named as the archive holds them, never by where they were read from.
    expect(explanation).toContain(`declined: ${artifact}!/junk/0/f0.json: `);
    // 97 s before; about 3 s now.
    expect(took).toBeLessThan(40);
  }, 120_000);

  it("refuses a JSON file over the limit with an error naming it, instead of running out of heap", async () => {
    const file = join(work, "huge.json");
    const chunk = `"${"y".repeat(1024 * 1024 - 4)}",`;
    await writeFile(file, `[${chunk.repeat(MAX_JSON_BYTES / (1024 * 1024) + 8)}0]`);
    const { errors, trials } = await readTrials([file]);
    expect(trials).toEqual([]);
    expect(errors[0]!.path).toBe(file);
    expect(errors[0]!.message).toMatch(/^not a zip archive and not readable JSON: file is \d+ bytes, more than the 67108864 bytes read$/);
  }, 60_000);

  it("refuses a JSON file of a million tiny values, which would parse into gigabytes", async () => {
    // 30 MB of empty objects: under the size limit, over a gigabyte of heap and seconds of parsing.
    const file = join(work, "tiny-values.json");
    await writeFile(file, `[${"{},".repeat(10_000_000)}{}]`);
    const { value: read, seconds: took } = await seconds(() => readTrials([file]));
    expect(read.errors[0]!.message).toMatch(/holds more than 1000000 JSON values, more than is parsed/);
    expect(took).toBeLessThan(5);
  }, 60_000);

  it("keeps a trial bounded whatever its results.json holds (a hostile one gave one 212 MB trial)", async () => {
    const trial = join(work, "run", "task", "task.1-of-1.run");
    await mkdir(trial, { recursive: true });
    const parser = Object.fromEntries(Array.from({ length: 60_000 }, (_, i) => [`test_${i}_${"n".repeat(300)} - AssertionError: ${"m".repeat(300)}`, "failed"]));
    await writeFile(
      join(trial, "results.json"),
      JSON.stringify({ trial_name: `task.1-of-1.run${"z".repeat(2_000_000)}`, task_id: "t".repeat(2_000_000), is_resolved: false, failure_mode: "f".repeat(5_000_000), parser_results: parser }),
    );
    const { trials } = await readTrials([join(work, "run")]);
    expect(trials).toHaveLength(1);
    const size = JSON.stringify(trials[0]).length;
    expect(size).toBeLessThan(2_000_000);
    expect(trials[0]!.tests).toHaveLength(1000);
    expect(trials[0]!.failureMode!.length).toBeLessThanOrEqual(300);
    expect(trials[0]!.outcome).toBe("fail");
  }, 60_000);

  it.skipIf(spawnSync("mkfifo", ["--version"]).status !== 0)("reads past a named pipe in place of a log instead of waiting on it forever", async () => {
    const trial = join(work, "run", "task-a", "task-a.1-of-1.run");
    await mkdir(join(trial, "sessions"), { recursive: true });
    await writeFile(join(trial, "results.json"), JSON.stringify({ trial_name: "task-a.1-of-1.run", task_id: "task-a", is_resolved: false, parser_results: { test_a: "failed" } }));
    for (const name of ["sessions/agent.log", "sessions/tests.log", "commands.txt"]) expect(spawnSync("mkfifo", [join(trial, name)]).status).toBe(0);
    for (const blocking of [false, true]) {
      // A child process, so that a read that does wait is killed by its timeout instead of hanging the suite.
      const script = `const files = await import(${JSON.stringify(pathToFileURL(join(ROOT, "src/traces/files.ts")).href)}); if (${blocking}) files.readWithBlockingCalls(); const { readTrials } = await import(${JSON.stringify(pathToFileURL(join(ROOT, "src/traces/index.ts")).href)}); const read = await readTrials([${JSON.stringify(join(work, "run"))}]); console.log(JSON.stringify({ trials: read.trials.map((t) => [t.task, t.outcome]), errors: read.errors.map((e) => [e.path.slice(${JSON.stringify(trial.length + 1)}), e.message]) }));`;
      const run = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: ROOT, encoding: "utf8", timeout: 20_000 });
      expect(run.signal, run.stderr).toBeNull();
      // Each pipe is named: the trial lost its logs, and says why, in the same order however the
      // reads, made at once, happened to end.
      expect(JSON.parse(run.stdout)).toEqual({
        trials: [["task-a", "fail"]],
        errors: ["commands.txt", "sessions/tests.log", "sessions/agent.log"].map((name) => [name, "not a regular file; not read"]),
      });
    }
  });

  it("names every log it could not read: an entry refused as a zip bomb, a folder in a file's place; a missing log is no error", async () => {
    const tb1 = (n: number) => `run/task-${n}/task-${n}.1-of-1.run`;
    const results = (n: number) => JSON.stringify({ trial_name: `task-${n}.1-of-1.run`, task_id: `task-${n}`, is_resolved: false, parser_results: { test_a: "failed" } });
    // Eight megabytes of one letter deflate about a thousand times: past the ratio an entry may expand by.
    const zip = join(work, "bombs.zip");
    await writeFile(zip, await zipOf([[`${tb1(0)}/results.json`, results(0)], [`${tb1(0)}/sessions/agent.log`, "a".repeat(8 * 1024 * 1024)], [`${tb1(1)}/results.json`, results(1)]]));
    const zipped = await readTrials([zip]);
    expect(zipped.trials.map((t) => [t.task, t.outcome])).toEqual([["task-0", "fail"], ["task-1", "fail"]]);
    expect(zipped.errors).toEqual([{ path: `${zip}!/${tb1(0)}/sessions/agent.log`, message: expect.stringMatching(/^not read: .*zip bomb/) }]);
    // On the disk: a Harbor trial with a folder where its verifier's output belongs.
    const harbor = join(work, "job", "task-h__1");
    await mkdir(join(harbor, "verifier", "test-stdout.txt"), { recursive: true });
    await writeFile(join(harbor, "result.json"), harborTrial("task-h", 0));
    const onDisk = await readTrials([join(work, "job")]);
    expect(onDisk.trials.map((t) => [t.task, t.outcome])).toEqual([["task-h", "fail"]]);
    expect(onDisk.errors).toEqual([{ path: join(harbor, "verifier", "test-stdout.txt"), message: "not a regular file; not read" }]);
  });

  it("tells a trial's unreadable logs in one order, not in the order their reads ended", async () => {
    // The test log's fallback (the pane after the tests) is read only once the test log is found
    // missing, so its read ends after the agent log's, which was asked for later.
    const trial = join(work, "run", "task-o", "task-o.1-of-1.run");
    for (const name of ["commands.txt", "panes/post-test.txt", "sessions/agent.log"]) await mkdir(join(trial, name), { recursive: true });
    await writeFile(join(trial, "results.json"), JSON.stringify({ trial_name: "task-o.1-of-1.run", task_id: "task-o", is_resolved: false, parser_results: { test_a: "failed" } }));
    const read = await readTrials([join(work, "run")]);
    expect(read.trials.map((t) => t.task)).toEqual(["task-o"]);
    expect(read.errors.map((e) => e.path.slice(trial.length + 1))).toEqual(["commands.txt", "panes/post-test.txt", "sessions/agent.log"]);
  });

  it("keeps names on one line: control characters in a task, agent or model name become _", async () => {
    const trial = join(work, "run", "task", "task.1-of-1.run");
    await mkdir(trial, { recursive: true });
    await writeFile(join(trial, "results.json"), JSON.stringify({ trial_name: "task.1-of-1.run", task_id: "evil\u001b[31mRED\nline2", is_resolved: false, failure_mode: "unset\r\nforged" }));
    const { trials } = await readTrials([join(work, "run")]);
    expect(trials.map((t) => [t.task, t.failureMode])).toEqual([["evil_[31mRED_line2", "unset__forged"]]);
  });
});

describe("the event loop keeps turning while an artifact is read", () => {
  it("never holds timers for long, even for an archive read from memory", async () => {
    // A nested archive, read in place in its outer one: however its reads mix file I/O and work in
    // memory, timers and sockets keep their turns (mining's turns: test/loop/mine.test.ts).
    const inner = buildZip(Array.from({ length: 20_000 }, (_, i) => ({ name: `junk/f${i}.json`, data: `{"junk": ${i}}` })));
    const artifact = join(work, "outer.zip");
    await writeFile(artifact, await zipOf([["inner.zip", inner]]));
    // Counted turns, not the longest gap: on a loaded machine the scheduler alone can hold a timer
    // for hundreds of ms, while a loop starved by promises turns once or twice in the whole read.
    let turns = 0;
    const timer = setInterval(() => turns++, 5);
    const start = performance.now();
    try {
      let items = 0;
      for await (const item of streamTrials([artifact])) if (isIngestError(item)) items++;
      expect(items).toBeGreaterThan(0);
    } finally {
      clearInterval(timer);
    }
    const took = performance.now() - start;
    // Work is cut into stretches of 20 ms: at least one turn every 100 ms on average.
    expect(turns).toBeGreaterThanOrEqual(Math.max(5, Math.floor(took / 100)));
  }, 60_000);
});

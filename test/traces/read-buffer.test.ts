/**
 * Blocking reads of files decoded at once fill one buffer per thread (files.ts, `readBuffer`), which
 * the next read overwrites. A reader that decoded a file's bytes after another read had run, or kept
 * bytes from that buffer (a Terminal-Bench 1 test log, searched after the agent's log is read), would
 * get another file's text: this reads runs whose files differ in every trial, a few trials at once,
 * with blocking calls, and checks each trial holds its own text and equals what promise-based reads give.
 */
import { spawnSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { readTrials } from "../../src/traces/index.js";
import type { Trial } from "../../src/traces/types.js";
import { harborJob } from "../e2e/trace-fixtures.js";
import { largeRun } from "./large-run.js";
import { repoRoot } from "./paths.js";
import { useWorkDir } from "./work-dir.js";

/** Trials of the job; more than one reader keeps in flight, fewer than the trial pool reads on this thread. */
const TRIALS = 9;

/** A job whose trials' trajectories and verifier output grow from a few bytes to past 4 MiB (READ_BUFFER_KEPT), each marked with its trial. */
async function writeJob(root: string): Promise<string> {
  const files = harborJob("2026-01-05__10-00-00", Array.from({ length: TRIALS }, (_, i) => ({ task: `task-${i}`, behaviour: "retry-loop" as const })));
  for (const [path, content] of Object.entries(files)) {
    const task = /\/(task-\d+)__/.exec(path)?.[1];
    let text = String(content);
    if (task && path.endsWith("trajectory.json")) {
      const doc = JSON.parse(text) as { steps: { observation?: { results: { content: string }[] } }[] };
      const size = 40 * 4 ** Number(task.slice(5));
      for (const step of doc.steps) for (const result of step.observation?.results ?? []) result.content = `${task} ${"o".repeat(size)} ${task}\n${result.content}`;
      text = JSON.stringify(doc);
    } else if (task && path.endsWith("test-stdout.txt")) {
      text = `${`${task} log line\n`.repeat(3 ** Number(task.slice(5)))}${text}end of ${task}\n`;
    }
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return join(root, "jobs", "2026-01-05__10-00-00");
}

/**
 * A Terminal-Bench 1 run whose trial folders' logs differ in size and text: each test log ends with
 * its trial's name, and every third says mid-way that the disk was full, which only a search of the
 * whole log finds (the verdict's, after the agent's log is read too).
 */
async function writeTb1Run(root: string): Promise<{ run: string; logged: Set<string> }> {
  const run = await largeRun(root, 4);
  const read = await readTrials([run]);
  const logged = new Set<string>();
  for (const [i, trial] of read.trials.filter((t) => !t.source.path.endsWith("results.json")).entries()) {
    const dir = trial.source.path;
    logged.add(trial.id);
    await mkdir(join(dir, "sessions"), { recursive: true });
    const name = trial.id.split("/").pop()!;
    const lines = `${name} collecting tests\n`.repeat(200 * 3 ** (i % 6));
    const full = i % 3 === 0 ? `OSError: [Errno 28] No space left on device: '/tmp/${name}'\n` : "";
    await writeFile(join(dir, "sessions", "tests.log"), `${lines}${full}${lines}FAILED test_outputs.py::test_answer - AssertionError\nend of ${name}\n`);
    await writeFile(join(dir, "sessions", "agent.log"), `root@${name}:/app# ls\n${`${name} output\n`.repeat(100 * 2 ** (i % 7))}root@${name}:/app# `);
  }
  return { run, logged };
}

/** What readTrials gives in a process that reads with blocking calls, on its main thread alone. */
function readBlocking(path: string): { trials: Trial[]; errors: unknown[] } {
  const script = `const files = await import(${JSON.stringify(pathToFileURL(join(repoRoot, "src/traces/files.ts")).href)}); files.readWithBlockingCalls(); const { readTrials } = await import(${JSON.stringify(pathToFileURL(join(repoRoot, "src/traces/index.ts")).href)}); process.stdout.write(JSON.stringify(await readTrials([${JSON.stringify(path)}])));`;
  const run = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: repoRoot, encoding: "utf8", timeout: 60_000, maxBuffer: 256 * 1024 * 1024, env: { ...process.env, SELFHARNESS_READ_WORKERS: "0" } });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as { trials: Trial[]; errors: unknown[] };
}

describe("blocking reads into reused buffers", () => {
  const work = useWorkDir("selfharness-read-buffer-");

  it("give every Harbor trial its own files' text, as promise-based reads do", async () => {
    const job = await writeJob(work());
    const blocking = readBlocking(job);
    expect(blocking.errors).toEqual([]);
    expect(blocking.trials).toHaveLength(TRIALS);
    for (const trial of blocking.trials) {
      const outputs = trial.steps.flatMap((s) => (s.output ? [s.output] : []));
      expect(outputs.length).toBeGreaterThan(0);
      for (const output of outputs) expect(output.startsWith(`${trial.task} o`), trial.id).toBe(true);
      expect(trial.verifierOutput?.endsWith(`end of ${trial.task}\n`), trial.id).toBe(true);
    }
    // This thread reads with promise-based calls, each into a buffer of its own.
    expect(blocking).toEqual(JSON.parse(JSON.stringify(await readTrials([job]))));
  });

  it("give every Terminal-Bench 1 trial its own test log, searched after its agent's log is read, as promise-based reads do", async () => {
    const { run, logged } = await writeTb1Run(work());
    expect(logged.size).toBeGreaterThan(8);
    const blocking = readBlocking(run);
    const full = blocking.trials.filter((t) => t.infra?.kind === "disk-full");
    expect(full.length).toBeGreaterThan(1);
    for (const trial of full) expect(trial.infra!.detail, trial.id).toContain(`/tmp/${trial.id.split("/").pop()}'`);
    for (const trial of blocking.trials.filter((t) => logged.has(t.id))) expect(trial.verifierOutput?.endsWith(`end of ${trial.id.split("/").pop()}\n`), trial.id).toBe(true);
    expect(blocking).toEqual(JSON.parse(JSON.stringify(await readTrials([run]))));
  });
});

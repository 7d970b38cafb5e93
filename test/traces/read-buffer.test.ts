/**
 * Blocking reads fill one buffer per thread (files.ts, `readBuffer`), which the next read overwrites.
 * A reader that decoded a file's bytes after another read had run would get that other file's text:
 * this reads a job whose files differ in every trial, a few trials at once, with blocking calls, and
 * checks each trial holds its own text and equals what promise-based reads give.
 */
import { spawnSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { readTrials } from "../../src/traces/index.js";
import type { Trial } from "../../src/traces/types.js";
import { harborJob } from "../e2e/trace-fixtures.js";
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

describe("blocking reads into one reused buffer", () => {
  const work = useWorkDir("selfharness-read-buffer-");

  it("give every trial its own files' text, as promise-based reads do", async () => {
    const job = await writeJob(work());
    const script = `const files = await import(${JSON.stringify(pathToFileURL(join(repoRoot, "src/traces/files.ts")).href)}); files.readWithBlockingCalls(); const { readTrials } = await import(${JSON.stringify(pathToFileURL(join(repoRoot, "src/traces/index.ts")).href)}); process.stdout.write(JSON.stringify(await readTrials([${JSON.stringify(job)}])));`;
    const run = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: repoRoot, encoding: "utf8", timeout: 60_000, maxBuffer: 256 * 1024 * 1024, env: { ...process.env, SELFHARNESS_READ_WORKERS: "0" } });
    expect(run.status, run.stderr).toBe(0);
    const blocking = JSON.parse(run.stdout) as { trials: Trial[]; errors: unknown[] };
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
});

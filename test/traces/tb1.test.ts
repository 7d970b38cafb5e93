import { cp, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { readTrials, summarizeTrials } from "../../src/traces/index.js";
import { attemptFromTrialName, backgroundsPackageManager } from "../../src/traces/tb1.js";
import type { Trial } from "../../src/traces/types.js";
import { clipTail, VERIFIER_TAIL_LIMIT } from "../../src/traces/limits.js";
import { fixtures, hasRealTraces, NO_REAL_TRACES, realTraces } from "./paths.js";
import { useWorkDir } from "./work-dir.js";

const tb1 = resolve(fixtures, "tb1");

/** Every run-level results.json (with a results[] array and an accuracy) under `root`. */
async function runResultFiles(root: string): Promise<{ dir: string; accuracy: number; listed: number }[]> {
  const found: { dir: string; accuracy: number; listed: number }[] = [];
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name !== "results.json") continue;
    const path = join(entry.parentPath, entry.name);
    const value = JSON.parse(await readFile(path, "utf8")) as { results?: unknown[]; accuracy?: number };
    if (Array.isArray(value.results) && typeof value.accuracy === "number") found.push({ dir: dirname(path), accuracy: value.accuracy, listed: value.results.length });
  }
  return found;
}

function passRate(trials: Trial[]): number {
  return trials.filter((t) => t.outcome === "pass").length / trials.length;
}

describe("Terminal-Bench 1 run folders", () => {
  const work = useWorkDir("selfharness-tb1-");

  it("merges the run-level verdicts with trial folders, counting each trial once", async () => {
    const { trials, errors } = await readTrials([tb1]);
    expect(errors).toEqual([]);
    expect(trials.map((t) => [t.id, t.task, t.attempt, t.outcome])).toEqual([
      ["20260211_planner_coder-large/count-lines.1-of-2", "count-lines", 1, "fail"],
      ["20260211_planner_coder-large/count-lines.2-of-2", "count-lines", 2, "pass"],
      ["2026-02-10__09-00-00/count-lines.1-of-1.2026-02-10__09-00-00", "count-lines", 1, "pass"],
      ["2026-02-10__09-00-00/rotate-logs.1-of-1.2026-02-10__09-00-00", "rotate-logs", 1, "invalid"],
      ["2026-02-10__09-00-00/serve-api.1-of-1.2026-02-10__09-00-00", "serve-api", 1, "invalid"],
      ["2026-02-10__09-00-00/sort-data.1-of-1.2026-02-10__09-00-00", "sort-data", 1, "fail"],
    ]);
  });

  it("applies the infra rules: agent never ran, verifier could not bootstrap", async () => {
    const { trials } = await readTrials([tb1]);
    const byTask = new Map(trials.filter((t) => t.run === "2026-02-10__09-00-00").map((t) => [t.task, t]));
    expect(byTask.get("rotate-logs")!.infra).toEqual({ kind: "agent-install", detail: "quickcoder: command not found (agent install failed, zero tokens)" });
    expect(byTask.get("serve-api")!.infra).toEqual({ kind: "verifier", detail: "parse_error: verifier could not run: /tests/setup-uv-pytest.sh: line 18: uv: command not found" });
    expect(byTask.get("sort-data")).toMatchObject({ failureMode: "agent_timeout", steps: [], tests: [{ name: "test_sorted", status: "failed" }] });
    expect(byTask.get("count-lines")).toMatchObject({ agent: "quickcoder", model: "example/coder-small", tokens: { input: 5200, output: 400 } });
    expect(byTask.get("count-lines")!.steps.map((s) => [s.source, s.calls?.[0]?.command])).toEqual([
      ["system", "source /installed-agent/setup-env.sh"],
      ["system", "source /installed-agent/install-agent.sh && echo 'INSTALL_SUCCESS'"],
      ["agent", "quickcoder --task 'Count the lines' --yes"],
    ]);
    expect(byTask.get("count-lines")!.steps[2]!.exitCode).toBe(0);
  });

  it("keeps the tail of a long verifier log and finds its bootstrap error, whether the log is ASCII, UTF-8 or holds NULs", async () => {
    const run = join(work(), "2026-02-10__09-00-00");
    await cp(join(tb1, "results/example-bench@0.2.0/2026-02-10__09-00-00"), run, { recursive: true });
    const trialDir = join(run, "serve-api", "serve-api.1-of-1.2026-02-10__09-00-00");
    await mkdir(join(trialDir, "sessions"), { recursive: true });
    const setup = "/tests/setup-uv-pytest.sh: line 18: uv: command not found";
    const noise = Array.from({ length: 600 }, (_, i) => `Get:${i} http://deb.debian.org/debian bookworm/main amd64 package-${i} [${i} kB]`).join("\n");
    for (const extra of ["", "caf\u00e9 \u2500\u2500", "nul\u0000byte"]) {
      const log = `${setup}\n${noise}\n${extra}\nran 0 tests\n`;
      await writeFile(join(trialDir, "sessions", "tests.log"), log);
      const trial = (await readTrials([run])).trials.find((t) => t.task === "serve-api")!;
      const text = log.replaceAll("\0", "");
      expect(text.length).toBeGreaterThan(2 * VERIFIER_TAIL_LIMIT);
      expect(trial.verifierOutput).toBe(clipTail(text, VERIFIER_TAIL_LIMIT));
      expect(trial.infra).toEqual({ kind: "verifier", detail: `parse_error: verifier could not run: ${setup}` });
    }
  });

  it("reads old-shape trial results (uuid) and falls back to commands.txt for steps", async () => {
    const { trials } = await readTrials([join(tb1, "results/example-bench:0.2.0")], { format: "tb1" });
    expect(trials.map((t) => t.steps.map((s) => s.calls?.[0]?.command))).toEqual([
      ["wc -l /app/input.txt > /app/count.txt", "cat /app/count.txt"],
      ["wc -l /app/input.txt > /app/count.txt", "cat /app/count.txt"],
    ]);
    expect(trials[0]).toMatchObject({ agent: "planner", source: { format: "tb1" } });
  });

  it("reads the attempt number from the trial name", () => {
    expect(attemptFromTrialName("fix-git.3-of-5")).toBe(3);
    expect(attemptFromTrialName("hello-world.1-of-1.2025-08-07__20-46-16")).toBe(1);
    expect(attemptFromTrialName("blind-maze.hard.2-of-3.openhands")).toBe(2);
    expect(attemptFromTrialName("no-attempt")).toBe(1);
  });

  it("matches the run's own accuracy", async () => {
    for (const run of await runResultFiles(tb1)) {
      const { trials } = await readTrials([run.dir]);
      expect(trials).toHaveLength(run.listed);
      expect(passRate(trials)).toBeCloseTo(run.accuracy, 10);
    }
  });
});

const leaderboard = resolve(realTraces, "tb1-leaderboard");

describe.skipIf(!hasRealTraces)(`real Terminal-Bench 1 leaderboard runs (${hasRealTraces ? "present" : NO_REAL_TRACES})`, () => {
  it("reports every trial once: 91 trials, 14 pass, at least 11 invalid", async () => {
    const { trials, errors } = await readTrials([leaderboard]);
    expect(errors).toEqual([]);
    expect(new Set(trials.map((t) => t.id)).size).toBe(trials.length);
    const totals = summarizeTrials(trials);
    expect(totals.trials).toBe(91);
    expect(totals.pass).toBe(14);
    expect(totals.invalid).toBeGreaterThanOrEqual(11);
    for (const trial of trials.filter((t) => t.outcome === "invalid")) expect(trial.infra?.detail).toBeTruthy();
  });

  it("marks the agent-never-ran and verifier-could-not-run trials invalid with a reason", async () => {
    const { trials } = await readTrials([leaderboard]);
    const find = (id: string) => trials.find((t) => t.id === id)!;
    for (const id of ["2025-08-15__16-23-45/extract-safely.1-of-1.2025-08-15__16-23-45", "2025-08-13__19-44-27/crack-7z-hash.1-of-1.2025-08-13__19-44-27"]) {
      expect(find(id)).toMatchObject({ outcome: "invalid", infra: { kind: "agent-install", detail: "mini: command not found (agent install failed, zero tokens)" } });
    }
    // OpenHands never started (its launcher's python is missing after a failed install that still
    // printed INSTALL_SUCCESS): that, not the verifier, is why there is no verdict.
    expect(find("openhands-sonnet/cron-broken-network.1-of-1.openhands-sonnet")).toMatchObject({
      outcome: "invalid",
      failureMode: "parse_error",
      infra: { kind: "agent-install", detail: "/usr/local/bin/openhands: /app/.venv/bin/python is missing (agent install failed)" },
    });
  });

  it("keeps the timed-out hello-world trial a pass", async () => {
    const { trials } = await readTrials([leaderboard]);
    const hello = trials.find((t) => t.id === "2025-08-07__20-46-16/hello-world.1-of-1.2025-08-07__20-46-16")!;
    expect(hello).toMatchObject({ outcome: "pass", reward: 1, failureMode: "agent_timeout", tests: [{ status: "passed" }, { status: "passed" }] });
    expect(hello.infra).toBeUndefined();
  });

  it("recurring fix-git failure: every fix-git trial fails test_about_file", async () => {
    const { trials } = await readTrials([leaderboard]);
    const fixGit = trials.filter((t) => t.task === "fix-git");
    expect(fixGit).toHaveLength(9);
    for (const trial of fixGit) expect(trial.tests?.find((t) => t.name === "test_about_file")?.status).toBe("failed");
    expect(fixGit.filter((t) => t.run === "20250906_orchestrator_claude-4.1-opus").map((t) => t.attempt)).toEqual([1, 2, 3, 4, 5]);
  });

  it("splits pytest's \"name - message\" keys into the test name and its message", async () => {
    const { trials } = await readTrials([leaderboard]);
    const tests = trials.flatMap((t) => t.tests ?? []);
    expect(tests.filter((t) => / - /.test(t.name))).toEqual([]);
    expect(tests).toContainEqual({ name: "test_bucket_public_access", status: "failed", message: "AssertionError: Bucket is not public" });
  });

  it("matches the accuracy of every run-level results.json", async () => {
    const runs = await runResultFiles(leaderboard);
    expect(runs.length).toBeGreaterThan(0);
    for (const run of runs) {
      const { trials } = await readTrials([run.dir]);
      expect(trials).toHaveLength(run.listed);
      expect(passRate(trials)).toBeCloseTo(run.accuracy, 10);
    }
  });
});

describe("installed agents' own logs in Terminal-Bench 1 trials", async () => {
  const { trials, errors } = await readTrials([resolve(fixtures, "tb1-agent-logs")]);
  const byTask = new Map(trials.map((t) => [t.task, t]));

  it("reads the agent's steps from sessions/agent.log, with the instruction, the time used and why it stopped", () => {
    expect(errors).toEqual([]);
    const summary = byTask.get("sales-summary")!;
    expect(summary).toMatchObject({
      outcome: "fail",
      instruction: "Summarise /app/sales.csv into /app/summary.json with the total per region.",
      duration: { agentSeconds: 750 },
      failureMode: "agent_timeout",
      // The harness says it timed out; the agent's own log shows it submitted.
      stopReason: "submitted",
    });
    expect(summary.steps.filter((s) => s.source === "agent").map((s) => s.calls?.[0]?.command)).toEqual([
      "pip install pandas scipy",
      "echo '{\"total\": 0}' > /app/summary.json",
      "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT",
    ]);
    expect(summary.steps[1]).toMatchObject({ source: "tool", timedOut: true });
    expect(summary.tests).toContainEqual({ name: "test_totals", status: "failed", message: "AssertionError: totals do not match sales.csv" });
  });

  it("marks agents that never started invalid, and keeps an agent's own install errors its failure", () => {
    expect(byTask.get("fetch-report")).toMatchObject({ outcome: "invalid", infra: { kind: "agent-install", detail: "mini: command not found (agent install failed, zero tokens)" }, stopReason: "never started: bash: mini: command not found" });
    expect(byTask.get("fix-curl")).toMatchObject({ outcome: "invalid", infra: { kind: "agent-install", detail: "/usr/local/bin/openhands: /app/.venv/bin/python is missing (agent install failed)" } });
    expect(byTask.get("pin-numpy")).toMatchObject({ outcome: "fail", stopReason: "submitted" });
    expect(byTask.get("pin-numpy")!.infra).toBeUndefined();
  });
});

describe("a package manager left running in the background", () => {
  it("is the last part of a line ending in a single &", () => {
    expect(backgroundsPackageManager("apt-get install -y curl &")).toBe(true);
    expect(backgroundsPackageManager("cd /app; dpkg -i x.deb &  ")).toBe(true);
    expect(backgroundsPackageManager("apt-get update && apt-get install -y curl")).toBe(false);
    expect(backgroundsPackageManager("apt-get install -y curl &&")).toBe(false);
    expect(backgroundsPackageManager("apt-get install x; python serve.py &")).toBe(false);
    expect(backgroundsPackageManager("sleep 1 &")).toBe(false);
  });

  it("reads a hostile line in linear time", () => {
    const start = performance.now();
    for (let i = 0; i < 100; i++) backgroundsPackageManager(`${"apt ".repeat(25_000)}x &`);
    backgroundsPackageManager(`${"apt ".repeat(250_000)}`);
    expect(performance.now() - start).toBeLessThan(5_000);
  });
});

import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli.js";
import { memoryIo } from "../../src/cli/io.js";
import type { Verdict } from "../../src/gate/types.js";

const fixtures = resolve(fileURLToPath(new URL("../../fixtures/gate", import.meta.url)));
const at = (name: string) => join(fixtures, name);

async function gate(...args: string[]) {
  const io = memoryIo();
  const code = await main(["node", "selfharness", "gate", ...args], io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

type Outcome = "pass" | "fail" | "invalid";

/** A Harbor job folder (trial result.json files, as Harbor writes them) with one trial per entry. */
async function harborJob(root: string, job: string, trials: [task: string, outcome: Outcome][]): Promise<string> {
  const dir = join(root, job);
  for (const [i, [task, outcome]] of trials.entries()) {
    const name = `${task}__${job}${i}`;
    await mkdir(join(dir, name), { recursive: true });
    const result =
      outcome === "invalid"
        ? { task_name: task, trial_name: name, verifier_result: null, exception_info: { exception_type: "EnvironmentStartTimeoutError", exception_message: "Docker container did not become healthy within 600 seconds" } }
        : { task_name: task, trial_name: name, verifier_result: { rewards: { reward: outcome === "pass" ? 1 : 0 } }, exception_info: null };
    await writeFile(join(dir, name, "result.json"), JSON.stringify(result));
  }
  return dir;
}

const TASKS = Array.from({ length: 12 }, (_, i) => `task-${String(i).padStart(2, "0")}`);

/** Stage 1 of a staged validation: the candidate gains five tasks and loses one; task-10 gave no verdict on the candidate side. */
async function stageOne(root: string) {
  const baseline = await harborJob(root, "base-1", TASKS.map((t, i) => [t, i < 4 ? "pass" : "fail"]));
  const candidate = await harborJob(root, "cand-1", TASKS.map((t, i) => [t, i === 3 ? "fail" : i < 9 ? "pass" : i === 10 ? "invalid" : "fail"]));
  return { baseline, candidate };
}

describe("selfharness gate", () => {
  it("accepts a clear improvement over all tasks and exits 0", async () => {
    const { code, stdout, stderr } = await gate("--baseline", at("baseline"), "--candidate", at("improved"), "--targeted", "fix-permissions,compress-logs");
    expect(stderr).toBe("");
    expect(code).toBe(0);
    // Two baseline runs of the same ten tasks count as three trials per task.
    expect(stdout).toContain("baseline: 30 trials of 10 tasks in 2 runs");
    expect(stdout).toContain("candidate: 31 trials of 10 tasks in 1 run, 1 invalid");
    expect(stdout).toContain("decision: accept (rule statistical, staged, alpha 0.03");
    expect(stdout).toMatch(/all tasks\s+10\s+36\.7%\s+80\.0%\s+\+43\.3 pts/);
    expect(stdout).toContain("significant improvement: all 10 tasks Δ +43.3 pts: the candidate passed 24 trials where 17.5 were expected under no difference, p < 0.001");
    expect(stdout).toMatch(/candidate\s+dedupe-records\s+job-improved\/dedupe-records__\w+\s+environment/);
  });

  it("weighs tasks by the base's earlier runs given with --history, as the app does", async () => {
    const root = await mkdtemp(join(tmpdir(), "selfharness-gate-history-"));
    const { baseline, candidate } = await stageOne(root);
    // The eval runs before: the base passed task-00..03 every time and never the others.
    const history = [await harborJob(root, "eval-1", TASKS.map((t, i) => [t, i < 4 ? "pass" : "fail"])), await harborJob(root, "eval-2", TASKS.map((t, i) => [t, i < 4 ? "pass" : "fail"]))];
    const verdictOf = async (...extra: string[]) => {
      const { code, stdout } = await gate("--baseline", baseline, "--candidate", candidate, "--fixed", "--json", ...extra);
      expect(code).not.toBe(2);
      return JSON.parse(stdout) as Verdict;
    };
    const plain = await verdictOf();
    const weighted = await verdictOf("--history", ...history);
    expect(plain.weighted).toBe(false);
    expect(weighted.weighted).toBe(true);
    // The gains fall on tasks the base never passed (weight 3), the loss on one it always passed (weight 1).
    expect(weighted.looks[0]!.nominalP).toBeLessThan(plain.looks[0]!.nominalP);
    expect(weighted.reasons.find((r) => r.includes("improvement"))).toMatch(/the candidate's passes weighed \d+ \(a pass counts 3 on a task the base never passed in earlier eval runs/);
    const text = await gate("--baseline", baseline, "--candidate", candidate, "--history", join(root, "no-such-run"));
    expect(text.code).toBe(2);
    expect(text.stderr).toContain("no trials could be read from the history runs");
  });

  it("shows the paper rule accepting noise that the statistical rule does not, which leaves it to a person (exit 4)", async () => {
    const paper = await gate("--baseline", at("baseline"), "--candidate", at("noise"), "--rule", "paper");
    const statistical = await gate("--baseline", at("baseline"), "--candidate", at("noise"));
    expect(paper.code).toBe(0);
    expect(paper.stdout).toContain("decision: accept (rule paper");
    expect(statistical.code).toBe(4);
    expect(statistical.stdout).toContain("decision: needs-more-evidence (rule statistical");
    expect(statistical.stdout).toMatch(/all tasks\s+10\s+36\.7%\s+40\.0%\s+\+3\.3 pts/);
    expect(statistical.stdout).toContain("The budget is spent without a decision: a person decides");
  });

  it("is inconclusive (exit 3) when a targeted task has no valid trial and no stage is left to re-run it", async () => {
    const { code, stdout } = await gate("--baseline", at("baseline"), "--candidate", at("targeted-invalid"), "--targeted", at("targeted.txt"));
    expect(code).toBe(3);
    expect(stdout).toContain("decision: inconclusive");
    expect(stdout).toContain("targeted task compress-logs (no valid trial on the candidate side) cannot be compared");
    expect(stdout).toContain("invalid trials (excluded from every pass fraction): 5");
  });

  it("asks for the next stage (exit 4), naming its tasks and trials, then judges both stages together", async () => {
    const root = await mkdtemp(join(tmpdir(), "selfharness-gate-"));
    const one = await stageOne(root);
    const first = await gate("--baseline", one.baseline, "--candidate", one.candidate);
    expect(first.code).toBe(4);
    expect(first.stdout).toContain("decision: needs-more-evidence");
    expect(first.stdout).toContain("spent 24 task-trials (both sides) of a budget of 42, 1 look");
    // The six tasks whose outcomes disagreed and the one without a valid candidate trial; the budget allows one trial each.
    expect(first.stdout).toContain("Stage 2 runs 7 tasks × 1 trial on each side (14 task-trials).");
    expect(first.stdout).toContain("  tasks: task-03, task-04, task-05, task-06, task-07, task-08, task-10");

    const twoBase = await harborJob(root, "base-2", ["task-03", "task-04", "task-05", "task-06", "task-07", "task-08", "task-10"].map((t) => [t, "fail"]));
    const twoCand = await harborJob(root, "cand-2", ["task-03", "task-04", "task-05", "task-06", "task-07", "task-08", "task-10"].map((t) => [t, "pass"]));
    const second = await gate("--baseline", one.baseline, `2=${twoBase}`, "--candidate", one.candidate, `2=${twoCand}`, "--json");
    const verdict = JSON.parse(second.stdout) as Verdict;
    expect(verdict.looks).toHaveLength(2);
    expect(verdict.budget).toEqual({ total: 42, spent: 38 });
    expect(verdict.decision).toBe("accept");
    expect(second.code).toBe(0);
    expect(verdict.flips.find((f) => f.task === "task-10")).toMatchObject({ baseline: { passes: 0, valid: 2 }, candidate: { passes: 1, valid: 1 } });
  });

  it("rejects (exit 1) when the candidate loses tasks the baseline passes, with evidence", async () => {
    const root = await mkdtemp(join(tmpdir(), "selfharness-gate-"));
    const three = (outcome: (task: string) => Outcome) => TASKS.flatMap((t) => [0, 1, 2].map((): [string, Outcome] => [t, outcome(t)]));
    const baseline = await harborJob(root, "base", three(() => "pass"));
    const candidate = await harborJob(root, "cand", three((t) => (TASKS.indexOf(t) < 5 ? "fail" : "pass")));
    const { code, stdout } = await gate("--baseline", baseline, "--candidate", candidate);
    expect(code).toBe(1);
    expect(stdout).toContain("decision: reject");
    expect(stdout).toMatch(/FAIL held-in loss: Δ -41\.7 pts over 12 tasks \(held-in tasks\), p < 0\.001 for a loss/);
  });

  it("judges the same trials once with --fixed: no next stage", async () => {
    const root = await mkdtemp(join(tmpdir(), "selfharness-gate-"));
    const one = await stageOne(root);
    const { code, stdout } = await gate("--baseline", one.baseline, "--candidate", one.candidate, "--fixed");
    expect(stdout).toContain("decision: needs-more-evidence (rule statistical, fixed");
    expect(stdout).toContain("This fixed validation has run all its trials without a decision");
    expect(stdout).not.toContain("Stage 2");
    expect(code).toBe(4);
  });

  it("prints the verdict as JSON", async () => {
    const { code, stdout } = await gate("--baseline", at("baseline"), "--candidate", at("improved"), "--held-out", at("held-out.txt"), "--json", "--seed", "3");
    expect(code).toBe(0);
    const verdict = JSON.parse(stdout) as Verdict;
    expect(verdict).toMatchObject({ decision: "accept", rule: "statistical", seed: 3, targeted: null, next: null });
    expect(verdict.splits.heldIn.tasks).toBe(6);
    expect(verdict.splits.heldOut.tasks).toBe(4);
    expect(verdict.invalid).toEqual([{ trial: expect.stringMatching(/^job-improved\/dedupe-records__/), task: "dedupe-records", side: "candidate", kind: "environment" }]);
    expect(verdict.flips.map((f) => f.task)).toContain("fix-permissions");
  });

  it("takes settings from a configuration file, and flags override them", async () => {
    const dir = await mkdtemp(join(tmpdir(), "selfharness-gate-"));
    const config = join(dir, "selfharness.yml");
    await writeFile(config, "split:\n  heldOut: [rotate-secrets, resize-images, merge-configs, dedupe-records]\ngate:\n  rule: paper\n");
    const fromConfig = await gate("--baseline", at("baseline"), "--candidate", at("noise"), "--config", config, "--json");
    expect(JSON.parse(fromConfig.stdout)).toMatchObject({ rule: "paper", decision: "accept", splits: { heldOut: { tasks: 4 } } });
    const overridden = await gate("--baseline", at("baseline"), "--candidate", at("noise"), "--config", config, "--rule", "statistical", "--alpha", "0.2", "--json");
    expect(JSON.parse(overridden.stdout)).toMatchObject({ rule: "statistical", alpha: 0.2, decision: "needs-more-evidence" });
  });

  it("counts tasks the candidate never ran, unless --tasks leaves them out", async () => {
    const root = await mkdtemp(join(tmpdir(), "selfharness-gate-"));
    const baseline = await harborJob(root, "base", TASKS.map((t) => [t, "fail"]));
    const candidate = await harborJob(root, "cand", TASKS.slice(0, 9).map((t) => [t, "pass"]));
    const all = await gate("--baseline", baseline, "--candidate", candidate, "--rule", "paper");
    expect(all.code).toBe(3);
    expect(all.stdout).toContain("3 of 12 tasks (25.0%, above 10.0%) cannot be compared: task-09 (not run on the candidate side)");
    const list = join(root, "tasks.txt");
    await writeFile(list, TASKS.slice(0, 9).join("\n"));
    const listed = await gate("--baseline", baseline, "--candidate", candidate, "--rule", "paper", "--tasks", list);
    expect(listed.code).toBe(0);
  });

  it("reports unusable input as an error with exit code 2, distinct from a verdict", async () => {
    const dir = await mkdtemp(join(tmpdir(), "selfharness-gate-"));
    const missing = await gate("--baseline", join(dir, "no-such-run"), "--candidate", at("improved"));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("selfharness gate: no trials could be read from the baseline runs");
    expect(missing.stdout).not.toContain("decision:");

    const heldOut = await gate("--baseline", at("baseline"), "--candidate", at("improved"), "--held-out", join(dir, "missing.txt"));
    expect(heldOut.code).toBe(2);
    expect(heldOut.stderr).toContain(`selfharness gate: held-out tasks file ${join(dir, "missing.txt")} does not exist`);

    const badConfig = join(dir, "bad.yml");
    await writeFile(badConfig, "gate:\n  alpha: 2\n");
    const config = await gate("--baseline", at("baseline"), "--candidate", at("improved"), "--config", badConfig);
    expect(config.code).toBe(2);
    expect(config.stderr).toContain(`invalid configuration:\n${badConfig} → gate.alpha`);

    const alpha = await gate("--baseline", at("baseline"), "--candidate", at("improved"), "--alpha", "1.5");
    expect(alpha.code).toBe(2);
    expect(alpha.stderr).toContain("alpha must be a number between 0 and 0.5");

    const noCandidate = await gate("--baseline", at("baseline"));
    expect(noCandidate.code).toBe(2);
    expect(noCandidate.stderr).toContain("--candidate");

    const gap = await gate("--baseline", at("baseline"), `3=${at("baseline")}`, "--candidate", at("improved"), `3=${at("improved")}`);
    expect(gap.code).toBe(2);
    expect(gap.stderr).toContain("stage 2 has no --baseline and no --candidate runs");
  });

  it("has help naming every exit code", async () => {
    const { code, stdout } = await gate("--help");
    expect(code).toBe(0);
    expect(stdout.replace(/\s+/g, " ")).toContain("Exit code 0 = accept, 1 = reject, 2 = unusable input, 3 = inconclusive, 4 = needs more evidence");
    expect(stdout).toContain("--held-out <file>");
    expect(stdout).toContain("--fixed");
    expect(stdout).toContain("2=runs/base-2");
  });
});

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readAtifTrajectory } from "../../src/traces/atif.js";
import { readTrials } from "../../src/traces/index.js";
import { hasRealTraces, NO_REAL_TRACES, realTraces } from "./paths.js";

let work: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), "selfharness-atif-"));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

async function writeJson(name: string, value: unknown): Promise<string> {
  const path = join(work, name);
  await writeFile(path, JSON.stringify(value));
  return path;
}

describe("readAtifTrajectory (lenient, v1.0 to v1.8)", () => {
  it("reads a minimal v1.0 trajectory, ignoring unknown keys", async () => {
    const path = await writeJson("trajectory.json", {
      schema_version: "ATIF-v1.0",
      session_id: "s",
      agent: { name: "agent-x", version: "1", model_name: "m/1" },
      future_field: { anything: true },
      steps: [
        { step_id: 1, source: "user", message: "do it", surprise: 1 },
        { step_id: 2, source: "agent", message: "ok", tool_calls: [{ tool_call_id: "c1", function_name: "shell", arguments: '{"cmd": ["ls", "-la"]}' }], observation: { results: [{ content: "total 0" }] } },
      ],
    });
    const read = await readAtifTrajectory(path);
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.value.agent).toBe("agent-x");
    expect(read.value.model).toBe("m/1");
    expect(read.value.steps).toEqual([
      { index: 0, source: "user", text: "do it" },
      { index: 1, source: "agent", text: "ok", calls: [{ name: "shell", args: { cmd: ["ls", "-la"] }, command: "ls -la" }], output: "total 0" },
    ]);
  });

  it("joins content parts, observations without source_call_id, exit codes and embedded subagents (v1.8)", async () => {
    const path = await writeJson("x.trajectory.json", {
      schema_version: "ATIF-v1.8",
      agent: { name: "a" },
      steps: [
        { step_id: 1, source: "user", message: [{ type: "text", text: "look at" }, { type: "image", source: { path: "a.png" } }] },
        {
          step_id: 2,
          source: "agent",
          message: "delegating",
          tool_calls: [{ tool_call_id: "t", function_name: "Task", arguments: { prompt: "find the bug" } }],
          observation: { results: [{ content: [{ type: "text", text: "found it" }], subagent_trajectory_ref: [{ session_id: "sub-1" }] }] },
        },
        { step_id: 3, source: "agent", message: "run", tool_calls: [{ tool_call_id: "b", function_name: "Bash", arguments: { command: "pytest -q" } }], observation: { results: [{ content: "1 failed\nExit code 1" }] } },
      ],
      subagent_trajectories: [
        { session_id: "sub-1", agent: { name: "sub" }, steps: [{ step_id: 1, source: "agent", message: "grep", tool_calls: [{ tool_call_id: "g", function_name: "Bash", arguments: { command: "grep -rn bug ." } }] }], final_metrics: { total_prompt_tokens: 50, total_completion_tokens: 5 } },
      ],
      final_metrics: { total_prompt_tokens: 100, total_completion_tokens: 10 },
    });
    const read = await readAtifTrajectory(path);
    if (!read.ok) throw new Error(read.message);
    const steps = read.value.steps;
    expect(steps.map((s) => [s.source, s.text?.slice(0, 12), s.calls?.[0]?.command])).toEqual([
      ["user", "look at\n[ima", undefined],
      ["agent", "delegating", undefined],
      ["agent", "grep", "grep -rn bug ."],
      ["agent", "run", "pytest -q"],
    ]);
    expect(steps[3]!.exitCode).toBe(1);
    expect(read.value.tokens).toEqual({ input: 150, output: 15 });
  });

  it("follows continued_trajectory_ref, drops copied context, and refuses references outside the folder", async () => {
    await writeJson("t.trajectory.cont-1.json", {
      schema_version: "ATIF-v1.6",
      steps: [
        { step_id: 1, source: "user", message: "copied", is_copied_context: true },
        { step_id: 2, source: "agent", message: "continue", tool_calls: [{ tool_call_id: "k", function_name: "bash_command", arguments: { keystrokes: "make\n" } }] },
      ],
      continued_trajectory_ref: "../../etc/passwd",
    });
    const path = await writeJson("t.trajectory.json", {
      schema_version: "ATIF-v1.6",
      steps: [{ step_id: 1, source: "user", message: "start" }],
      continued_trajectory_ref: "trajectory.cont-1.json",
    });
    const read = await readAtifTrajectory(path);
    if (!read.ok) throw new Error(read.message);
    expect(read.value.steps.map((s) => s.text)).toEqual(["start", "continue"]);
    expect(read.value.steps[1]!.calls?.[0]?.command).toBe("make");
    expect(read.value.files).toEqual([path, join(work, "t.trajectory.cont-1.json")]);
    expect(read.value.problems).toEqual([{ path: join(work, "t.trajectory.cont-1.json"), message: 'segment reference "../../etc/passwd" points outside the trajectory folder; not read' }]);
  });

  it("bounds what a step keeps: long outputs are clipped with a visible marker", async () => {
    const long = `${"a".repeat(10_000)}THE-END`;
    const path = await writeJson("trajectory.json", { schema_version: "ATIF-v1.5", steps: [{ step_id: 1, source: "agent", message: "x", observation: { results: [{ content: long }] } }] });
    const read = await readAtifTrajectory(path);
    if (!read.ok) throw new Error(read.message);
    const output = read.value.steps[0]!.output!;
    expect(output.length).toBeLessThan(4200);
    expect(output).toMatch(/\n\.\.\.\[\d+ chars truncated\]\.\.\.\n/);
    expect(output.endsWith("THE-END")).toBe(true);
  });

  it("keeps at most 1000 steps (head and tail) with a marker step", async () => {
    const steps = Array.from({ length: 2500 }, (_, i) => ({ step_id: i + 1, source: "agent", message: `step ${i + 1}` }));
    const read = await readAtifTrajectory(await writeJson("trajectory.json", { schema_version: "ATIF-v1.6", steps }));
    if (!read.ok) throw new Error(read.message);
    expect(read.value.steps).toHaveLength(1000);
    expect(read.value.steps[100]).toEqual({ index: 100, source: "system", text: "[1501 steps omitted]" });
    expect(read.value.steps[999]!.text).toBe("step 2500");
    expect(read.value.steps.every((s, i) => s.index === i)).toBe(true);
  });

  it("reports malformed, non-ATIF and binary files instead of throwing", async () => {
    expect(await readAtifTrajectory(await writeJson("a.json", { steps: "nope" }))).toEqual({ ok: false, message: "not an ATIF trajectory (no steps array)" });
    await writeFile(join(work, "b.json"), '{"schema_version": "ATIF-v1.6", "steps": [');
    expect(await readAtifTrajectory(join(work, "b.json"))).toMatchObject({ ok: false, message: expect.stringMatching(/^malformed JSON/) });
    await writeFile(join(work, "c.json"), Buffer.from([0x7b, 0x00, 0xff, 0x10]));
    expect(await readAtifTrajectory(join(work, "c.json"))).toEqual({ ok: false, message: "binary content (NUL bytes), not JSON" });
  });
});

const golden = resolve(realTraces, "harbor-golden-fixtures-SYNTHETIC/tests/golden");

describe.skipIf(!hasRealTraces)(`Harbor golden ATIF trajectories (${hasRealTraces ? "present" : NO_REAL_TRACES})`, () => {
  it("reads each main trajectory once, joining its summarisation and continuation segments", async () => {
    const { trials } = await readTrials([golden]);
    expect(trials.map((t) => t.id)).toEqual([
      "openhands/hello-world",
      "terminus_2/hello-world-context-summarization-linear-history",
      "terminus_2/hello-world-context-summarization",
      "terminus_2/hello-world-invalid-json",
      "terminus_2/hello-world-timeout",
    ]);
    for (const trial of trials) {
      expect(trial.outcome).toBe("invalid");
      expect(trial.infra?.kind).toBe("no-verdict");
      // Terminus runs shell commands; the OpenHands sample only edits files through its editor tool.
      const shell = trial.run === "terminus_2";
      expect(trial.steps.some((s) => s.calls?.some((c) => c.command) && s.output)).toBe(shell);
    }
    const openhands = trials[0]!;
    expect(openhands.steps[4]).toMatchObject({ source: "agent", calls: [{ name: "str_replace_editor", args: { command: "create", path: "/app/hello.txt" } }], output: "File created successfully at: /app/hello.txt" });
  });

  it("timeout case: commands and outputs per step", async () => {
    const read = await readAtifTrajectory(resolve(golden, "terminus_2/hello-world-timeout.trajectory.json"));
    if (!read.ok) throw new Error(read.message);
    expect(read.value.steps.filter((s) => s.source === "agent").map((s) => s.calls?.[0]?.command)).toEqual(["echo 'Hello, world!'", "sleep 5", "sleep 5"]);
    expect(read.value.steps[1]!.output).toContain("Hello, world!");
  });

  it("invalid JSON case: the parse error is recorded on the step", async () => {
    const read = await readAtifTrajectory(resolve(golden, "terminus_2/hello-world-invalid-json.trajectory.json"));
    if (!read.ok) throw new Error(read.message);
    expect(read.value.steps[1]!.error).toBe("ERROR: Missing required fields: analysis, plan");
    expect(read.value.steps[2]!.calls?.[0]?.command).toBe("printf 'Hello, world!\\n' > hello.txt");
  });

  it("context summarisation case: subagent segments are joined in order, copied context dropped", async () => {
    const read = await readAtifTrajectory(resolve(golden, "terminus_2/hello-world-context-summarization.trajectory.json"));
    if (!read.ok) throw new Error(read.message);
    expect(read.value.files).toHaveLength(4);
    const commands = read.value.steps.flatMap((s) => s.calls?.map((c) => c.command) ?? []).filter(Boolean);
    expect(commands).toEqual(["mkdir test_dir", "echo 'test1' > test_dir/file1.txt", "echo 'test2' > test_dir/file2.txt", "printf 'Hello, world!\\n' > hello.txt", "cat hello.txt"]);
    expect(read.value.steps.filter((s) => s.text?.startsWith("I have the following questions"))).toHaveLength(1);

    const linear = await readAtifTrajectory(resolve(golden, "terminus_2/hello-world-context-summarization-linear-history.trajectory.json"));
    if (!linear.ok) throw new Error(linear.message);
    expect(linear.value.steps.flatMap((s) => s.calls?.map((c) => c.command) ?? [])).toContain("cat hello.txt");
    expect(linear.value.problems.map((p) => p.message)).toEqual(Array(3).fill("trajectory segment referenced by hello-world-context-summarization-linear-history.trajectory.json: not found"));
  });
});

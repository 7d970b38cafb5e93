import { describe, expect, it } from "vitest";
import { detectSignals, DETECTORS, viewOf } from "../../src/mine/signals.js";
import type { SignalKind } from "../../src/mine/types.js";
import type { Step, Trial } from "../../src/traces/types.js";
import { failing, trial } from "./build.js";

const kinds = (t: Trial) => detectSignals(t).map((f) => f.kind);
const run = (kind: SignalKind, t: Trial) => DETECTORS[kind](viewOf(t));

describe("repeated-failing-command", () => {
  it("fires when the same command, spelt differently, fails three times", () => {
    const t = trial({ task: "build" }, [
      ["make  build", "error: missing header", 2],
      ["ls", "src", 0],
      ['make "build"', "error: missing header", 2],
      ["make build ", "error: missing header", 2],
    ]);
    const [finding] = run("repeated-failing-command", t);
    expect(finding?.steps).toEqual([0, 2, 3]);
    expect(finding?.detail).toMatch(/failed 3 times/);
  });
  it("does not fire for two failures, or for a third run that succeeds", () => {
    expect(run("repeated-failing-command", trial({ task: "build" }, [["make build", "err", 2], ["make build", "err", 2]]))).toEqual([]);
    expect(run("repeated-failing-command", trial({ task: "build" }, [["make build", "err", 2], ["make build", "err", 2], ["make build", "ok", 0]]))).toEqual([]);
  });
});

describe("stalled-loop", () => {
  it("fires on five consecutive commands that return the same output", () => {
    const t = trial({ task: "wait" }, [["ls"], ["cat a", "waiting"], ["cat b", "waiting"], ["cat c", "waiting"], ["cat d", "waiting"], ["cat e", "waiting"]]);
    expect(run("stalled-loop", t)[0]?.steps).toEqual([1, 2, 3, 4, 5]);
  });
  it("does not fire on four repeats, nor on five commands with new outputs", () => {
    expect(run("stalled-loop", trial({ task: "wait" }, [["sleep 5"], ["sleep 5"], ["sleep 5"], ["sleep 5"], ["ls", "x"]]))).toEqual([]);
    expect(run("stalled-loop", trial({ task: "wait" }, [["cat a", "1"], ["cat b", "2"], ["cat c", "3"], ["cat d", "4"], ["cat e", "5"]]))).toEqual([]);
  });
});

describe("missing-artifact", () => {
  const tests = [failing("test_output_exists", "FileNotFoundError: [Errno 2] No such file or directory: '/app/result.csv'")];
  it("fires when the verifier misses a file the agent never wrote", () => {
    const t = trial({ task: "report", tests }, [["cat data.txt", "a,b"], ["python analyse.py", "mean 3.2"]]);
    expect(run("missing-artifact", t)[0]?.detail).toMatch(/\/app\/result\.csv missing/);
  });
  it("does not fire when the agent wrote that path", () => {
    const t = trial({ task: "report", tests }, [["cat data.txt", "a,b"], ["python analyse.py > /app/result.csv", ""]]);
    expect(run("missing-artifact", t)).toEqual([]);
  });
  it("does not fire for a failing test that says nothing about a missing file", () => {
    const t = trial({ task: "report", tests: [failing("test_values", "AssertionError: 3 != 4")] }, [["cat data.txt"]]);
    expect(run("missing-artifact", t)).toEqual([]);
  });
});

describe("late-or-no-write", () => {
  it("fires when the first change comes after most of the run", () => {
    const t = trial({ task: "fix" }, [["ls"], ["cat a.py"], ["grep -r foo ."], ["find . -name '*.py'"], ["head b.py"], ["git log"], ["sed -n 1,20p c.py"], ["sed -i s/a/b/ a.py"]]);
    expect(run("late-or-no-write", t)[0]?.detail).toMatch(/first change at command 8 of 8/);
  });
  it("fires when the agent never changes anything", () => {
    expect(run("late-or-no-write", trial({ task: "fix" }, [["ls"], ["cat a"], ["cat b"], ["grep x a"], ["pwd"]]))[0]?.detail).toMatch(/never changed/);
  });
  it("does not fire when the agent writes early", () => {
    const t = trial({ task: "fix" }, [["ls"], ["cat a.py"], ["sed -i s/a/b/ a.py"], ["cat a.py"], ["grep b a.py"], ["ls -la"], ["pwd"], ["head a.py"]]);
    expect(run("late-or-no-write", t)).toEqual([]);
  });
});

describe("unverified-completion", () => {
  it("fires when the agent claims success after a change with no check", () => {
    const t = trial({ task: "merge" }, [["git merge feature", "CONFLICT"], ["git add . && git commit -m merge", "[master 1a2b] merge"], { say: "The merge is complete. The task is complete." }]);
    const [finding] = run("unverified-completion", t);
    expect(finding?.detail).toContain('"The task is complete."');
    expect(finding?.steps).toEqual([1, 2]);
  });
  it("fires on a task_complete tool call", () => {
    const t = trial({ task: "write" }, [["echo hi > out.txt"], { index: 0, source: "agent", calls: [{ name: "mark_task_complete", args: {} }] }]);
    expect(run("unverified-completion", t)).toHaveLength(1);
  });
  it("does not fire when the agent ran tests after its last change", () => {
    const t = trial({ task: "merge" }, [["git commit -am fix"], ["python -m pytest -q", "3 passed"], { say: "The task is complete." }]);
    expect(run("unverified-completion", t)).toEqual([]);
  });
  it("does not fire when the verifier passed", () => {
    const t = trial({ task: "merge", outcome: "pass" }, [["git commit -am fix"], { say: "The task is complete." }]);
    expect(run("unverified-completion", t)).toEqual([]);
  });
});

describe("tool-error-then-stop", () => {
  it("fires when the run ends right after failing commands", () => {
    const t = trial({ task: "deploy" }, [["ls"], ["./deploy.sh", "Error: connection refused", 1], { say: "Deployment done." }]);
    expect(run("tool-error-then-stop", t)[0]?.detail).toMatch(/connection refused/);
  });
  it("does not fire when a failure is followed by a successful command", () => {
    const t = trial({ task: "deploy" }, [["./deploy.sh", "Error: connection refused", 1], ["./deploy.sh --retry", "ok", 0]]);
    expect(run("tool-error-then-stop", t)).toEqual([]);
  });
});

describe("env-lost", () => {
  it("fires when a venv activated in one call is gone in the next", () => {
    const t = trial({ task: "train" }, [["source .venv/bin/activate"], ["pytest", "bash: pytest: command not found", 127]]);
    expect(run("env-lost", t)[0]?.steps).toEqual([0, 1]);
  });
  it("fires when a cd alone does not carry over", () => {
    const t = trial({ task: "train" }, [["cd /app/project"], ["pwd", "/root"]]);
    expect(run("env-lost", t)).toHaveLength(1);
  });
  it("does not fire when the state change is chained to the command that needs it", () => {
    const t = trial({ task: "train" }, [["cd /app/project && make", "ok"], ["pwd", "/root"], ["source .venv/bin/activate && pytest", "1 passed"]]);
    expect(run("env-lost", t)).toEqual([]);
  });
});

describe("missing-dependency", () => {
  it("fires on a missing module that is never installed", () => {
    const t = trial({ task: "plot" }, [["python plot.py", "ModuleNotFoundError: No module named 'matplotlib'", 1], ["ls"]]);
    expect(run("missing-dependency", t)[0]?.detail).toMatch(/matplotlib/);
  });
  it("does not fire when the agent installs it", () => {
    const t = trial({ task: "plot" }, [["python plot.py", "ModuleNotFoundError: No module named 'matplotlib'", 1], ["pip install matplotlib", "Successfully installed", 0]]);
    expect(run("missing-dependency", t)).toEqual([]);
  });

  /** A Terminus-2 step: several keystroke commands sent at once, and one screen of output for all of them. */
  const batch = (commands: string[], output: string): Step => ({ index: 0, source: "agent", calls: commands.map((command) => ({ name: "keystrokes", args: { keystrokes: command }, command })), output });

  it("does not fire on a probe that finds a tool missing, whichever command of the batch the output follows", () => {
    // As in a real Harbor run: the agent checked for pdftk, found it missing, and filled the form with pypdf.
    const t = trial({ task: "fill-form" }, [
      batch(["ls /root/form.pdf", "pdftk --version", "python3 --version"], "/root/form.pdf\n\nbash: pdftk: command not found\n\nPython 3.12.3"),
      ["python3 fill.py", "filled 12 fields"],
    ]);
    expect(run("missing-dependency", t)).toEqual([]);
  });

  it("does not fire when the agent rewrites its script without the module and it runs", () => {
    const t = trial({ task: "motion" }, [
      batch(["cat << 'EOF' > /root/analyze.py\nfrom scipy.sparse import csr_matrix\nEOF", "python3 /root/analyze.py"], "ModuleNotFoundError: No module named 'scipy'"),
      batch(["cat << 'EOF' > /root/analyze.py\nimport numpy as np\nEOF", "python3 /root/analyze.py"], ""),
    ]);
    expect(run("missing-dependency", t)).toEqual([]);
  });

  it("does not count a wrong guess at an installed module's API as a missing module", () => {
    const t = trial({ task: "plan" }, [["python3 solve.py", "ImportError: cannot import name 'SequentialPlanValidator' from 'unified_planning.shortcuts'", 1], ["ls"]]);
    expect(run("missing-dependency", t)).toEqual([]);
  });

  it("still fires when the script that needs the module never runs again", () => {
    const t = trial({ task: "motion" }, [batch(["cat > a.py", "python3 a.py"], "ModuleNotFoundError: No module named 'scipy'"), ["ls"]]);
    expect(run("missing-dependency", t)[0]?.detail).toMatch(/scipy/);
  });
});

describe("interactive-hang", () => {
  it("fires on apt install without -y in a run that timed out", () => {
    const t = trial({ task: "setup", failureMode: "agent_timeout" }, [["ls"], ["apt-get install nginx", "Do you want to continue? [Y/n]"]]);
    expect(run("interactive-hang", t)[0]?.detail).toMatch(/apt-get install nginx/);
  });
  it("does not fire on apt install -y, nor on a pager in a run that did not time out", () => {
    expect(run("interactive-hang", trial({ task: "setup", failureMode: "agent_timeout" }, [["apt-get install -y nginx", "done"]]))).toEqual([]);
    expect(run("interactive-hang", trial({ task: "setup" }, [["less README", "(END)"], ["ls"]]))).toEqual([]);
  });
});

describe("format-error", () => {
  const parseError = (index: number) => ({ index, source: "user" as const, text: "Previous response had parsing errors:\nERROR: Missing required fields: analysis, plan" });
  // One or two rejections the agent recovers from are routine (mini-swe-agent rejects a reply with two
  // command blocks and the agent resends one); a run of them is the mechanism.
  it("fires when the harness rejects the agent's output three times", () => {
    const t = trial({ task: "hello" }, [{ say: "{bad" }, parseError(0), { say: "{bad" }, parseError(0), { say: "{bad" }, parseError(0)]);
    expect(run("format-error", t)[0]?.steps).toEqual([1, 3, 5]);
    expect(run("format-error", trial({ task: "hello" }, [{ say: "{bad" }, parseError(0), { say: "{bad" }, parseError(0)]))).toEqual([]);
  });
  it("fires on the harness's own parse-error label", () => {
    expect(run("format-error", trial({ task: "hello", failureMode: "fatal_llm_parse_error" }))).toHaveLength(1);
  });
  it("does not fire on one rejection, or on a program's JSON error in a command output", () => {
    expect(run("format-error", trial({ task: "hello" }, [{ say: "{bad" }, parseError(0), ["ls"]]))).toEqual([]);
    expect(run("format-error", trial({ task: "hello" }, [["python load.py", "json.decoder.JSONDecodeError: Expecting value", 1]]))).toEqual([]);
  });
  it("reads a rejection where the harness writes it, at the head of its message, not deep in a command's output", () => {
    const source = (i: number) => `${"def call(name):\n    handler = TOOLS.get(name)\n".repeat(30)}    raise KeyError(f"unknown tool {name}")  # ${i}\n`;
    const grepped = [0, 1, 2].map((i) => ["cat registry.py", source(i)] as [string, string]);
    expect(source(0).indexOf("unknown tool")).toBeGreaterThan(1000);
    expect(run("format-error", trial({ task: "registry" }, grepped))).toEqual([]);
    const opened = [0, 1, 2].map((i) => ["call", `unknown tool 'call' (${i}); the tools are: bash, edit\n${source(i)}`] as [string, string]);
    expect(run("format-error", trial({ task: "registry" }, opened))[0]?.steps).toHaveLength(3);
  });
});

describe("timeout and context-overflow", () => {
  it("read the harness's labels", () => {
    expect(kinds(trial({ task: "t", failureMode: "AgentTimeoutError" }))).toContain("timeout");
    expect(kinds(trial({ task: "t", failureMode: "context_length_exceeded" }))).toContain("context-overflow");
  });
  it("do not take a verifier timeout for an agent timeout, nor mention of 'context' in output for an overflow", () => {
    expect(kinds(trial({ task: "t", failureMode: "test_timeout" }))).not.toContain("timeout");
    expect(kinds(trial({ task: "t" }, [["grep context config.yml", "context: 4096"]]))).not.toContain("context-overflow");
  });
});

describe("terminal transcripts", () => {
  // A pane reader gives one step for the command that launched the agent, its transcript as output.
  const transcript = [
    "mini-swe-agent (step 4, $0.02):",
    "THOUGHT: I will resolve the conflict and commit.",
    "",
    "```bash",
    "git add about.md && git commit -m 'Merge branch'",
    "```",
    "",
    "User:",
    "<returncode>0</returncode>",
    "<output>",
    "[master c39923f] Merge branch",
    "</output>",
    "────────",
    "",
    "mini-swe-agent (step 5, $0.03):",
    "THOUGHT: The merge has been completed successfully. The task is complete.",
    "",
    "```bash",
    "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT",
    "```",
    "",
    "User:",
    "",
  ].join("\n");

  it("reads commands, exit codes and the completion claim from an embedded agent transcript", () => {
    const t = trial({ task: "merge", source: { format: "tb1", path: "panes/post-agent.txt" } }, [
      { index: 0, source: "agent", calls: [{ name: "terminal", args: {}, command: "mini -m model -t 'task' -y" }], output: transcript },
    ]);
    const view = viewOf(t);
    expect(view.actions.map((a) => a.command)).toEqual(["git add about.md && git commit -m 'Merge branch'", "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT"]);
    expect(view.actions[0]?.exitCode).toBe(0);
    expect(run("unverified-completion", t)[0]?.detail).toContain("The task is complete.");
  });
});

// Trials shaped after mini-swe-agent's steps in Terminal-Bench 1 logs: a command the harness killed at
// its time limit comes back as a tool step with `timedOut`.
const killed = (command: string, output = "Downloading torch-2.8.0-cp313-manylinux_2_28_x86_64.whl (887.9 MB)") => [
  { index: 0, source: "agent" as const, calls: [{ name: "bash", args: { command }, command }] },
  { index: 0, source: "tool" as const, output, timedOut: true, error: "the command timed out and was killed by the harness" },
];
const say = (text: string) => ({ say: text });

describe("foreground-long-operation", () => {
  it("fires when installs are killed at the time limit and the agent then writes a stand-in", () => {
    const t = trial({ task: "serve-model", stopReason: "submitted" }, [
      ...killed("pip install flask transformers torch"),
      ...killed("pip install torch --index-url https://download.pytorch.org/whl/cpu"),
      say("The install keeps timing out. I'll create a mock Flask API that simulates the sentiment analysis."),
      ["cat > api.py <<'EOF'\nprint('mock')\nEOF", "", 0],
      say("The API is complete and working."),
      ["echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT", "", 0],
    ]);
    // The first and last killed installs, and the step where the agent announced the mock.
    expect(run("foreground-long-operation", t)[0]).toMatchObject({ kind: "foreground-long-operation", steps: [0, 2, 4], basis: "actions" });
  });
  it("fires when the run's time ran out during a long command", () => {
    const t = trial({ task: "count-tokens", failureMode: "agent_timeout", stopReason: "cut off while a command was running" }, [["ls", "", 0], ["pip install datasets", "Collecting datasets", null]]);
    expect(run("foreground-long-operation", t)[0]?.detail).toMatch(/the run ended while one was still running/);
  });
  it("does not fire when the agent recovered from a killed install and finished the work", () => {
    const t = trial({ task: "trim-video", failureMode: "agent_timeout", stopReason: "submitted" }, [...killed("apt install -y ffmpeg"), ["ffmpeg -version", "ffmpeg version 5.1", 0], ["ffmpeg -i in.mp4 -ss 9 out.mp4", "", 0], say("Done."), ["echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT", "", 0]]);
    expect(run("foreground-long-operation", t)).toEqual([]);
  });
});

describe("fabricated-result", () => {
  it("fires on a stand-in announced and then written", () => {
    const t = trial({ task: "maze", instruction: "Map every maze to /app/output/N.txt." }, [say("Exploration keeps failing. I'll write reasonable structures for the other mazes based on the partial data."), ["python3 write_mazes.py", "saved", 0]]);
    expect(run("fabricated-result", t)[0]?.detail).toContain("reasonable structures");
  });
  it("does not fire on the instruction's own words, a negation, or words never acted on", () => {
    const placeholder = "Replace every API key with the placeholder value <your-key>.";
    expect(run("fabricated-result", trial({ task: "sanitize", instruction: placeholder }, [say("I replaced the keys with placeholder values."), ["sed -i s/hf_x/<your-key>/ a.yaml", "", 0]]))).toEqual([]);
    expect(run("fabricated-result", trial({ task: "t" }, [say("I will load the real weights, not mock weights."), ["python3 load.py", "ok", 0]]))).toEqual([]);
    expect(run("fabricated-result", trial({ task: "t" }, [["ls", "a", 0], say("A mock implementation would not be acceptable here.")]))).toEqual([]);
  });
});

describe("gave-up", () => {
  it("fires when the agent submits while saying the result falls short", () => {
    const t = trial({ task: "train", stopReason: "submitted" }, [["fasttext test model.bin test.txt", "P@1 0.593", 0], say("The model is reasonably close to the accuracy target, so I will submit it."), ["echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT", "", 0]]);
    expect(run("gave-up", t)[0]?.detail).toMatch(/reasonably close to the accuracy target/);
  });
  it("does not fire on a run that was cut off, nor on ordinary last words", () => {
    expect(run("gave-up", trial({ task: "train", failureMode: "agent_timeout" }, [say("I am unable to finish the training in time.")]))).toEqual([]);
    expect(run("gave-up", trial({ task: "train", stopReason: "submitted" }, [say("The model reaches 0.71 accuracy. The task is complete.")]))).toEqual([]);
  });
  it("fires, judged without actions, on a run that stopped after a few output tokens", () => {
    const [finding] = run("gave-up", trial({ task: "t", stopReason: "finished", tokens: { input: 4000, output: 7 } }));
    expect(finding).toMatchObject({ basis: "metadata", detail: "the agent stopped after 7 output tokens" });
  });
});

describe("wrong-output-path", () => {
  it("fires when the verifier misses a file the agent wrote elsewhere", () => {
    const t = trial({ task: "report", tests: [failing("test_report_exists", "AssertionError: /app/out/report.csv does not exist")] }, [["python3 make.py > /app/report.csv", "", 0]]);
    expect(run("wrong-output-path", t)[0]?.detail).toBe("the verifier looked for /app/out/report.csv; the agent wrote /app/report.csv");
  });
  it("does not fire when the agent never wrote anything like it", () => {
    const t = trial({ task: "report", tests: [failing("test_report_exists", "AssertionError: /app/out/report.csv does not exist")] }, [["ls /app", "data.csv", 0]]);
    expect(run("wrong-output-path", t)).toEqual([]);
  });
});

describe("unverified-completion on real-shaped transcripts", () => {
  it("counts running the program it wrote, or reading what its last change produced, as a look", () => {
    const ran = trial({ task: "t" }, [["cat > count.py <<'EOF'\nprint(1)\nEOF", "", 0], ["python3 count.py sample.txt", "the: 4", 0], ["rm .count.py.swp", "", 0], say("The task is complete.")]);
    expect(run("unverified-completion", ran)).toEqual([]);
    const probed = trial({ task: "t" }, [["ffmpeg -i in.mp4 -ss 9 -c copy result.mp4", "frame=300", 0], ["ls -la result.mp4 && ffmpeg -i result.mp4 2>&1 | grep Duration", "Duration: 00:00:10.00", 0], say("The task is complete.")]);
    expect(run("unverified-completion", probed)).toEqual([]);
  });
  it("ignores notes and clean-up after the last change, but still sees the unchecked change", () => {
    const t = trial({ task: "t" }, [["tmux send-keys -t w:0.2 ':wq' Enter", "", 0], ["cat <<'EOF' > SOLUTION_SUMMARY.md\nnotes\nEOF", "", 0], ["git branch -d tmp", "Deleted branch tmp", 0], say("I have successfully fixed the bug. The task is complete.")]);
    expect(run("unverified-completion", t)[0]?.steps).toEqual([0, 3]);
  });
});

describe("interactive-hang and timeout judge the end of the run, not the harness's label", () => {
  it("interactive-hang: a killed vim the agent moved on from is not the mechanism; one that ended the run is", () => {
    const recovered = trial({ task: "t", failureMode: "agent_timeout", stopReason: "submitted" }, [...killed("vim notes.txt", "~\n~"), ["cat > notes.txt <<'EOF'\nx\nEOF", "", 0], ["echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT", "", 0]]);
    expect(run("interactive-hang", recovered)).toEqual([]);
    const ended = trial({ task: "t", failureMode: "agent_timeout" }, [["ls", "a", 0], ["vim notes.txt", "~\n-- INSERT --", null]]);
    expect(run("interactive-hang", ended)).toHaveLength(1);
  });
  it("timeout: only without actions, never on a trial whose agent submitted or that ran short of its limit", () => {
    expect(run("timeout", trial({ task: "t", failureMode: "agent_timeout" }))[0]).toMatchObject({ basis: "metadata", detail: "harness label agent_timeout" });
    expect(run("timeout", trial({ task: "t", failureMode: "agent_timeout", stopReason: "submitted" }))).toEqual([]);
    expect(run("timeout", trial({ task: "t", failureMode: "AgentTimeoutError", duration: { agentSeconds: 200, limitSeconds: 900 } }))).toEqual([]);
    expect(run("timeout", trial({ task: "t", duration: { agentSeconds: 899, limitSeconds: 900 } }))[0]?.detail).toBe("ran 899 s of its 900 s limit");
    expect(run("timeout", trial({ task: "t", failureMode: "agent_timeout" }, [["make", "", null]]))).toEqual([]);
  });
});

describe("every detector on 1 MB of hostile trace text", () => {
  // Shapes that make a backtracking pattern go quadratic: long runs of one character class, many
  // near-matches of a keyword, unclosed fences and tags, deep paths.
  const MB = 1_000_000;
  const hostile = [
    "a".repeat(MB),
    "mock ".repeat(MB / 5),
    `${"/".repeat(MB / 2)}x`,
    "KeyError: '".repeat(MB / 11),
    "```bash\n".repeat(MB / 8),
    " - ".repeat(MB / 3),
    "No such file or directory: '".repeat(MB / 28),
    `${"x.".repeat(MB / 2)}(`,
  ];
  for (const [i, text] of hostile.entries()) {
    it(`stays linear on hostile text #${i + 1}`, () => {
      const t = trial(
        { task: "t", instruction: text, failureMode: "agent_timeout", tests: [failing(text.slice(0, 1000), text)], verifierOutput: text },
        [say(text), [text, text, 1], [text, text, null], say(text)],
      );
      const view = viewOf(t);
      for (const [kind, detect] of Object.entries(DETECTORS)) {
        const start = performance.now();
        detect(view);
        const ms = performance.now() - start;
        // A linear pass over a few MB takes milliseconds; a quadratic one takes minutes.
        expect(ms, kind).toBeLessThan(3_000);
      }
    });
  }
});

import { describe, expect, it } from "vitest";
import { agentLaunchExecutable, exitCodeIn, parseKeystrokeLine, stepsFromCommands, stepsFromPane } from "../../src/traces/transcript.js";

const commands = [
  "['asciinema rec --stdin /logs/agent.cast', 'Enter']",
  "['clear', 'Enter']",
  "[\"source /installed-agent/install-agent.sh && echo 'INSTALL_SUCCESS'\", 'Enter']",
  "['coder -t \\'Can\\'\"\\'\"\\'t stop\\' -y', 'Enter']",
  "['bash ', '/tests/run-tests.sh', 'Enter']",
  "['C-d']",
].join("\n");

describe("Terminal-Bench transcripts", () => {
  it("parses Python keystroke lists with both quote styles and escapes", () => {
    expect(parseKeystrokeLine("['ls -la', 'Enter']")).toEqual(["ls -la", "Enter"]);
    expect(parseKeystrokeLine("[\"echo 'hi'\\n\", 'Enter']")).toEqual(["echo 'hi'\n", "Enter"]);
    expect(parseKeystrokeLine("['unterminated]")).toBeUndefined();
    expect(parseKeystrokeLine("not a list")).toBeUndefined();
  });

  it("turns commands.txt into steps, telling harness plumbing from agent commands", () => {
    const steps = stepsFromCommands(commands);
    expect(steps.map((s) => [s.index, s.source, s.calls?.[0]?.command])).toEqual([
      [0, "system", "asciinema rec --stdin /logs/agent.cast"],
      [1, "system", "clear"],
      [2, "system", "source /installed-agent/install-agent.sh && echo 'INSTALL_SUCCESS'"],
      [3, "agent", "coder -t 'Can'\"'\"'t stop' -y"],
      [4, "system", "bash /tests/run-tests.sh"],
      [5, "agent", ""],
    ]);
    expect(agentLaunchExecutable(commands)).toBe("coder");
  });

  it("splits a pane capture at shell prompts, keeping each command's output and exit code", () => {
    const pane = [
      "root@ab12:/app# source /installed-agent/setup-env.sh; tmux wait -S done",
      "root@ab12:/app/src# make test",
      "cc -o main main.c",
      "main.c:3: error: expected ';'",
      "make: *** [Makefile:2: main] Error 2",
      "exit code: 2",
      "root@ab12:/app/src# ",
    ].join("\n");
    const steps = stepsFromPane(pane);
    expect(steps).toHaveLength(2);
    expect(steps[0]).toMatchObject({ index: 0, source: "system", calls: [{ command: "source /installed-agent/setup-env.sh" }] });
    expect(steps[1]).toMatchObject({ index: 1, source: "agent", calls: [{ command: "make test" }], exitCode: 2 });
    expect(steps[1]!.output).toContain("error: expected ';'");
  });

  it("finds exit codes in the forms harnesses print them, the last one winning", () => {
    expect(exitCodeIn("done\n[The command completed with exit code 127.]")).toBe(127);
    expect(exitCodeIn("<returncode>1</returncode>\n<output>x</output>")).toBe(1);
    expect(exitCodeIn("Exit code: 0\n...\nexit code: 3")).toBe(3);
    expect(exitCodeIn("no code here, 42 files")).toBeUndefined();
    // In any case of ASCII letters, as the regex's own case folding reads them: it folds no other
    // letter onto one (a dotless ı is not an i).
    expect(exitCodeIn("RETURN CODE: 4")).toBe(4);
    expect(exitCodeIn("EXIT STATUS=2")).toBe(2);
    expect(exitCodeIn("Ex\u0131t code 5")).toBeUndefined();
    // A long output is read at its head and its tail, never in the middle.
    const filler = "x".repeat(5000);
    expect(exitCodeIn(`<returncode>2</returncode>\n${filler}`)).toBe(2);
    expect(exitCodeIn(`${filler}\nExit code: 7`)).toBe(7);
    expect(exitCodeIn(`<returncode>2</returncode>\n${filler}\nexit status 9`)).toBe(9);
    expect(exitCodeIn(`${filler}\nexit code 3\n${filler}`)).toBeUndefined();
  });
});

describe("exit codes in long outputs", () => {
  it("finds a code at the head or tail of a long output", () => {
    const middle = "log line\n".repeat(2000);
    expect(exitCodeIn(`<returncode>2</returncode>\n${middle}`)).toBe(2);
    expect(exitCodeIn(`${middle}[The command completed with exit code 1.]`)).toBe(1);
  });
});

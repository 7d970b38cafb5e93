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
    expect(exitCodeIn("eXiT cOdE 6")).toBe(6);
    expect(exitCodeIn("ReTuRnCoDe 8")).toBe(8);
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

describe("the exit-code search's first look", () => {
  // What exitCodeIn read before: every pattern run over a sample holding "exit" or "return" once lower-cased.
  const PATTERNS = [/\[The command completed with exit code (-?\d+)\.?\]/g, /<returncode>\s*(-?\d+)\s*<\/returncode>/g, /<exit_code>\s*(-?\d+)\s*<\/exit_code>/g, /(?:^|\n)\s*(?:exit code|exit status|exit_code|returncode|return code)\s*[:=]?\s*(-?\d+)\b/gi, /\bProcess exited with code (-?\d+)/g];
  function reference(output: string): number | undefined {
    const sample = output.length > 4096 ? `${output.slice(0, 512)}\n${output.slice(-2048)}` : output;
    const lower = sample.toLowerCase();
    if (!lower.includes("exit") && !lower.includes("return")) return undefined;
    let found: { at: number; code: number } | undefined;
    for (const pattern of PATTERNS) for (const match of sample.matchAll(pattern)) if (!found || match.index >= found.at) found = { at: match.index, code: Number(match[1]) };
    return found?.code;
  }

  it("finds what a search of the lower-cased output finds, whatever the letters' case and the letters that look like them", () => {
    const pieces = ["exit", "EXIT", "eXiT", "Ex\u0131t", "\u0130", "RETURN", "ReTuRn", "r\u0435turn", "\u212a", " code ", " status=", ": ", "7", "-2", "\n", "<returncode>", "</returncode>", "Process exited with code ", "x", "u", "\u2500", "\u00e9"];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let n = 0; n < 3000; n++) {
      const parts: string[] = [];
      const length = Math.floor(next() * (n % 10 === 0 ? 1200 : 12));
      for (let i = 0; i < length; i++) parts.push(pieces[Math.floor(next() * pieces.length)]!);
      const output = parts.join("");
      expect(exitCodeIn(output), JSON.stringify(output.slice(0, 200))).toBe(reference(output));
    }
  });
});

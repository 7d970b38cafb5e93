/**
 * The program's help and version, answered without commander (src/cli/top.ts): each answer must be
 * the one commander gives for the same command line, on the same streams with the same exit code, at
 * any terminal width; anything else must be left to commander.
 */
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli.js";
import { memoryIo } from "../../src/cli/io.js";
import { runProgram } from "../../src/cli/program.js";
import { answerTopLevel } from "../../src/cli/top.js";

const ioAt = (columns: number | undefined) => Object.assign(memoryIo(), { columns: () => columns });

describe("the program's help and version", () => {
  it.each([undefined, 20, 39, 40, 41, 48, 60, 72, 80, 81, 100, 200])("are commander's own at %s columns", async (columns) => {
    for (const args of [["--help"], ["-h"], ["help"], ["--version"], ["-V"], []]) {
      const argv = ["node", "selfharness", ...args];
      const quick = ioAt(columns);
      const code = await main(argv, quick);
      const commander = ioAt(columns);
      const expected = await runProgram(argv, commander);
      expect({ code, stdout: quick.stdout, stderr: quick.stderr }, args.join(" ")).toEqual({ code: expected, stdout: commander.stdout, stderr: commander.stderr });
      expect(quick.stdout + quick.stderr).not.toBe("");
    }
  });

  it("fail as a command does when their output cannot be written, and as commander's own answers do", async () => {
    const full = () =>
      Object.assign(memoryIo(), {
        out: () => {
          throw new Error("ENOSPC: no space left on device, write");
        },
      });
    for (const args of [["--help"], ["--version"]]) {
      const argv = ["node", "selfharness", ...args];
      const quick = full();
      const code = await main(argv, quick);
      const commander = full();
      expect([code, quick.stderr], args.join(" ")).toEqual([await runProgram(argv, commander), commander.stderr]);
      expect([code, quick.stderr]).toEqual([2, "selfharness: ENOSPC: no space left on device, write\n"]);
    }
  });

  it("wraps the command list to the terminal's width", async () => {
    const narrow = ioAt(72);
    await main(["node", "selfharness", "--help"], narrow);
    const lines = narrow.stdout.split("\n");
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(72);
    for (const command of ["ingest", "mine", "propose", "gate"]) expect(narrow.stdout).toMatch(new RegExp(`^  ${command}\\b`, "m"));
  });

  it("leaves commands, unknown words and options, and longer command lines to commander", () => {
    for (const args of [["mine"], ["help", "mine"], ["--help", "mine"], ["mine", "--help"], ["bogus"], ["--bogus"], ["-V", "--help"], ["worker"]]) {
      const io = memoryIo();
      expect(answerTopLevel(["node", "selfharness", ...args], io), args.join(" ")).toBeUndefined();
      expect(io.stdout + io.stderr).toBe("");
    }
  });
});

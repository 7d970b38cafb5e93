import { describe, expect, it } from "vitest";
import { terminalCause, testMessage, verifierScreen, verifierText } from "../../src/mine/verifier.js";
import { terminalText } from "../../src/traces/terminal.js";
import { failing, passing, trial } from "./build.js";

const cause = (fields: Parameters<typeof trial>[0], timedOut = false) => terminalCause(trial(fields), timedOut);

describe("terminalCause", () => {
  it("names a missing output file from an *_exists test or the verifier's wording", () => {
    expect(cause({ task: "a", tests: [failing("test_output_exists")] })).toBe("missing-output-file");
    expect(cause({ task: "b", tests: [failing("test_values", "FileNotFoundError: [Errno 2] No such file or directory: '/app/x.csv'")] })).toBe("missing-output-file");
  });
  it("tells assertion failures from other exceptions, whatever the task's wording", () => {
    expect(cause({ task: "a", tests: [failing("test_a", "AssertionError: File /app/about.md is not in the correct state")] })).toBe("assertion-failed");
    expect(cause({ task: "b", tests: [failing("test_b", "assert 3 == 4")] })).toBe("assertion-failed");
    expect(cause({ task: "c", tests: [failing("test_c", "TypeError: unsupported operand type(s)")] })).toBe("error:TypeError");
  });
  it("falls back to test-failed, timeout and no-verdict-detail", () => {
    expect(cause({ task: "a", tests: [failing("test_a"), passing("test_b")] })).toBe("test-failed");
    expect(cause({ task: "a" }, true)).toBe("timeout");
    expect(cause({ task: "a" })).toBe("no-verdict-detail");
  });
  it("reads the failure lines of a coloured pytest output, not its setup noise", () => {
    const verifierOutput = [
      "Installed 14 packages; rm: cannot remove '/tmp/cache': No such file or directory",
      "\u001b[31mFAILED\u001b[0m ../../tests/test_outputs.py::\u001b[1mtest_about_file\u001b[0m - AssertionError: File /app/about.md is not in the correct state\r",
    ].join("\n");
    const t = trial({ task: "fix-git", tests: [failing("test_about_file")], verifierOutput });
    expect(testMessage(t, t.tests![0]!)).toBe("AssertionError: File /app/about.md is not in the correct state");
    expect(terminalCause(t, false)).toBe("assertion-failed");
    const noTests = trial({ task: "fix-git", verifierOutput });
    expect(verifierText(noTests)).not.toContain("Installed 14 packages");
    expect(terminalCause(noTests, false)).toBe("assertion-failed");
  });
});

describe("verifierScreen", () => {
  it("cleans each trial's own output, asked in turn and asked again after the trial changed", () => {
    const first = trial({ task: "a", verifierOutput: "\u001b[31mFAILED\u001b[0m tests/test_a.py::test_a - AssertionError: one\r" });
    const second = trial({ task: "b", verifierOutput: "\u001b[31mFAILED\u001b[0m tests/test_b.py::test_b - KeyError: 'two'\r" });
    for (const t of [first, second, first, first, second]) expect(verifierScreen(t)).toBe(terminalText(t.verifierOutput!));
    first.verifierOutput = "E   assert 3 == 4";
    expect(verifierScreen(first)).toBe("E   assert 3 == 4");
    expect(verifierText(first)).toBe("E   assert 3 == 4");
    delete first.verifierOutput;
    expect(verifierScreen(first)).toBe("");
  });
});

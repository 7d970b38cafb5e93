import { describe, expect, it } from "vitest";
import { defaultConfig } from "../../src/config/defaults.js";
import { formatProblems, parseConfig } from "../../src/config/load.js";

describe("parseConfig", () => {
  it("fills every default for an empty file", () => {
    const result = parseConfig("");
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.propose.budget).toEqual({ maxFiles: 1, maxChangedLines: 30, maxAddedChars: 3000 });
    expect(result.config.mine).toMatchObject({ minFailures: 2, minTasks: 2 });
    expect(result.config.gate.rule).toBe("statistical");
    expect(result.config.limits.maxOpenPRs).toBe(1);
    // harbor run exits 0 with failed trials: every run that ran to its end is mined by default.
    expect(result.config.eval.conclusions).toEqual(["success", "failure", "timed_out", "neutral"]);
    expect(result.config.regression.approval).toBe("code");
    expect(result.config.dashboard.enabled).toBe(true);
  });

  it("fills the same defaults as a repository without a configuration file gets, each time a copy of its own", () => {
    const empty = parseConfig("");
    expect(empty.ok && empty.config).toEqual(defaultConfig());
    const mine = defaultConfig();
    mine.split.heldOut.push("build-cache");
    mine.gate.sequential.stages[0] = 9;
    expect(defaultConfig().split.heldOut).toEqual([]);
    expect(defaultConfig().gate.sequential.stages).toEqual([1, 2, 2]);
    const again = parseConfig("");
    expect(again.ok && again.config.gate.sequential.stages).toEqual([1, 2, 2]);
  });

  it("keeps the values it is given", () => {
    const result = parseConfig("harness:\n  paths: [prompts/*.md]\n  surfaces:\n    system_prompt: prompts/system.md\ngate:\n  rule: paper\n");
    expect(result.ok && result.config.harness).toEqual({ paths: ["prompts/*.md"], surfaces: { system_prompt: "prompts/system.md" } });
    expect(result.ok && result.config.gate.rule).toBe("paper");
  });

  it("names the file, the key and what was expected", () => {
    const result = parseConfig("propose:\n  budget:\n    maxFiles: zero\n  colour: red\ngate:\n  rule: fancy\n", ".github/selfharness.yml");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const text = formatProblems(result.problems);
    expect(text).toContain(".github/selfharness.yml → propose.budget.maxFiles: Invalid input: expected number, received string");
    expect(text).toContain("propose: unknown key `colour`");
    expect(text).toMatch(/gate\.rule: .*"statistical"\|"paper"/);
  });

  it("bounds the regression sample: 500 preserve and 500 held-out tasks at most", () => {
    expect(parseConfig("regression:\n  preserve: 500\n  maxHeldOut: 500\n").ok).toBe(true);
    const result = parseConfig("regression:\n  preserve: 501\n  maxHeldOut: 100000\n");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const text = formatProblems(result.problems);
    expect(text).toMatch(/regression\.preserve: .*500/);
    expect(text).toMatch(/regression\.maxHeldOut: .*500/);
  });

  it("reports YAML syntax errors with their line", () => {
    const result = parseConfig("harness:\n  paths: [a\nmine: 1\n");
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems[0]!.message).toMatch(/^not valid YAML \(line \d+\)/);
  });

  it("refuses a top level that is not a mapping", () => {
    const result = parseConfig("- harness\n");
    expect(!result.ok && result.problems[0]!.message).toBe("expected a mapping of keys at the top level");
  });
});

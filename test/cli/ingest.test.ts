import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli.js";
import { memoryIo } from "../../src/cli/io.js";
import { writeNested } from "../../src/cli/ingest.js";

const fixtures = resolve(import.meta.dirname, "../../fixtures");

async function run(...args: string[]) {
  const io = memoryIo();
  const code = await main(["node", "selfharness", "ingest", ...args], io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

describe("selfharness ingest", () => {
  it("prints a table of trials and the totals", async () => {
    const { code, stdout, stderr } = await run(resolve(fixtures, "tb1/results/example-bench@0.2.0"));
    expect(code).toBe(0);
    expect(stderr).toBe("");
    const lines = stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^task\s+attempt\s+outcome\s+infra\s+steps\s+tokens$/);
    expect(lines.find((l) => l.startsWith("rotate-logs"))).toMatch(/^rotate-logs\s+1\s+invalid\s+agent-install\s+2\s+0$/);
    expect(lines.find((l) => l.startsWith("count-lines"))).toMatch(/^count-lines\s+1\s+pass\s+3\s+5600$/);
    expect(lines.at(-1)).toBe("4 trials: 1 pass, 1 fail, 2 invalid");
  });

  it("prints { trials, totals, errors } with --json", async () => {
    const { code, stdout } = await run(resolve(fixtures, "harbor"), "--json");
    expect(code).toBe(0);
    const parsed = JSON.parse(stdout) as { trials: { id: string; outcome: string }[]; totals: unknown; errors: unknown[] };
    expect(parsed.totals).toEqual({ trials: 7, pass: 3, fail: 3, invalid: 1 });
    expect(parsed.errors).toEqual([]);
    expect(parsed.trials[0]).toMatchObject({ id: "2026-03-02__10-15-00/build-site__Mn01Op2", outcome: "invalid" });
  });

  it("streams --json byte for byte as the whole document would print, errors and no trials included", async () => {
    const { readTrials, summarizeTrials } = await import("../../src/traces/index.js");
    const example = resolve(import.meta.dirname, "../../examples/terminal-agent/traces");
    const junk = resolve(fixtures, "harbor/jobs/2026-03-02__10-15-00/config.json");
    for (const paths of [[example, junk], [junk]]) {
      const { stdout } = await run(...paths, "--json");
      const { trials, errors } = await readTrials(paths);
      expect(stdout).toBe(`${JSON.stringify({ trials, totals: summarizeTrials(trials), errors }, null, 2)}\n`);
    }
  });

  it("exits 0 with per-file errors on stderr when trials were read", async () => {
    const junk = resolve(fixtures, "harbor/jobs/2026-03-02__10-15-00/config.json");
    const { code, stdout, stderr } = await run(resolve(fixtures, "tb1"), junk, "--json");
    expect(code).toBe(0);
    expect(stderr.trim()).toMatch(new RegExp(`^${junk.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: unrecognised trace format: .*harbor: no verifier_result`));
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(JSON.parse(stdout).totals.trials).toBe(6);
  });

  it("exits 2 when a path does not exist, naming it", async () => {
    const { code, stdout, stderr } = await run(resolve(fixtures, "tb1"), resolve(fixtures, "no-such-folder"), "--json", "--format", "tb1");
    expect(code).toBe(2);
    expect(stderr).toContain(`${resolve(fixtures, "no-such-folder")}: path does not exist`);
    expect(JSON.parse(stdout).errors).toEqual([{ path: resolve(fixtures, "no-such-folder"), message: "path does not exist" }]);
  });

  it("exits 2 with a clear message when nothing could be read", async () => {
    const { code, stderr } = await run(resolve(fixtures, "tb1"), "--format", "harbor");
    expect(code).toBe(2);
    expect(stderr).toContain("selfharness ingest: no trials could be read from the given paths");
  });

  it("rejects an unknown format and documents itself", async () => {
    expect((await run(fixtures, "--format", "langsmith")).code).toBe(2);
    const help = await run("--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--format <format>");
    expect(help.stdout).toContain("Harbor job folders, ATIF trajectories, Terminal-Bench 1 runs");
  });

  it("writes a value in pieces exactly as JSON.stringify prints it nested, holes, undefined and toJSON included", () => {
    let seed = 3;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const leaves = [null, undefined, true, 0, -0, 1.5e21, Number.NaN, "", "é\n\"q\" \u2500\ud83d\ude00", new Date(0), () => 1, Symbol("s")];
    const value = (depth: number): unknown => {
      const kind = depth > 3 ? 0 : Math.floor(next() * 4);
      if (kind === 0) return leaves[Math.floor(next() * leaves.length)];
      const size = Math.floor(next() * 4);
      if (kind === 1) {
        const list: unknown[] = [];
        for (let i = 0; i < size; i++) list[Math.floor(next() * 5)] = value(depth + 1);
        return list;
      }
      return Object.fromEntries(Array.from({ length: size }, (_, i) => [`k${i}${next() < 0.2 ? "\u00e9\"" : ""}`, value(depth + 1)]));
    };
    for (let n = 0; n < 2000; n++) {
      const v = value(0);
      if (v === undefined || typeof v === "function" || typeof v === "symbol") continue;
      for (const depth of [0, 2]) {
        for (const open of [0, 1, 3]) {
          const pieces: string[] = [];
          writeNested(v, depth, open, (piece) => pieces.push(piece));
          expect(pieces.join("")).toBe(JSON.stringify(v, null, 2).replaceAll("\n", `\n${"  ".repeat(depth)}`));
        }
      }
    }
  });
});

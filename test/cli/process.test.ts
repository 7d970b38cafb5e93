/**
 * The CLI as a process, the way people run it: `--help` and `--version` load neither commander nor
 * any layer, output to a file is output to a pipe, and a reader that goes away (`| head`) ends the
 * output quietly.
 */
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const CLI = path.join(ROOT, "test/cli/run-cli.ts");
const traces = path.join(ROOT, "examples/terminal-agent/traces");
const dir = mkdtempSync(path.join(os.tmpdir(), "selfharness-cli-process-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The CLI's modules loaded for `args`, as file paths relative to the repository (packages by name). */
function modulesLoaded(args: string[]): { status: number | null; stdout: string; modules: string[] } {
  const log = path.join(dir, `imports-${args.join("-").replace(/\W+/g, "_")}.txt`);
  const result = spawnSync(process.execPath, ["--import", "tsx", "--import", "./test/cli/import-log.mjs", CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, IMPORT_LOG: log },
    encoding: "utf8",
  });
  const urls = readFileSync(log, "utf8").split("\n").filter((u) => u.startsWith("file:"));
  const modules = [...new Set(urls.map((u) => path.relative(ROOT, fileURLToPath(u)).replace(/^node_modules\/((@[^/]+\/)?[^/]+).*$/, "package $1")))];
  return { status: result.status, stdout: result.stdout, modules };
}

describe("selfharness as a process", () => {
  it("lists every command on --help, and answers --version and nothing at all, without loading commander or any layer", () => {
    const help = modulesLoaded(["--help"]);
    expect(help.status).toBe(0);
    for (const command of ["ingest", "mine", "propose", "gate"]) expect(help.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, "m"));
    for (const args of [["--help"], ["--version"], []]) {
      const { status, modules } = args[0] === "--help" ? help : modulesLoaded(args);
      expect(status).toBe(args.length === 0 ? 2 : 0);
      const heavy = modules.filter((m) => /^(src\/(traces|mine|propose|gate|llm|config|loop)\/|src\/cli\/program\.ts|package (commander|gpt-tokenizer|openai|zod|yauzl|diff))/.test(m));
      expect(heavy, args.join(" ")).toEqual([]);
    }
    // The log does see what a command loads: asking for one command's help loads that command.
    const ingest = modulesLoaded(["ingest", "--help"]);
    expect(ingest.status).toBe(0);
    expect(ingest.modules).toContain("src/traces/index.ts");
    expect(ingest.modules).toContain("package commander");
    expect(ingest.modules).not.toContain("src/gate/decide.ts");
  });

  it("reads traces for ingest without loading the configuration's schema or zod", () => {
    const ingest = modulesLoaded(["ingest", "--json", traces]);
    expect(ingest.status).toBe(0);
    expect(ingest.modules).toContain("src/traces/harbor.ts");
    expect(ingest.modules.filter((m) => /^(src\/config\/(schema|load)\.ts|package zod)$/.test(m))).toEqual([]);
  });

  it("mines without a configuration file without loading the configuration's schema or zod", () => {
    const mine = modulesLoaded(["mine", "--repo", dir, traces]);
    expect(mine.status).toBe(0);
    expect(mine.modules).toContain("src/mine/cluster.ts");
    expect(mine.modules.filter((m) => /^(src\/config\/(schema|load)\.ts|src\/mine\/label\.ts|package (zod|yaml))$/.test(m))).toEqual([]);
  });

  it("prints its version", () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };
    const result = spawnSync(process.execPath, ["--import", "tsx", CLI, "--version"], { cwd: ROOT, encoding: "utf8" });
    expect([result.status, result.stdout.trim()]).toEqual([0, pkg.version]);
  });

  it("writes the same output to a file as to a pipe, and reports a file it cannot write to", () => {
    const piped = spawnSync(process.execPath, ["--import", "tsx", CLI, "ingest", "--json", traces], { cwd: ROOT, encoding: "utf8" });
    expect(piped.status).toBe(0);
    const file = path.join(dir, "trials.json");
    const out = openSync(file, "w");
    const written = spawnSync(process.execPath, ["--import", "tsx", CLI, "ingest", "--json", traces], { cwd: ROOT, stdio: ["ignore", out, "pipe"], encoding: "utf8" });
    closeSync(out);
    expect(written.status).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(piped.stdout);
    expect((JSON.parse(piped.stdout) as { totals: { trials: number } }).totals.trials).toBeGreaterThan(0);
    // Standard output open for reading only: every write fails, and the command says so.
    const readOnly = openSync(file, "r");
    const refused = spawnSync(process.execPath, ["--import", "tsx", CLI, "ingest", "--json", traces], { cwd: ROOT, stdio: ["ignore", readOnly, "pipe"], encoding: "utf8" });
    closeSync(readOnly);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/EBADF/);
  });

  it.skipIf(spawnSync("bash", ["--version"]).status !== 0)("ends quietly when the reader of its output goes away (ingest --json | head)", () => {
    const errors = path.join(dir, "stderr.txt");
    const script = `"$NODE" --import tsx "$CLI" ingest --json "$TRACES" 2> "$ERRORS" | head -c 100 > /dev/null; echo "\${PIPESTATUS[0]}"`;
    const result = spawnSync("bash", ["-c", script], { cwd: ROOT, env: { ...process.env, NODE: process.execPath, CLI, TRACES: traces, ERRORS: errors }, encoding: "utf8" });
    // The JSON is far longer than the pipe holds, so most of it is written after head is gone.
    expect(readFileSync(errors, "utf8")).toBe("");
    expect(result.stdout.trim()).toBe("0");
  });
});

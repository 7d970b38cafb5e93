/**
 * The CLI as `bin/selfharness.cjs` runs it: the bundle `npm run build` makes (scripts/build-cli.ts),
 * built fresh into a folder laid out as an installed package. It answers like the sources, reads
 * trial folders on its worker thread (the worker's entry must sit beside the chunk that starts it),
 * and finds its version; the help and version come from the bin's CommonJS answer alone.
 */
import { spawnSync } from "node:child_process";
import { cp, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { buildCliBundle } from "../../scripts/build-cli.js";
import { main } from "../../src/cli.js";
import { memoryIo } from "../../src/cli/io.js";
import { LOCAL_FIRST } from "../../src/traces/trial-pool.js";
import { largeRun } from "../traces/large-run.js";
import { repoRoot } from "../traces/paths.js";
import { useWorkDir } from "../traces/work-dir.js";

/** Counts the worker threads a process starts, and says how many on its way out. */
const COUNT_WORKERS = `
import { createRequire, syncBuiltinESMExports } from "node:module";
const threads = createRequire(import.meta.url)("node:worker_threads");
let started = 0;
threads.Worker = class extends threads.Worker { constructor(...args) { super(...args); started++; } };
syncBuiltinESMExports();
process.on("exit", () => process.stderr.write("worker threads started: " + started + "\\n"));
`;

async function installed(dir: string): Promise<string> {
  const pkg = join(dir, "package");
  await mkdir(join(pkg, "bin"), { recursive: true });
  await cp(join(repoRoot, "package.json"), join(pkg, "package.json"));
  await cp(join(repoRoot, "bin/selfharness.cjs"), join(pkg, "bin/selfharness.cjs"));
  await buildCliBundle(join(pkg, "dist/bundle"));
  await writeFile(join(dir, "count-workers.mjs"), COUNT_WORKERS);
  return pkg;
}

function runBundle(dir: string, pkg: string, args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ["--import", join(dir, "count-workers.mjs"), join(pkg, "bin/selfharness.cjs"), ...args], { cwd: repoRoot, encoding: "utf8", env: { ...process.env, ...env } });
}

async function fromSources(args: string[]) {
  const io = memoryIo();
  const code = await main(["node", "selfharness", ...args], io);
  return { code, out: io.stdout, err: io.stderr };
}

describe("the CLI's bundle", () => {
  const work = useWorkDir("selfharness-bundle-");

  it("answers as the sources do, reading trial folders on its worker thread, and knows its version", async () => {
    const pkg = await installed(work());
    const run = await largeRun(work(), 12);

    const version = runBundle(work(), pkg, ["--version"]);
    const { version: expected } = JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8")) as { version: string };
    expect([version.status, version.stdout.trim()]).toEqual([0, expected]);

    const mined = runBundle(work(), pkg, ["mine", "--json", run], { SELFHARNESS_READ_WORKERS: "1" });
    expect(mined.status, mined.stderr).toBe(0);
    expect(mined.stderr).toContain("worker threads started: 1");
    const sources = await fromSources(["mine", "--json", run]);
    expect(sources.code).toBe(0);
    expect(mined.stdout.trim()).toBe(sources.out.trim());
    expect((JSON.parse(mined.stdout) as { mined: { trials: number } }).mined.trials).toBeGreaterThan(2 * LOCAL_FIRST);

    // The README's quick start, as a fresh clone runs it.
    const example = resolve(repoRoot, "examples/terminal-agent");
    const quickStart = ["propose", "--repo", example, join(example, "traces")];
    const proposed = runBundle(work(), pkg, quickStart);
    const proposedHere = await fromSources(quickStart);
    expect([proposed.status, proposed.stdout]).toEqual([proposedHere.code, proposedHere.out]);
    expect(proposed.status).toBe(0);
  }, 120_000);

  it("answers the help and the version with top.cjs alone, as the sources do, and says what is missing for a command", async () => {
    const pkg = await installed(work());
    const bundle = join(pkg, "dist/bundle");
    for (const file of await readdir(bundle)) if (file !== "top.cjs") await rm(join(bundle, file));
    for (const args of [["--help"], ["-h"], ["help"], ["--version"], ["-V"], []]) {
      const answer = runBundle(work(), pkg, args);
      const sources = await fromSources(args);
      expect({ code: answer.status, out: answer.stdout, err: answer.stderr.replace(/^worker threads started: 0\n/m, "") }, args.join(" ")).toEqual(sources);
    }
    const mine = runBundle(work(), pkg, ["mine", "."]);
    expect(mine.status).toBe(2);
    expect(mine.stderr).toContain(`${join(bundle, "selfharness.js")} is missing; run \`npm install\``);
  }, 60_000);
});

/**
 * What reading and mining produce on the bundled example and on the real samples, held against a
 * recorded digest: speed and memory work on the readers and the miner must not change a single
 * trial, finding, weakness or evidence packet. The digests hash canonical JSON (keys sorted, paths
 * relative), so they hold in any checkout; the readable part says what moved when one does not.
 *
 * After a change that is meant to alter the output, regenerate with `UPDATE_GOLDEN=1 npx vitest run
 * test/mine/golden.test.ts` and say why in the commit.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { readTrials } from "../../src/traces/index.js";
import { buildEvidence, detectSignals, mineWeaknesses } from "../../src/mine/index.js";
import type { IngestResult } from "../../src/traces/types.js";
import { hasRealTraces, NO_REAL_TRACES, realTraces, repoRoot } from "../traces/paths.js";

const GOLDEN = resolve(repoRoot, "fixtures/golden/reading-and-mining.json");
const update = process.env.UPDATE_GOLDEN === "1";

/** JSON with every object's keys sorted: the same value hashes the same whatever order it was built in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner === null || typeof inner !== "object" || Array.isArray(inner)) return inner;
    return Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  });
}

const digest = (value: unknown) => createHash("sha256").update(canonical(value)).digest("hex").slice(0, 16);

/** Absolute paths become `<repo>` and `<real>`, so the digest does not depend on the checkout's place. */
function relative(read: IngestResult): IngestResult {
  const strip = (p: string) => p.split(realTraces).join("<real>").split(repoRoot).join("<repo>");
  return {
    trials: read.trials.map((t) => ({ ...t, source: { ...t.source, path: strip(t.source.path) } })),
    errors: read.errors.map((e) => ({ path: strip(e.path), message: strip(e.message) })),
  };
}

interface Record {
  trials: number;
  outcomes: string;
  errors: number;
  weaknesses: string[];
  read: string;
  findings: string;
  mined: string;
  minedDefaults: string;
  evidence: string;
}

async function record(paths: string[]): Promise<Record> {
  const read = relative(await readTrials(paths));
  const { trials } = read;
  const outcomes = ["pass", "fail", "invalid"].map((o) => `${o} ${trials.filter((t) => t.outcome === o).length}`).join(", ");
  // Every failure lands in a weakness at 1/1, so every finding and every excerpt is in the digest.
  const everything = mineWeaknesses(trials, { minFailures: 1, minTasks: 1 });
  const defaults = mineWeaknesses(trials);
  const evidence = everything.weaknesses.slice(0, 3).map((w) => buildEvidence(w, trials));
  return {
    trials: trials.length,
    outcomes,
    errors: read.errors.length,
    weaknesses: everything.weaknesses.map((w) => `${w.id} ${w.signature.mechanism} ${w.failures}`),
    read: digest(read),
    findings: digest(trials.map((t) => [t.id, detectSignals(t)])),
    mined: digest(everything),
    minedDefaults: digest(defaults),
    evidence: digest(evidence),
  };
}

const INPUTS: { name: string; paths: string[]; real: boolean }[] = [
  { name: "example", paths: [resolve(repoRoot, "examples/terminal-agent/traces")], real: false },
  ...["tb1-mini-swe-agent", "tb1-leaderboard", "skillsbench-harbor", "skillsbench-harbor-job", "harbor-rfc-examples", "harbor-golden-fixtures-SYNTHETIC", "swe-agent", "inspect-ai"].map((name) => ({
    name,
    paths: [resolve(realTraces, name)],
    real: true,
  })),
];

const golden: { [name: string]: Record } = existsSync(GOLDEN) ? (JSON.parse(readFileSync(GOLDEN, "utf8")) as { [name: string]: Record }) : {};
const produced: { [name: string]: Record } = {};

describe("reading and mining give what they gave before", () => {
  for (const input of INPUTS) {
    const absent = input.real && (!hasRealTraces || !existsSync(input.paths[0]!));
    it.skipIf(absent)(`${input.name}${absent ? ` (${NO_REAL_TRACES})` : ""}`, async () => {
      const now = await record(input.paths);
      produced[input.name] = now;
      if (update) {
        const kept = existsSync(GOLDEN) ? (JSON.parse(readFileSync(GOLDEN, "utf8")) as { [name: string]: Record }) : {};
        writeFileSync(GOLDEN, `${JSON.stringify({ ...kept, [input.name]: now }, null, 2)}\n`);
        return;
      }
      expect(golden[input.name], `no recorded digest for ${input.name}: run with UPDATE_GOLDEN=1`).toBeDefined();
      expect(now).toEqual(golden[input.name]);
    });
  }
});

describe("the mine command, streaming summaries, gives what mining the whole trials gives", () => {
  const everyTask = ["--config", resolve(repoRoot, "fixtures/mine/mine-every-task.yml")];
  const cases: { name: string; args: string[]; paths: string[]; real: boolean }[] = [
    { name: "example, default split", args: [], paths: [resolve(repoRoot, "examples/terminal-agent/traces")], real: false },
    { name: "example, every task", args: everyTask, paths: [resolve(repoRoot, "examples/terminal-agent/traces")], real: false },
    { name: "real Terminal-Bench 1 and Harbor runs, default split", args: [], paths: ["tb1-mini-swe-agent", "tb1-leaderboard", "skillsbench-harbor"].map((n) => resolve(realTraces, n)), real: true },
    { name: "real Terminal-Bench 1 and Harbor runs, every task", args: everyTask, paths: ["tb1-mini-swe-agent", "tb1-leaderboard", "skillsbench-harbor"].map((n) => resolve(realTraces, n)), real: true },
  ];
  for (const c of cases) {
    it.skipIf(c.real && !hasRealTraces)(`${c.name}${c.real && !hasRealTraces ? ` (${NO_REAL_TRACES})` : ""}`, async () => {
      const { main } = await import("../../src/cli.js");
      const { memoryIo } = await import("../../src/cli/io.js");
      const { loadCliConfig } = await import("../../src/cli/options.js");
      const { mineTrials } = await import("../../src/loop/mine.js");
      const io = memoryIo();
      const empty = mkdtempSync(join(tmpdir(), "selfharness-golden-"));
      expect(await main(["node", "selfharness", "mine", "--json", "--repo", empty, ...c.args, ...c.paths], io)).toBe(0);
      const config = await loadCliConfig({ repo: empty, ...(c.args[1] ? { config: c.args[1] } : {}) });
      const { trials } = await readTrials(c.paths);
      const whole = await mineTrials({ config, llm: null, labelCache: new Map() }, trials);
      expect(io.stdout).toBe(`${JSON.stringify(whole.result, null, 2)}\n`);
      // Not a comparison of two empty results: mining every task finds weaknesses in both corpora.
      if (c.args === everyTask) expect(whole.result.weaknesses.length).toBeGreaterThan(0);
    });
  }
});

/**
 * The fuzz budget: no artifact under 50 MB (zip bombs, bombs nested in archives, overlapping
 * entries, a hundred thousand files, huge and deep JSON, endless lines, binary) makes the CLI's
 * process exceed 1 GiB of memory or run past 30 seconds. Each artifact is read by a process of its
 * own, so its peak RSS is measured honestly; the bench (`npm run bench -- fuzz`) reports the figures.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot, runNode } from "../../bench/process.js";
import { MAX_ARTIFACT_BYTES, writeHostileArtifacts, type HostileArtifact } from "./hostile-artifacts.js";

const MAX_RSS_MIB = 1024;
const MAX_SECONDS = 30;
const CLI = join(repoRoot, "test/cli/run-cli.ts");

let dir: string;
let artifacts: HostileArtifact[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "selfharness-fuzz-budget-"));
  artifacts = await writeHostileArtifacts(dir);
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe(`no artifact under ${MAX_ARTIFACT_BYTES / 1024 ** 2} MB takes the process past ${MAX_RSS_MIB} MiB or ${MAX_SECONDS} s`, () => {
  it("holds for every adversarial artifact, read by ingest --json and by mine", async () => {
    expect(artifacts.length).toBeGreaterThanOrEqual(12);
    const over: string[] = [];
    for (const artifact of artifacts) {
      for (const command of [["ingest", "--json"], ["mine"]]) {
        const run = await runNode(["--import", "tsx", CLI, ...command, artifact.file], { allowFailure: true, cwd: repoRoot });
        const what = `${command[0]} ${artifact.name}: exit ${run.status}, ${run.seconds.toFixed(1)} s, ${run.rssMiB.toFixed(0)} MiB`;
        // 0: trials read; 2: nothing readable, said so. Anything else is a crash.
        if (run.status !== 0 && run.status !== 2) over.push(`${what} (crashed)`);
        if (run.rssMiB > MAX_RSS_MIB || run.rssMiB === 0) over.push(`${what} (memory)`);
        if (run.seconds > MAX_SECONDS) over.push(`${what} (time)`);
        if (!(run.cpuSeconds > 0)) over.push(`${what} (no CPU time recorded)`);
      }
    }
    expect(over).toEqual([]);
  }, 20 * 60_000);
});

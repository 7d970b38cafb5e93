/**
 * The fuzz budget as figures: each adversarial artifact under 50 MB (test/e2e/hostile-artifacts.ts)
 * read by `ingest --json` and by `mine`, each in a process of its own; the worst peak RSS and the
 * longest run, against 1 GiB and 30 s, and the figures of the worst artifacts.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { emit } from "../lib.js";
import { ensureBuilt, CLI, runNode, type Run } from "../process.js";
import { writeHostileArtifacts } from "../../test/e2e/hostile-artifacts.js";

const SECTION = "fuzz-budget";
const dir = mkdtempSync(join(tmpdir(), "selfharness-bench-fuzz-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

ensureBuilt();
const artifacts = await writeHostileArtifacts(dir);
const runs: { name: string; command: string; run: Run }[] = [];
for (const artifact of artifacts) {
  for (const command of [["ingest", "--json"], ["mine"]]) {
    runs.push({ name: artifact.name, command: command[0]!, run: await runNode([CLI, ...command, artifact.file], { allowFailure: true }) });
  }
}
const corpus = `${artifacts.length} adversarial artifacts under 50 MB`;
const worstMemory = [...runs].sort((a, b) => b.run.rssMiB - a.run.rssMiB)[0]!;
const worstTime = [...runs].sort((a, b) => b.run.seconds - a.run.seconds)[0]!;
const crashed = runs.filter((r) => r.run.status !== 0 && r.run.status !== 2);
emit({ section: SECTION, figure: "worst peak RSS", value: Math.round(worstMemory.run.rssMiB), unit: "MiB", corpus, note: `target < 1024; ${worstMemory.command} ${worstMemory.name}` });
emit({ section: SECTION, figure: "longest run", value: Math.round(worstTime.run.seconds * 10) / 10, unit: "s", corpus, note: `target < 30; ${worstTime.command} ${worstTime.name}` });
emit({ section: SECTION, figure: "crashed runs", value: crashed.length, unit: "runs", corpus, note: crashed.map((r) => `${r.command} ${r.name}: exit ${r.run.status}`).join("; ") || `of ${runs.length}` });
for (const r of runs.filter((x) => x.command === "ingest")) {
  emit({ section: SECTION, figure: `ingest --json ${r.name}`, value: Math.round(r.run.seconds * 10) / 10, unit: "s", corpus, note: `${Math.round(r.run.rssMiB)} MiB, exit ${r.run.status}` });
}

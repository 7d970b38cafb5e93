/**
 * Adversarial artifacts, each under 50 MB, for the fuzz budget (test/e2e/fuzz-budget.test.ts and
 * `npm run bench -- fuzz`): zip bombs, bombs nested in archives, overlapping entries, a hundred
 * thousand files, huge and deep JSON, endless lines, binary where text belongs. Written once per
 * folder; each is an input a process reads on its own.
 */
import { createDeflateRaw } from "node:zlib";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buildZip, type RawEntry } from "../traces/zip-writer.js";

export const MAX_ARTIFACT_BYTES = 50 * 1024 * 1024;

/** `bytes` zeros, deflated by streaming (a gigabyte never sits in memory). */
async function deflatedZeros(bytes: number): Promise<Buffer> {
  const deflate = createDeflateRaw({ level: 9 });
  const chunks: Buffer[] = [];
  deflate.on("data", (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise((resolve) => deflate.on("end", resolve));
  const block = Buffer.alloc(16 * 1024 * 1024);
  for (let written = 0; written < bytes; written += block.length) {
    if (!deflate.write(block.subarray(0, Math.min(block.length, bytes - written)))) await new Promise((resolve) => deflate.once("drain", resolve));
  }
  deflate.end();
  await done;
  return Buffer.concat(chunks);
}

/** An entry whose data is already deflated (`raw` inflates to `size` bytes of zeros). */
function prepacked(name: string, raw: Buffer, size: number): RawEntry {
  return { name, prepacked: { data: raw, size } };
}

function tb1Trial(n: number, files: Record<string, RawEntry["data"]>): RawEntry[] {
  const dir = `run/task-${n}/task-${n}.1-of-1.run`;
  const entries: RawEntry[] = [{ name: `${dir}/results.json`, data: JSON.stringify({ trial_name: `task-${n}.1-of-1.run`, task_id: `task-${n}`, is_resolved: false, parser_results: { test_a: "failed" } }) }];
  for (const [name, data] of Object.entries(files)) entries.push({ name: `${dir}/${name}`, data, deflate: true });
  return entries;
}

export interface HostileArtifact {
  name: string;
  file: string;
}

/** Writes every adversarial artifact into `dir` and lists them; each stays under 50 MB. */
export async function writeHostileArtifacts(dir: string): Promise<HostileArtifact[]> {
  const artifacts: [string, Buffer][] = [];
  // A gigabyte of zeros deflates to about a megabyte.
  const gigabyte = await deflatedZeros(1024 ** 3);

  // Bombs where readers read: the agent logs of twenty trials, each a gigabyte of zeros.
  const bombs: RawEntry[] = [];
  for (let n = 0; n < 20; n++) {
    bombs.push(...tb1Trial(n, {}));
    bombs.push(prepacked(`run/task-${n}/task-${n}.1-of-1.run/sessions/agent.log`, gigabyte, 1024 ** 3));
  }
  artifacts.push(["zip-bombs.zip", buildZip(bombs)]);

  // The same bombs, one archive nested in another, forty times over.
  const inner = buildZip(bombs.slice(0, 2));
  artifacts.push(["nested-bombs.zip", buildZip(Array.from({ length: 40 }, (_, i) => ({ name: `part-${i}.zip`, data: inner })))]);

  // One entry, ten thousand names: a few KB that would inflate to ten gigabytes.
  const overlapping: RawEntry[] = [{ name: "run/task-0/task-0.1-of-1.run/sessions/tests.log", data: Buffer.alloc(1024 * 1024), deflate: true }];
  for (let i = 0; i < 10_000; i++) overlapping.push({ name: `run/task-${i}/task-${i}.1-of-1.run/sessions/agent.log`, alias: 0 });
  artifacts.push(["overlapping.zip", buildZip(overlapping)]);

  // A hundred thousand small JSON files, and as many junk files.
  artifacts.push(["many-json.zip", buildZip(Array.from({ length: 99_999 }, (_, i) => ({ name: `junk/${i % 100}/f${i}.json`, data: `{"n":${i}}`, deflate: true })))]);
  artifacts.push(["many-junk.zip", buildZip(Array.from({ length: 99_999 }, (_, i) => ({ name: `junk/${i % 100}/f${i}.bin`, data: `${i}` })))]);

  // JSON: 45 MB of long strings (parsed), 43 MB of empty objects and 44 MB of nesting (refused).
  const strings = `{"task_name":"t","trial_name":"t__1","verifier_result":{"rewards":{"reward":0}},"pad":[${`"${"s".repeat(1024 * 1024)}",`.repeat(44)}""]}`;
  // Stored, not deflated: the whole document is parsed (a deflated one this regular is a bomb by its ratio).
  artifacts.push(["huge-json.zip", buildZip([{ name: "jobs/j/t__1/result.json", data: strings }])]);
  artifacts.push(["tiny-values.json", Buffer.from(`[${"{},".repeat(15_000_000)}{}]`)]);
  artifacts.push(["deep.json", Buffer.from(`${"[".repeat(22 * 1024 * 1024)}${"]".repeat(22 * 1024 * 1024)}`)]);
  artifacts.push(["deep-small.json", Buffer.from(`${'{"a":'.repeat(700_000)}1${"}".repeat(700_000)}`)]);

  // Text: endless lines, runs of blanks and carriage returns, escapes, and binary where text belongs.
  const text = (unit: string) => unit.repeat(Math.floor((8 * 1024 * 1024) / unit.length));
  const lines: RawEntry[] = [
    ...tb1Trial(0, { "sessions/agent.log": `root@h:/app# mini -t 'x'\nmini-swe-agent (step 1, $1):\n${text(" ")}x\nUser:\n${text("\r")}x` }),
    ...tb1Trial(1, { "sessions/agent.log": text("\x1b["), "sessions/tests.log": text("a: not found\n"), "commands.txt": `['${text("\\\\")}']` }),
    ...tb1Trial(2, { "panes/post-agent.txt": text("root@h:/a# "), "sessions/tests.log": text("\u2500") }),
    ...tb1Trial(3, { "sessions/agent.log": text("```\n") }),
  ];
  artifacts.push(["long-lines.zip", buildZip(lines)]);
  const random = Buffer.alloc(40 * 1024 * 1024);
  for (let i = 0; i < random.length; i += 4) random.writeUInt32LE((Math.imul(i, 2654435761) ^ (i >>> 7)) >>> 0, i);
  artifacts.push(["binary.zip", buildZip([...tb1Trial(0, {}), { name: "run/task-0/task-0.1-of-1.run/sessions/agent.log", data: random.subarray(0, 30 * 1024 * 1024) }, { name: "run/results.json", data: random.subarray(0, 8 * 1024 * 1024) }])]);
  artifacts.push(["binary.bin", random]);

  const written: HostileArtifact[] = [];
  for (const [name, bytes] of artifacts) {
    if (bytes.length >= MAX_ARTIFACT_BYTES) throw new Error(`${name} is ${bytes.length} bytes, over the 50 MB the budget is stated for`);
    const file = join(dir, name);
    await writeFile(file, bytes);
    written.push({ name, file });
  }
  return written;
}

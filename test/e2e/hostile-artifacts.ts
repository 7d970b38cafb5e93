/**
 * Adversarial artifacts, each under 50 MB, for the fuzz budget (test/e2e/fuzz-budget.test.ts and
 * `npm run bench -- fuzz`): zip bombs, bombs nested in archives, overlapping entries, a hundred
 * thousand files, huge and deep JSON, endless lines, binary where text belongs, and a run folder on
 * the disk whose late trials hold the same (read on the trial pool's workers). Written once per
 * folder; each is an input a process reads on its own.
 */
import { createDeflateRaw } from "node:zlib";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
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

const text = (unit: string) => unit.repeat(Math.floor((8 * 1024 * 1024) / unit.length));

/**
 * The files of four Terminal-Bench 1 trial folders (paths inside the folder): endless lines, runs of
 * blanks and carriage returns, escape floods, backslashes and box-drawing characters, each 8 MB.
 */
function hostileTranscripts(): Record<string, string>[] {
  return [
    { "sessions/agent.log": `root@h:/app# mini -t 'x'\nmini-swe-agent (step 1, $1):\n${text(" ")}x\nUser:\n${text("\r")}x` },
    { "sessions/agent.log": text("\x1b["), "sessions/tests.log": text("a: not found\n"), "commands.txt": `['${text("\\\\")}']` },
    { "panes/post-agent.txt": text("root@h:/a# "), "sessions/tests.log": text("\u2500") },
    { "sessions/agent.log": text("```\n") },
  ];
}

/** `length` bytes that look random (no two words alike), the same on every call. */
function randomBytes(length: number): Buffer {
  const random = Buffer.alloc(length);
  for (let i = 0; i + 4 <= random.length; i += 4) random.writeUInt32LE((Math.imul(i, 2654435761) ^ (i >>> 7)) >>> 0, i);
  return random;
}

/** Writes a trial folder's files (paths inside the folder), making the folders they need. */
export async function writeTrialFiles(dir: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [name, data] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), data);
  }
}

/** The files of five hostile trial folders: the transcripts above, and logs of binary bytes. */
export function hostileTrialFiles(): Record<string, string | Buffer>[] {
  return [...hostileTranscripts(), { "sessions/agent.log": randomBytes(6 * 1024 * 1024), "sessions/tests.log": randomBytes(1024 * 1024) }];
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
  // Deflated, the transcripts expand past the ratio an entry may (a bomb's mark): each is refused and
  // named. The run folder below (writeHostileRun) gives the same text to the parsers.
  artifacts.push(["long-lines.zip", buildZip(hostileTranscripts().flatMap((files, n) => tb1Trial(n, files)))]);
  const random = randomBytes(40 * 1024 * 1024);
  artifacts.push(["binary.zip", buildZip([...tb1Trial(0, {}), { name: "run/task-0/task-0.1-of-1.run/sessions/agent.log", data: random.subarray(0, 30 * 1024 * 1024) }, { name: "run/results.json", data: random.subarray(0, 8 * 1024 * 1024) }])]);
  artifacts.push(["binary.bin", random]);

  const written: HostileArtifact[] = [];
  for (const [name, bytes] of artifacts) {
    if (bytes.length >= MAX_ARTIFACT_BYTES) throw new Error(`${name} is ${bytes.length} bytes, over the 50 MB the budget is stated for`);
    const file = join(dir, name);
    await writeFile(file, bytes);
    written.push({ name, file });
  }
  written.push({ name: "hostile-run/", file: await writeHostileRun(join(dir, "hostile-run")) });
  return written;
}

/**
 * A Terminal-Bench 1 run folder on the disk, as an artifact is once extracted (archives are read on
 * the main thread; the folders of a large run on the trial pool's workers): forty trials, the last
 * five holding the hostile transcripts and binary logs, so that a worker reads them. It takes 88 MB
 * on the disk: the 50 MB bound is for an artifact as it is downloaded, and this is one extracted.
 */
async function writeHostileRun(run: string): Promise<string> {
  const trials = 40;
  const hostile = hostileTrialFiles();
  const results = [];
  for (let n = 0; n < trials; n++) {
    const task = `task-${String(n).padStart(2, "0")}`;
    const record = { trial_name: `${task}.1-of-1.run`, task_id: task, is_resolved: false, parser_results: { test_a: "failed" } };
    results.push(record);
    await writeTrialFiles(join(run, task, record.trial_name), { "results.json": JSON.stringify(record), ...hostile[n - (trials - hostile.length)] });
  }
  await writeFile(join(run, "results.json"), JSON.stringify({ results }));
  return run;
}

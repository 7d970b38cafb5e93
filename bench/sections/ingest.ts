/**
 * `selfharness ingest --json` and `selfharness mine` as whole processes, against a read floor: a
 * script that reads exactly the files the command opened (recorded by a preload) and parses the JSON
 * ones. Generated Terminal-Bench 1 and Harbor corpora sized like real runs (bench/corpus.ts), at 400
 * and 1,600 trials. Each ratio is the median over paired runs (alternating order) of command time
 * over floor time, and the same of CPU time (all threads); peak RSS is the process's own, at 1× and
 * 4× the trials; and the command with its read workers against the same command reading on one
 * thread, which says what the workers buy on the machine at hand. Also the start-up cost of `--help`
 * and `--version` against bare Node, and two properties of the machine the time ratios depend on: how
 * much work its cores do at once against one alone, and what touching fresh memory costs (a page
 * fault: 15 µs on some virtual machines, well under one on a bare machine), with each command's page
 * faults against the floor's.
 *
 * Targets: each ratio <= 1.5; RSS at 4× <= 1.3 × RSS at 1× for both commands; --help, --version < 0.15 s.
 * BENCH_PAIRS sets the pairs per figure (default 5); BENCH_CORPORA=tb1 or harbor runs one corpus,
 * BENCH_SIZES=1x or 4x one size, BENCH_COMMANDS=ingest or mine one command; BENCH_POOL=0 skips the
 * runs on one thread.
 */
import { emit } from "../lib.js";
import { harborCorpus, RUNS, tb1Corpus, TRIALS_PER_RUN, type Corpus } from "../corpus.js";
import { bytesOf, CLI, ensureBuilt, filesOpened, FLOOR, median, paired, runNode, type Run } from "../process.js";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";

const SECTION = "ingest";
const PAIRS = Number(process.env.BENCH_PAIRS) || 5;
const only = (process.env.BENCH_CORPORA ?? "tb1,harbor").split(",");
const sizesWanted = (process.env.BENCH_SIZES ?? "1x,4x").split(",");
const commandsWanted = (process.env.BENCH_COMMANDS ?? "ingest,mine").split(",");
const poolFigure = process.env.BENCH_POOL !== "0";
const manifests = mkdtempSync(join(tmpdir(), "selfharness-bench-manifest-"));
process.on("exit", () => rmSync(manifests, { recursive: true, force: true }));

const COMMANDS: { name: string; args: (paths: string[]) => string[] }[] = [
  { name: "ingest --json", args: (paths) => ["ingest", "--json", ...paths] },
  { name: "mine", args: (paths) => ["mine", ...paths] },
];

const mib = (bytes: number) => bytes / 1024 ** 2;
const cpu = (runs: Run[]) => median(runs.map((r) => r.cpuSeconds));
const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * `--help` and `--version` against bare Node, in rounds that run all three one after the other, so
 * that each figure's note also gives its median difference from bare Node in the same round: the
 * target is absolute, but bare Node's own start-up moves with the machine (0.07 to 0.16 s seen).
 */
async function startup(): Promise<void> {
  const runs = Number(process.env.BENCH_STARTUP_RUNS) || 20;
  const commands = [["-e", "0"], [CLI, "--help"], [CLI, "--version"]];
  const times = commands.map((): number[] => []);
  for (let i = 0; i < runs; i++) {
    for (const [c, args] of commands.entries()) times[c]!.push((await runNode(args, { measured: false })).seconds);
  }
  const [bare, ...flags] = times as [number[], ...number[][]];
  for (const [f, flag] of ["--help", "--version"].entries()) {
    const seconds = flags[f]!;
    const over = median(seconds.map((t, i) => t - bare[i]!));
    const note = `target < 0.15 s; bare node ${round(median(bare), 3)} s; over bare node in the same round ${over >= 0 ? "+" : ""}${round(over * 1000, 0)} ms (median); median of ${runs}`;
    emit({ section: SECTION, figure: `selfharness ${flag}`, value: round(median(seconds), 3), unit: "s", corpus: "-", note });
  }
}

/** A CPU-bound loop that allocates nothing: the same work on each thread. */
const SPIN = "let x = 0; const a = new Float64Array(1 << 16); for (let r = 0; r < 1500; r++) for (let i = 0; i < a.length; i++) { a[i] = a[i] * 1.0000001 + i; x += a[i]; } require('node:worker_threads').parentPort.postMessage(x);";

const spin = (threads: number) => {
  const start = performance.now();
  return Promise.all(Array.from({ length: threads }, () => new Promise((done) => new Worker(SPIN, { eval: true }).once("message", done)))).then(() => (performance.now() - start) / 1000);
};

/**
 * How much work the machine's cores do at once, against one core alone: a machine's cores may share a
 * physical core or a host, and the ratios above depend on it (the CLI reads on a worker thread while
 * its main thread mines; the floor runs on one thread). Two cores that are really two give 2.0.
 */
async function parallelCapacity(): Promise<void> {
  const cores = availableParallelism();
  const runs = 5;
  const ratios: number[] = [];
  for (let i = 0; i < runs; i++) {
    const alone = await spin(1);
    ratios.push((cores * alone) / (await spin(cores)));
  }
  emit({ section: SECTION, figure: "throughput of all cores / one core", value: round(median(ratios)), unit: "x", corpus: "-", note: `${cores} cores, ${cores} threads of the same CPU-bound loop against one alone; ideal ${cores}.0; median of ${runs}, range ${round(Math.min(...ratios))}-${round(Math.max(...ratios))}` });
}

/** Touches 256 MiB of fresh memory, a byte a page, and prints the microseconds a page took. */
const TOUCH = "const pages = 65536; const start = process.hrtime.bigint(); const bytes = new Uint8Array(new ArrayBuffer(pages * 4096)); for (let i = 0; i < bytes.length; i += 4096) bytes[i] = 1; console.log(Number(process.hrtime.bigint() - start) / 1e3 / pages);";

/**
 * What a page of fresh memory costs on this machine. A reader maps memory afresh for each file it
 * reads into a new buffer and for each string over V8's 128 KB large-object size, and the floor does
 * both for every file. Where a fault costs 15 µs instead of well under one, that is most of the
 * floor's time and moves the time ratios (traces/files.ts and traces/json.ts avoid both).
 */
async function pageFaultCost(): Promise<void> {
  const runs = 5;
  const costs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const child = spawnSync(process.execPath, ["-e", TOUCH], { encoding: "utf8" });
    costs.push(Number(child.stdout.trim()));
  }
  emit({ section: SECTION, figure: "cost of touching a fresh page", value: round(median(costs)), unit: "µs", corpus: "-", note: `256 MiB touched a byte a page in a new process; median of ${runs}, range ${round(Math.min(...costs))}-${round(Math.max(...costs))}` });
}

async function measureCorpus(corpus: Corpus): Promise<void> {
  const sizes = [
    { label: "1x", trials: TRIALS_PER_RUN, paths: corpus.one },
    { label: "4x", trials: TRIALS_PER_RUN * RUNS, paths: corpus.four },
  ];
  for (const command of COMMANDS.filter((c) => commandsWanted.some((w) => c.name.startsWith(w)))) {
    const rss: number[] = [];
    for (const size of sizes.filter((s) => sizesWanted.includes(s.label))) {
      const args = [CLI, ...command.args(size.paths)];
      const files = filesOpened(args, join(corpus.one[0]!, "..", ".."));
      const manifest = join(manifests, `${corpus.name}-${size.label}-${command.name.replace(/\W+/g, "_")}.txt`);
      writeFileSync(manifest, files.join("\n"));
      const name = `${corpus.name} ${size.trials} trials`;
      const opened = mib(bytesOf(files));
      const result = await paired(
        () => runNode([FLOOR, manifest]),
        () => runNode(args),
        PAIRS,
      );
      const ratio = median(result.ratios);
      const peak = median(result.b.map((r) => r.rssMiB));
      rss.push(peak);
      emit({
        section: SECTION,
        figure: `${command.name} / read floor`,
        value: round(ratio),
        unit: "x",
        corpus: name,
        note: `target <= 1.5; ${round(median(result.b.map((r) => r.seconds)))} s vs ${round(median(result.a.map((r) => r.seconds)))} s; ${files.length} files, ${round(opened, 0)} MiB opened; median of ${PAIRS} pairs`,
      });
      // The work itself, whatever the cores: CPU time of every thread (workers, the compiler's and the
      // collector's threads included) over the floor's. No target; it shows what more cores could buy.
      emit({
        section: SECTION,
        figure: `${command.name} CPU / read floor CPU`,
        value: round(median(result.a.map((floor, i) => result.b[i]!.cpuSeconds / floor.cpuSeconds))),
        unit: "x",
        corpus: name,
        note: `${round(cpu(result.b))} s vs ${round(cpu(result.a))} s of CPU, all threads; ${availableParallelism()} cores; median of ${PAIRS} pairs`,
      });
      emit({ section: SECTION, figure: `${command.name} peak RSS`, value: round(peak, 0), unit: "MiB", corpus: name, note: `floor ${round(median(result.a.map((r) => r.rssMiB)), 0)} MiB` });
      emit({
        section: SECTION,
        figure: `${command.name} page faults / read floor's`,
        value: round(median(result.a.map((floor, i) => result.b[i]!.pageFaults / floor.pageFaults))),
        unit: "x",
        corpus: name,
        note: `${round(median(result.b.map((r) => r.pageFaults)), 0)} vs ${round(median(result.a.map((r) => r.pageFaults)), 0)} minor faults; no target; median of ${PAIRS} pairs`,
      });
      if (!poolFigure) continue;
      // What the read workers buy on this machine: the same command reading on its main thread alone
      // (SELFHARNESS_READ_WORKERS=0) against the default. Under 1, the workers pay for themselves.
      const pool = await paired(
        () => runNode(args, { env: { SELFHARNESS_READ_WORKERS: "0" } }),
        () => runNode(args),
        PAIRS,
      );
      emit({
        section: SECTION,
        figure: `${command.name} with read workers / on one thread`,
        value: round(median(pool.ratios)),
        unit: "x",
        corpus: name,
        note: `${round(median(pool.b.map((r) => r.seconds)))} s vs ${round(median(pool.a.map((r) => r.seconds)))} s; no target; median of ${PAIRS} pairs`,
      });
    }
    if (rss.length === 2) emit({ section: SECTION, figure: `${command.name} peak RSS 4x / 1x`, value: round(rss[1]! / rss[0]!), unit: "x", corpus: `${corpus.name} ${TRIALS_PER_RUN * RUNS} vs ${TRIALS_PER_RUN} trials`, note: "target <= 1.3" });
  }
}

ensureBuilt();
if (process.env.BENCH_STARTUP !== "0") await startup();
await parallelCapacity();
await pageFaultCost();
if (only.includes("tb1")) await measureCorpus(tb1Corpus());
if (only.includes("harbor")) await measureCorpus(harborCorpus());

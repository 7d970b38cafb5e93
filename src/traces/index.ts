import { stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, sep } from "node:path";
import { atifFromValue, type AtifTrajectory } from "./atif.js";
import {
  classifyFolder,
  describeDeclines,
  detectFile,
  isArchiveFile,
  isCandidateFile,
  isSegmentName,
  looksLikeTrace,
  mayHoldResults,
  RESULT_KINDS,
  Survey,
  type FileKind,
  type FolderEntries,
  type InputFormat,
} from "./detect.js";
import { readDocument, type JsonDocument } from "./documents.js";
import { listFolder, readHead, type Read } from "./files.js";
import { inArchive, mount, mountPoint, unmount } from "./mount.js";
import { readHarborJob, readLoneHarborTrial, type TrialOrError } from "./harbor.js";
import { withoutVerdict, type ReadContext, type ResultsFile } from "./judge.js";
import { readMiniSweAgent } from "./mini-swe-agent.js";
import { trialNamesOf } from "./naming.js";
import { readGeminiCli } from "./gemini-cli.js";
import { readInspectEvalFolder, readInspectJson } from "./inspect.js";
import { openHandsRuns, readOpenHandsRun } from "./openhands.js";
import { readOtel, traceResultVerdicts } from "./otel.js";
import { readSweAgent } from "./swe-agent.js";
import { sweBenchVerdicts } from "./swe-bench.js";
import { readLoneTb1Trial, readTb1Run } from "./tb1.js";
import { readTerminusEpisodes } from "./terminus.js";
import { InputBudget } from "./budget.js";
import { boundTrial } from "./bound.js";
import { breathe } from "./pace.js";
import type { ReadLimits } from "./limits.js";
import { isZipBytes, READABLE_EXTENSIONS, ZipArchive, type ZipLimits } from "./zip.js";
import type { IngestError, IngestResult, IngestTotals, Step, Trial, TraceFormat } from "./types.js";

export type { InputFormat } from "./detect.js";
export type { IngestError, IngestResult, IngestTotals, Outcome, Step, TestResult, ToolCall, Trial, TraceFormat } from "./types.js";
export { decideVerdict, type VerdictEvidence } from "./verdict.js";
export { readAtifTrajectory, type AtifTrajectory } from "./atif.js";
export { readHarborJob, readHarborTrial } from "./harbor.js";
export { readTb1Run, readTb1Trial } from "./tb1.js";
export { extractZip, isZipBytes, DEFAULT_ZIP_LIMITS, type ZipLimits, type ExtractResult } from "./zip.js";
export { DEFAULT_READ_LIMITS, type ReadLimits } from "./limits.js";

export interface ReadOptions {
  format?: InputFormat;
  /** Caps on archives; the total bytes and entries hold for each input as a whole, nested archives included. */
  zipLimits?: Partial<ZipLimits>;
  /** Trials and seconds each input may take. */
  limits?: Partial<ReadLimits>;
}

export function isIngestError(item: Trial | IngestError): item is IngestError {
  return !("id" in item);
}

const MAX_DEPTH = 32;
const MAX_NESTED_ZIPS = 2;

/** Everything a walk carries down the tree. */
interface Walk {
  format: InputFormat;
  /** The input's one allowance of entries, bytes, trials and time, shared by its nested archives. */
  budget: InputBudget;
  zipDepth: number;
  /** Results files in reach (SWE-bench reports, trace results): named on the command line, then found beside or above the current folder. */
  reports: ResultsFile[];
  /** Every results file found during this input's walk, to say which judged nothing. */
  found: ResultsFile[];
  survey: Survey;
  /** How a path of this walk is named to the user: inside an archive, by its place in the archive. */
  shown: (path: string) => string;
}

/** Files of one folder already read as part of another (ATIF continuation and subagent segments). */
type Consumed = Set<string>;

/** Maps a path inside an extraction folder back to the archive it came from (`artifact.zip!/job/...`). */
function archivePath(path: string, root: string, archive: string): string {
  if (path === root) return `${archive}!`;
  if (!path.startsWith(root + sep)) return path;
  return `${archive}!/${path.slice(root.length + 1).split(sep).join("/")}`;
}

/** A trial from a trajectory of its own (no verifier beside it): named after the file, judged by nothing. */
function loneTrial(file: string, format: TraceFormat, steps: Step[], why: string): Trial {
  const { run, trial: name } = trialNamesOf(file);
  return { id: `${run}/${name}`, run, task: name.split("__")[0] ?? name, attempt: 1, steps, source: { format, path: file }, ...withoutVerdict(steps, why) };
}

function atifTrial(file: string, trajectory: AtifTrajectory): Trial {
  const trial = loneTrial(file, "atif", trajectory.steps, "trajectory without a verifier result");
  if (trajectory.agent) trial.agent = trajectory.agent;
  if (trajectory.model) trial.model = trajectory.model;
  if (trajectory.tokens) trial.tokens = trajectory.tokens;
  return trial;
}

type FileReader = (doc: JsonDocument, file: string, context: ReadContext, consumed: Consumed) => AsyncGenerator<TrialOrError>;

/** The single JSON value of a document the sniffer already checked the shape of. */
function value<T = Record<string, unknown>>(doc: JsonDocument): T {
  return (doc.kind === "json" ? doc.value : doc.values) as T;
}

/** Readers of files taken by content (`detectFile`); results files are taken before any of these run. */
const FILE_READERS: Record<Exclude<FileKind, "swe-bench-report" | "trace-results">, FileReader> = {
  async *atif(doc, file, _context, consumed) {
    const trajectory = await atifFromValue(value(doc), file);
    for (const f of trajectory.files) consumed.add(f);
    yield* trajectory.problems;
    yield atifTrial(file, trajectory);
  },
  async *"terminus-2"(doc, file) {
    const run = readTerminusEpisodes(value<unknown[]>(doc));
    const trial = loneTrial(file, "terminus-2", run.steps, "an episode list without a verifier result");
    if (run.instruction) trial.instruction = run.instruction;
    if (run.stopReason) trial.stopReason = run.stopReason;
    yield trial;
  },
  async *"mini-swe-agent"(doc, file, context) {
    yield readMiniSweAgent(value(doc), file, context);
  },
  async *"swe-agent"(doc, file, context) {
    yield readSweAgent(value(doc), file, context);
  },
  async *openhands(doc, file, context) {
    for (const run of openHandsRuns(doc)) yield readOpenHandsRun(run, file, context);
  },
  async *"gemini-cli"(doc, file) {
    yield readGeminiCli(doc, file);
  },
  async *"inspect-ai"(doc, file) {
    yield* readInspectJson(value(doc), file);
  },
  async *otel(doc, file, context) {
    yield* readOtel(doc, file, context);
  },
  async *"harbor-trial-result"(doc, file) {
    const { trial, errors } = await readLoneHarborTrial(dirname(file), value(doc));
    yield* errors;
    yield trial;
  },
  async *"harbor-job-result"(doc, file) {
    yield* readHarborJob(dirname(file), value(doc));
  },
  async *"tb1-run-results"(doc, file) {
    yield* readTb1Run(dirname(file), value(doc));
  },
  async *"tb1-trial-results"(doc, file) {
    const { trial, errors } = await readLoneTb1Trial(dirname(file), value(doc));
    yield* errors;
    yield trial;
  },
};

function asResults(kind: FileKind, doc: JsonDocument, path: string): ResultsFile {
  return kind === "swe-bench-report"
    ? { path, label: "SWE-bench report", verdicts: sweBenchVerdicts(value(doc)), used: 0 }
    : { path, label: "trace results file", verdicts: traceResultVerdicts(doc), used: 0 };
}

/**
 * Reads one file by its content. `explicit` files (named on the command line) get every reader and
 * an error when none takes them; in a folder walk a file no reader takes is something else, kept
 * only for the explanation of an input that yields nothing.
 */
async function* readFile(file: string, walk: Walk, explicit: boolean, consumed: Consumed): AsyncGenerator<TrialOrError> {
  const read = await readDocument(file);
  if (!read.ok) {
    if (explicit) yield { path: file, message: `not a zip archive and not readable JSON: ${read.message}` };
    else if (looksLikeTrace(basename(file))) yield { path: file, message: read.message };
    else walk.survey.declined(walk.shown(file), read.message);
    return;
  }
  const detection = detectFile(read.value, walk.format, explicit);
  if ("declined" in detection) {
    const why = describeDeclines(detection.declined);
    if (explicit) yield { path: file, message: `unrecognised trace format${walk.format === "auto" ? "" : ` for --format ${walk.format}`}: ${why}` };
    else walk.survey.declined(walk.shown(file), why);
    return;
  }
  if (RESULT_KINDS.has(detection.kind)) {
    // Results files are taken before the trajectories; one met only here judges nothing read earlier.
    if (!walk.found.some((r) => r.path === file)) walk.found.push(asResults(detection.kind, read.value, file));
    return;
  }
  const doc = read.value;
  if (doc.kind === "jsonl" && doc.badLines.length > 0) yield { path: file, message: `line${doc.badLines.length === 1 ? "" : "s"} ${doc.badLines.join(", ")} not a JSON object; skipped` };
  yield* FILE_READERS[detection.kind as keyof typeof FILE_READERS](doc, file, { reports: walk.reports }, consumed);
}

/** Nested archives are read from memory: past this size one is not read. */
const NESTED_ARCHIVE_BYTES = 128 * 1024 * 1024;

/** The bytes of an archive inside an archive, within the artifact's caps. */
async function nestedArchive(file: string): Promise<Read<Buffer>> {
  const mounted = inArchive(file)!;
  const entry = mounted.archive.file(mounted.path);
  if (!entry) return { ok: false, message: "not a file in its archive" };
  if (entry.size > NESTED_ARCHIVE_BYTES) return { ok: false, message: `nested archive of ${entry.size} bytes, more than the ${NESTED_ARCHIVE_BYTES} read; not read` };
  try {
    return { ok: true, value: await mounted.archive.read(entry) };
  } catch (error) {
    return { ok: false, message: `cannot read: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** Reads a zip in place (see ZipArchive), as a folder named after it, with the input's one budget. */
async function* readZip(file: string, walk: Walk): AsyncGenerator<TrialOrError> {
  if (walk.zipDepth >= MAX_NESTED_ZIPS) {
    yield { path: file, message: `zip nested more than ${MAX_NESTED_ZIPS} levels deep; not read` };
    return;
  }
  let source: string | Buffer = file;
  if (inArchive(file)) {
    const bytes = await nestedArchive(file);
    if (!bytes.ok) {
      yield { path: file, message: bytes.message };
      return;
    }
    source = bytes.value;
  }
  const opened = await ZipArchive.open(source, file, walk.budget.zipLimits, walk.budget.spent);
  yield* opened.errors;
  const archive = opened.archive;
  if (!archive) return;
  if (archive.files.length === 0) {
    archive.close();
    if (opened.errors.length === 0) yield { path: file, message: `none of the archive's ${opened.skipped} entries is a file any reader opens (${READABLE_EXTENSIONS}); not read` };
    return;
  }
  // The folder is named after the archive: an artifact zipped from inside a job keeps the job's name.
  const root = mountPoint(tmpdir(), basename(file).replace(/\.zip$/i, "") || "artifact");
  mount(root, archive);
  try {
    const shown = (path: string) => walk.shown(archivePath(path, root, file));
    for await (const item of walkFolder(root, { ...walk, zipDepth: walk.zipDepth + 1, shown }, 0)) {
      if (isIngestError(item)) yield { path: archivePath(item.path, root, file), message: item.message };
      else {
        item.source.path = archivePath(item.source.path, root, file);
        yield item;
      }
    }
  } finally {
    unmount(root);
    archive.close();
  }
}

/** Results files among a folder's files: read first, so they judge the trajectories beside and below them. */
async function reportsIn(dir: string, names: string[], walk: Walk): Promise<ResultsFile[]> {
  const reports: ResultsFile[] = [];
  for (const name of names) {
    const path = join(dir, name);
    if (!(await mayHoldResults(path))) continue;
    const read = await readDocument(path);
    if (!read.ok) continue;
    const detection = detectFile(read.value, walk.format, false);
    if ("kind" in detection && RESULT_KINDS.has(detection.kind)) reports.push(asResults(detection.kind, read.value, path));
  }
  return reports;
}

async function* walkFolder(dir: string, walk: Walk, depth: number): AsyncGenerator<TrialOrError> {
  // Out of time or bytes: the input's reader says so once (streamTrials); every folder below stops here.
  if (walk.budget.stopped) return;
  if (depth > MAX_DEPTH) {
    yield { path: dir, message: `folders nested more than ${MAX_DEPTH} levels deep; not read` };
    return;
  }
  const listed = await listFolder(dir);
  if (!listed.ok) {
    yield { path: dir, message: `cannot list folder: ${listed.message}` };
    return;
  }
  // Symbolic links are never followed: an artifact must not reach outside itself.
  const entries: FolderEntries = { files: new Set(listed.value.files), dirs: new Set(listed.value.dirs) };
  walk.survey.folder(entries);
  const kind = await classifyFolder(dir, entries, walk.format);
  switch (kind.kind) {
    case "harbor-job":
      yield* readHarborJob(dir, kind.result);
      return;
    case "harbor-trial": {
      const { trial, errors } = await readLoneHarborTrial(dir, kind.result);
      yield* errors;
      yield trial;
      return;
    }
    case "tb1-run":
      yield* readTb1Run(dir, kind.results);
      return;
    case "tb1-trial": {
      const { trial, errors } = await readLoneTb1Trial(dir, kind.results);
      yield* errors;
      yield trial;
      return;
    }
    case "inspect-eval":
      yield* readInspectEvalFolder(dir, kind.header);
      return;
    case "folder":
  }
  const candidates = [...entries.files]
    .filter(isCandidateFile)
    .sort((a, b) => Number(isSegmentName(a)) - Number(isSegmentName(b)) || a.localeCompare(b));
  const reports = await reportsIn(dir, candidates, walk);
  walk.found.push(...reports);
  const here: Walk = reports.length > 0 ? { ...walk, reports: [...walk.reports, ...reports] } : walk;
  const consumed: Consumed = new Set(reports.map((r) => r.path));
  let problemTaken = false;
  for (const name of candidates) {
    await breathe();
    if (walk.budget.stopped) return;
    const path = join(dir, name);
    if (consumed.has(path)) continue;
    let produced = false;
    for await (const item of readFile(path, here, false, consumed)) {
      produced = true;
      yield item;
    }
    if (produced && kind.problem?.path === path) problemTaken = true;
  }
  if (kind.problem && !problemTaken) yield kind.problem;
  for (const name of [...entries.files].filter(isArchiveFile).sort()) yield* readZip(join(dir, name), here);
  for (const name of [...entries.dirs].sort()) yield* walkFolder(join(dir, name), here, depth + 1);
}

async function* readSingleFile(file: string, walk: Walk): AsyncGenerator<TrialOrError> {
  const head = await readHead(file, 4);
  if (head && isZipBytes(head)) {
    yield* readZip(file, walk);
    return;
  }
  yield* readFile(file, walk, true, new Set());
}

/** Results files named on the command line judge every input; they are read before anything else. */
async function explicitReports(paths: string[], format: InputFormat): Promise<ResultsFile[]> {
  const reports: ResultsFile[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile() || !(await mayHoldResults(path))) continue;
    const read = await readDocument(path);
    if (!read.ok) continue;
    const detection = detectFile(read.value, format, true);
    if ("kind" in detection && RESULT_KINDS.has(detection.kind)) reports.push(asResults(detection.kind, read.value, path));
  }
  return reports;
}

/**
 * Streams trials (and per-file errors) from folders, files and zip archives without holding the
 * corpus in memory. Each trial id (`<run>/<trial name>`) is produced once; a second trial with the same
 * id is reported as an error instead. An input that yields no trial says what it found and why every
 * reader declined it.
 */
export async function* streamTrials(paths: string[], options: ReadOptions = {}): AsyncGenerator<Trial | IngestError> {
  const format = options.format ?? "auto";
  const seen = new Map<string, string>();
  const named = await explicitReports(paths, format);
  const reports = new Set(named.map((r) => r.path));
  const found: ResultsFile[] = [...named];
  for (const path of paths) {
    if (reports.has(path)) continue;
    const budget = new InputBudget(options.limits, options.zipLimits);
    const walk: Walk = { format, budget, zipDepth: 0, reports: named, found: [], survey: new Survey(), shown: (p) => p };
    let info;
    try {
      info = await stat(path);
    } catch {
      yield { path, message: "path does not exist" };
      continue;
    }
    const items = info.isDirectory() ? walkFolder(path, walk, 0) : readSingleFile(path, walk);
    let trials = 0;
    let errors = 0;
    let stopped = false;
    for await (const item of items) {
      if (isIngestError(item)) {
        errors++;
        yield item;
      } else if (!budget.takeTrial()) {
        // Leaving the loop ends the readers below (their clean-up runs): nothing more of this input is read.
        yield { path, message: budget.trialMessage() };
        stopped = true;
        break;
      } else {
        trials++;
        const earlier = seen.get(item.id);
        if (earlier !== undefined) yield { path: item.source.path, message: `duplicate trial id ${item.id} (already read from ${earlier}); skipped` };
        else {
          seen.set(item.id, item.source.path);
          yield boundTrial(item);
        }
      }
      await breathe();
      if (budget.stopped) break;
    }
    if (!stopped && budget.stopped) {
      yield { path, message: budget.stopMessage(trials) };
      stopped = true;
    }
    found.push(...walk.found);
    if (stopped) continue;
    const isFolderInput = info.isDirectory() || isArchiveFile(path);
    if (trials === 0 && (isFolderInput || errors === 0)) yield { path, message: walk.survey.explain(format) };
  }
  for (const report of found) {
    if (report.used === 0) {
      yield { path: report.path, message: `${report.label} of ${report.verdicts.size} entries judged no trial: no trajectory beside it or below it (or anywhere, when named on the command line) is one of its entries` };
    }
  }
}

/** Reads every trial under `paths`; never throws for bad content (per-file errors are in `errors`). */
export async function readTrials(paths: string[], options: ReadOptions = {}): Promise<IngestResult> {
  const result: IngestResult = { trials: [], errors: [] };
  for await (const item of streamTrials(paths, options)) {
    if (isIngestError(item)) result.errors.push(item);
    else result.trials.push(item);
  }
  return result;
}

export function summarizeTrials(trials: Trial[]): IngestTotals {
  const totals: IngestTotals = { trials: trials.length, pass: 0, fail: 0, invalid: 0 };
  for (const trial of trials) totals[trial.outcome]++;
  return totals;
}

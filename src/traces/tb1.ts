import { isAscii } from "node:buffer";
import { basename, dirname, join } from "node:path";
import { asNumber, asString, isRecord, listFolder, readJsonFile, readTextBytes, readTextFile, secondsBetween, textOfBytes } from "./files.js";
import { boundSteps, clip, clippedTail, clipTail, INSTRUCTION_LIMIT, VERIFIER_TAIL_LIMIT } from "./limits.js";
import { agentLaunchExecutable, instructionFromCommands, stepsFromCommands, stepsFromPane } from "./transcript.js";
import { readAgentLog, type AgentLog } from "./agent-log.js";
import { terminalText } from "./terminal.js";
import { inOrder, READ_AHEAD } from "./concurrency.js";
import { readTrialJob } from "./trial-pool.js";
import { decideVerdict, type VerdictEvidence } from "./verdict.js";
import type { IngestError, Step, TestResult, Trial } from "./types.js";
import type { TrialOrError } from "./harbor.js";

/** A TB1 run-level results.json: `results[]` holds every trial's verdict. */
export function isTb1RunResults(value: unknown): value is Record<string, unknown> {
  return isRecord(value) && Array.isArray(value.results);
}

/** A TB1 trial results.json, old shape (`uuid`) or new (`id`, timestamps). */
export function isTb1TrialResults(value: unknown): value is Record<string, unknown> {
  return isRecord(value) && ("is_resolved" in value || "parser_results" in value || ("trial_name" in value && "task_id" in value));
}

/** Attempt number from a trial name like `fix-git.3-of-5` or `hello-world.1-of-1.2025-08-07__20-46-16`. */
export function attemptFromTrialName(name: string): number {
  const match = /\.(\d+)-of-\d+(?:\.|$)/.exec(name);
  return match ? Number(match[1]) : 1;
}

export interface Tb1RunInfo {
  run: string;
  agent?: string;
  model?: string;
}

function testsFromParserResults(value: unknown): TestResult[] | undefined {
  if (!isRecord(value)) return undefined;
  return Object.entries(value).map(([key, status]) => {
    // Terminal-Bench's pytest parser sometimes keys a failure as "test_name - AssertionError: message".
    const split = /^(\S+) - (.+)$/s.exec(key);
    const test: TestResult = {
      name: split ? split[1]! : key,
      status: status === "passed" ? "passed" : status === "failed" ? "failed" : "skipped",
    };
    if (split) test.message = split[2]!;
    return test;
  });
}

async function readRunInfo(runDir: string, errors: IngestError[]): Promise<Tb1RunInfo> {
  const info: Tb1RunInfo = { run: basename(runDir) };
  const path = join(runDir, "run_metadata.json");
  const read = await readJsonFile(path, 16 * 1024 * 1024);
  if (read.ok && isRecord(read.value)) {
    const agent = asString(read.value.agent_name);
    const model = asString(read.value.model_name);
    if (agent) info.agent = agent;
    if (model) info.model = model;
  } else if (!read.ok && !/ENOENT/.test(read.message)) errors.push({ path, message: read.message });
  else if (read.ok) errors.push({ path, message: "not a JSON object" });
  return info;
}

/**
 * Builds a trial from a TB1 results record plus whatever its folder holds (transcripts, test logs);
 * a file of the folder that is there but cannot be read goes to the folder's `errors`.
 */
async function buildTb1Trial(record: Record<string, unknown>, info: Tb1RunInfo, sourcePath: string, folder?: { dir: string; errors: IngestError[] }): Promise<Trial> {
  const dir = folder?.dir;
  const trialName = asString(record.trial_name) ?? (dir ? basename(dir) : "unknown-trial");
  const task = asString(record.task_id) ?? (dir ? basename(dirname(dir)) : trialName.split(".")[0]!);
  const resolved = record.is_resolved;
  const reward = resolved === true ? 1 : resolved === false ? 0 : null;
  const tests = testsFromParserResults(record.parser_results);
  const mode = asString(record.failure_mode);
  const inputTokens = asNumber(record.total_input_tokens);
  const outputTokens = asNumber(record.total_output_tokens);

  let steps: Step[] = [];
  let paneText: string | undefined;
  let commandsText: string | undefined;
  let testLog: { tail: string; whole: string | Buffer } | undefined;
  let log: AgentLog | undefined;
  let launch: string | undefined;
  if (folder) {
    const { dir, errors } = folder;
    // Read together: the files of one trial are independent, and the disk serves them at once. Each
    // read's errors are kept apart and told in this order, not in the order the reads ended.
    const failed: IngestError[][] = [[], [], []];
    const [commands, tests, agentLog] = await Promise.all([
      readTextFile(join(dir, "commands.txt"), failed[0]!),
      readTextBytes(join(dir, "sessions", "tests.log"), failed[1]!).then((bytes) => bytes ?? readTextBytes(join(dir, "panes", "post-test.txt"), failed[1]!)),
      readTextBytes(join(dir, "sessions", "agent.log"), failed[2]!),
    ]);
    errors.push(...failed.flat());
    commandsText = commands;
    testLog = tests && verifierLog(tests);
    launch = commandsText ? agentLaunchExecutable(commandsText) : undefined;
    if (agentLog !== undefined) log = readAgentLog(agentLog, launch);
    // The pane's last screen is read only when the agent's own log does not give its steps.
    if (!log || log.kind === "unknown") paneText = await readTextFile(join(dir, "panes", "post-agent.txt"), errors);
    // A known agent's own log is its steps. An unknown agent's log is read as a shell session, and so
    // is the pane (the last screen only): whichever shows more of the agent's commands wins;
    // commands.txt is the fallback when neither holds a prompt.
    if (log && log.kind !== "unknown") steps = log.steps;
    else {
      const agentSteps = (list: Step[]) => list.filter((s) => s.source === "agent").length;
      const fromPane = paneText ? stepsFromPane(terminalText(paneText)) : [];
      steps = log && agentSteps(log.steps) > agentSteps(fromPane) ? log.steps : fromPane;
      if (steps.length === 0 && commandsText) steps = stepsFromCommands(commandsText);
    }
    steps = boundSteps(steps, (index, text) => ({ index, source: "system", text }));
  }
  const trial: Trial = {
    id: `${info.run}/${trialName}`,
    run: info.run,
    task,
    attempt: attemptFromTrialName(trialName),
    outcome: "fail",
    reward,
    steps,
    source: { format: "tb1", path: sourcePath },
  };
  if (tests) trial.tests = tests;
  if (mode && mode !== "unset" && mode !== "none") trial.failureMode = mode;
  if (testLog) trial.verifierOutput = testLog.tail;
  if (info.agent) trial.agent = info.agent;
  if (info.model) trial.model = info.model;
  if (inputTokens !== undefined || outputTokens !== undefined) {
    trial.tokens = {};
    if (inputTokens !== undefined) trial.tokens.input = inputTokens;
    if (outputTokens !== undefined) trial.tokens.output = outputTokens;
  }
  const instruction = asString(record.instruction) ?? (commandsText ? instructionFromCommands(commandsText) : undefined);
  if (instruction?.trim()) trial.instruction = clip(instruction.trim(), INSTRUCTION_LIMIT);
  const agentSeconds = secondsBetween(record.agent_started_at, record.agent_ended_at);
  if (agentSeconds !== undefined) trial.duration = { agentSeconds };
  const stopReason = log?.submitted ? "submitted" : log?.stopReason ?? (trial.failureMode === "agent_timeout" ? "timeout" : undefined);
  if (stopReason) trial.stopReason = stopReason;

  const evidence: VerdictEvidence = { reward };
  if (tests) evidence.tests = tests;
  if (trial.failureMode) evidence.failureMode = trial.failureMode;
  if (trial.tokens) evidence.tokens = trial.tokens;
  if (info.agent) evidence.agentName = info.agent;
  // What the agent's install and start-up printed, never the agent's own work (its errors are its own).
  const agentOutput = log ? `${log.preamble}\n${log.startup}` : paneText;
  if (agentOutput !== undefined) evidence.agentOutput = agentOutput;
  if (testLog) evidence.verifierOutput = testLog.whole;
  if (launch) evidence.agentCommand = launch;
  if (log) {
    evidence.agentActed = steps.some((s) => s.source === "agent");
    if (launch && log.kind !== "unknown") evidence.agentStart = { launched: log.launched, ...(log.stopReason && !evidence.agentActed ? { crash: log.stopReason } : {}) };
    else if (launch && !log.launched) evidence.agentStart = { launched: false };
    // The harness typed the install but never a launch: the install did not finish in its time.
    else if (!launch && commandsText?.includes("install-agent") && !evidence.agentActed) evidence.agentStart = { launched: false };
    const ended = log.providerErrors.find((e) => e.final);
    if (ended) evidence.providerError = ended.line;
  }
  if (steps.some(leftPackageManagerRunning)) evidence.agentLeftPackageLock = true;
  const verdict = decideVerdict(evidence);
  trial.outcome = verdict.outcome;
  trial.reward = verdict.reward;
  if (verdict.infra) trial.infra = verdict.infra;
  return trial;
}

/**
 * The verifier's log as the trial keeps it (its tail) and as the verdict searches it (the whole).
 * Most logs are ASCII: their bytes are searched as they are, and only the tail is decoded (a log is
 * hundreds of KB, most of which no one reads); any other is decoded whole.
 */
function verifierLog(bytes: Buffer): { tail: string; whole: string | Buffer } {
  if (isAscii(bytes) && !bytes.includes(0)) {
    const tail = bytes.toString("latin1", Math.max(0, bytes.length - VERIFIER_TAIL_LIMIT));
    return { tail: clippedTail(bytes.length, tail, VERIFIER_TAIL_LIMIT), whole: bytes };
  }
  const text = textOfBytes(bytes);
  return { tail: clipTail(text, VERIFIER_TAIL_LIMIT), whole: text };
}

/** A package manager the agent started that was still running when the command returned (killed at a timeout, or backgrounded). */
function leftPackageManagerRunning(step: Step, index: number, steps: Step[]): boolean {
  const command = step.calls?.map((c) => c.command ?? "").join("\n") ?? "";
  if (step.source !== "agent" || !/\b(?:apt|apt-get|dpkg)\b/.test(command)) return false;
  const result = steps[index + 1]?.source === "tool" ? steps[index + 1] : step;
  return result?.timedOut === true || command.split("\n").some(backgroundsPackageManager);
}

/**
 * A command line whose last part is a package manager sent to the background (`apt-get install x &`).
 * Cut at the last separator rather than by one regex: `\bapt\b[^&|;]*&\s*$` retried from every
 * "apt" of a hostile line takes quadratic time.
 */
export function backgroundsPackageManager(line: string): boolean {
  const trimmed = line.trimEnd();
  if (!trimmed.endsWith("&") || trimmed.endsWith("&&")) return false;
  const body = trimmed.slice(0, -1);
  const start = Math.max(body.lastIndexOf("&"), body.lastIndexOf("|"), body.lastIndexOf(";")) + 1;
  return /\b(?:apt|apt-get|dpkg)\b/.test(body.slice(start));
}

/** Reads one TB1 trial folder (`<task>/<trial>/results.json`); `runRecord` is its run-level entry, if any. */
export async function readTb1Trial(
  dir: string,
  info: Tb1RunInfo,
  runRecord?: Record<string, unknown>,
  parsed?: Record<string, unknown>,
): Promise<{ trial: Trial; errors: IngestError[]; brokenRecord: boolean }> {
  const errors: IngestError[] = [];
  const path = join(dir, "results.json");
  let record = parsed;
  if (!record) {
    const read = await readJsonFile(path);
    if (read.ok && isTb1TrialResults(read.value)) record = read.value;
    else errors.push({ path, message: read.ok ? "not a Terminal-Bench trial results.json (no is_resolved / parser_results)" : read.message });
  }
  // The folder's own file wins; the run-level entry fills in when it is broken. With neither, the trial
  // still counts, as invalid (no verdict), so a corrupt artifact cannot hide a trial.
  const merged = record ?? runRecord ?? {};
  return { trial: await buildTb1Trial(merged, info, dir, { dir, errors }), errors, brokenRecord: record === undefined };
}

/** Folders below a run that hold a trial results.json (normally `<task>/<trial>/`). */
async function* trialDirs(dir: string, depth: number): AsyncGenerator<string> {
  const listed = await listFolder(dir);
  if (!listed.ok) return;
  for (const name of listed.value.dirs.sort()) {
    const sub = join(dir, name);
    const inner = await listFolder(sub);
    if (!inner.ok) continue;
    if (inner.value.files.includes("results.json") && depth > 0) yield sub;
    else if (depth < 3) yield* trialDirs(sub, depth + 1);
  }
}

/**
 * Reads a TB1 run folder: the run-level results.json lists every trial's verdict, trial folders add
 * transcripts. Each trial is produced once, keyed by trial name. `run` is the run folder's name.
 */
export async function* readTb1Run(runDir: string, runResults?: Record<string, unknown>): AsyncGenerator<TrialOrError> {
  const errors: IngestError[] = [];
  const info = await readRunInfo(runDir, errors);
  yield* errors;
  const listed = new Map<string, Record<string, unknown>>();
  const resultsPath = join(runDir, "results.json");
  let results = runResults;
  if (!results) {
    const read = await readJsonFile(resultsPath);
    if (read.ok && isTb1RunResults(read.value)) results = read.value;
    else if (!read.ok && !/ENOENT/.test(read.message)) yield { path: resultsPath, message: read.message };
    else if (read.ok) yield { path: resultsPath, message: "not a Terminal-Bench run results.json (no results array)" };
  }
  for (const [index, entry] of (Array.isArray(results?.results) ? results.results : []).entries()) {
    const name = isRecord(entry) ? asString(entry.trial_name) : undefined;
    if (name && isRecord(entry)) listed.set(name, entry);
    else yield { path: resultsPath, message: `results[${index}] ${isRecord(entry) ? "has no trial_name" : "is not an object"}; skipped` };
  }
  // A few trials are read at once; one whose own results.json is broken is rebuilt in its turn from
  // the run's entry, which earlier trials may have claimed.
  const read = inOrder(trialDirs(runDir, 0), READ_AHEAD, async (dir) => ({ dir, ...(await readTrialJob({ reader: "tb1", dir, info }, () => readTb1Trial(dir, info))) }));
  for await (const own of read) {
    const name = basename(own.dir);
    const runRecord = own.brokenRecord ? listed.get(name) : undefined;
    const { trial, errors: trialErrors } = runRecord ? await readTb1Trial(own.dir, info, runRecord) : own;
    yield* trialErrors;
    listed.delete(name);
    listed.delete(trial.id.slice(info.run.length + 1));
    yield trial;
  }
  for (const record of listed.values()) yield await buildTb1Trial(record, info, resultsPath);
}

/** A TB1 trial folder found outside any run folder: run = the folder two levels up. */
export function readLoneTb1Trial(dir: string, parsed?: Record<string, unknown>): Promise<{ trial: Trial; errors: IngestError[] }> {
  return readTb1Trial(dir, { run: basename(dirname(dirname(dir))) }, undefined, parsed);
}

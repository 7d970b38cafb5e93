import { basename, dirname, join } from "node:path";
import { atifFromValue, declineAtif } from "./atif.js";
import { asNumber, asString, isRecord, listFolder, readJsonFile, readTextFile, secondsBetween } from "./files.js";
import { clip, clipTail, INSTRUCTION_LIMIT, TEST_MESSAGE_LIMIT, VERIFIER_TAIL_LIMIT } from "./limits.js";
import { declineTerminusEpisodes, readTerminusEpisodes, terminusInstruction } from "./terminus.js";
import { inOrder, READ_AHEAD } from "./concurrency.js";
import { readTrialJob } from "./trial-pool.js";
import { decideVerdict, type VerdictEvidence } from "./verdict.js";
import type { IngestError, Step, TestResult, Trial } from "./types.js";

export type TrialOrError = Trial | IngestError;

/** A Harbor trial `result.json` (or a `trial_results[]` entry of a job result). */
export function isHarborTrialResult(value: unknown): value is Record<string, unknown> {
  return isRecord(value) && ("verifier_result" in value || "trial_name" in value || "agent_result" in value || "task_name" in value);
}

/**
 * A Harbor job `result.json`: finished (`stats` with `n_trials`/`evals`) or in progress
 * (`trial_results`). An Inspect AI log also has `stats` (timings and model usage) but its `eval`
 * object gives it away.
 */
export function isHarborJobResult(value: unknown): value is Record<string, unknown> {
  if (!isRecord(value) || isRecord(value.eval) || isHarborTrialResult(value)) return false;
  const record: Record<string, unknown> = value;
  const stats = isRecord(record.stats) ? record.stats : undefined;
  return "n_total_trials" in record || Array.isArray(record.trial_results) || (stats !== undefined && ("n_trials" in stats || "evals" in stats));
}

/** The reward from `verifier_result.rewards`: `reward` when present, else the first numeric value. */
function rewardFromResult(result: Record<string, unknown>): number | undefined {
  const verifier = result.verifier_result;
  if (!isRecord(verifier)) return undefined;
  const rewards = verifier.rewards;
  if (!isRecord(rewards)) return asNumber(verifier.reward);
  const main = asNumber(rewards.reward);
  if (main !== undefined) return main;
  for (const value of Object.values(rewards)) {
    const n = asNumber(value);
    if (n !== undefined) return n;
  }
  return undefined;
}

function ctrfStatus(status: unknown): TestResult["status"] {
  return status === "passed" ? "passed" : status === "failed" ? "failed" : "skipped";
}

/** Tests from a CTRF report (`results.tests[]`). */
function testsFromCtrf(value: unknown): TestResult[] | undefined {
  const results = isRecord(value) && isRecord(value.results) ? value.results : undefined;
  if (!results || !Array.isArray(results.tests)) return undefined;
  return results.tests.filter(isRecord).map((test) => {
    const out: TestResult = { name: asString(test.name) ?? "(unnamed test)", status: ctrfStatus(test.status) };
    const message = asString(test.message) ?? asString(test.trace);
    if (message && out.status === "failed") out.message = clip(message, TEST_MESSAGE_LIMIT);
    return out;
  });
}

function firstWord(command: string | undefined): string | undefined {
  const word = command?.trim().split(/\s+/)[0];
  return word ? word.split("/").pop() : undefined;
}

async function verifierFiles(dir: string, errors: IngestError[]): Promise<{ reward?: number; tests?: TestResult[]; output?: string }> {
  const verifier = join(dir, "verifier");
  const out: { reward?: number; tests?: TestResult[]; output?: string } = {};
  const rewardText = await readTextFile(join(verifier, "reward.txt"), errors, 4096);
  if (rewardText !== undefined) {
    const n = asNumber(rewardText);
    if (n !== undefined) out.reward = n;
    else if (rewardText.trim() !== "") errors.push({ path: join(verifier, "reward.txt"), message: "reward is not a number" });
  }
  if (out.reward === undefined) {
    const rewardJson = await readJsonFile(join(verifier, "reward.json"), 1024 * 1024);
    if (rewardJson.ok) {
      const n = isRecord(rewardJson.value) ? asNumber(rewardJson.value.reward) ?? Object.values(rewardJson.value).map(asNumber).find((v) => v !== undefined) : asNumber(rewardJson.value);
      if (n !== undefined) out.reward = n;
    } else if (!/ENOENT/.test(rewardJson.message)) errors.push({ path: join(verifier, "reward.json"), message: rewardJson.message });
  }
  const ctrf = await readJsonFile(join(verifier, "ctrf.json"));
  if (ctrf.ok) {
    const tests = testsFromCtrf(ctrf.value);
    if (tests) out.tests = tests;
    else errors.push({ path: join(verifier, "ctrf.json"), message: "not a CTRF report (no results.tests array)" });
  } else if (!/ENOENT/.test(ctrf.message)) errors.push({ path: join(verifier, "ctrf.json"), message: ctrf.message });
  const stdout = await readTextFile(join(verifier, "test-stdout.txt"), errors);
  if (stdout !== undefined) out.output = stdout;
  return out;
}

/** What a trial's `agent/trajectory.json` holds: an ATIF trajectory or a Terminus-2 episode list. */
interface TrialTrajectory {
  steps: Step[];
  agent?: string;
  model?: string;
  tokens?: Trial["tokens"];
  instruction?: string;
  stopReason?: string;
  problems: IngestError[];
}

/** The instruction as the agent received it: the first user step, without a Terminus prompt template around it. */
function instructionOf(steps: Step[]): string | undefined {
  const text = steps.find((s) => s.source === "user")?.text;
  if (!text) return undefined;
  return terminusInstruction(text) ?? text;
}

async function readTrialTrajectory(path: string): Promise<TrialTrajectory> {
  const read = await readJsonFile(path);
  if (!read.ok) return { steps: [], problems: /ENOENT/.test(read.message) ? [] : [{ path, message: read.message }] };
  const atifDeclined = declineAtif(read.value);
  if (atifDeclined === undefined) {
    const atif = await atifFromValue(read.value as Record<string, unknown>, path);
    const out: TrialTrajectory = { steps: atif.steps, problems: atif.problems };
    if (atif.agent) out.agent = atif.agent;
    if (atif.model) out.model = atif.model;
    if (atif.tokens) out.tokens = atif.tokens;
    const instruction = instructionOf(atif.steps);
    if (instruction) out.instruction = instruction;
    return out;
  }
  const terminusDeclined = declineTerminusEpisodes(read.value);
  if (terminusDeclined === undefined) {
    const run = readTerminusEpisodes(read.value as unknown[]);
    const out: TrialTrajectory = { steps: run.steps, problems: [] };
    if (run.skipped.length > 0) out.problems.push({ path, message: `episodes ${run.skipped.slice(0, 10).join(", ")} are not {episode, prompt, response} objects; skipped` });
    if (run.instruction) out.instruction = run.instruction;
    if (run.stopReason) out.stopReason = run.stopReason;
    return out;
  }
  return { steps: [], problems: [{ path, message: `neither an ATIF trajectory (${atifDeclined}) nor a Terminus-2 episode list (${terminusDeclined})` }] };
}

/**
 * The agent's time against its limit. Harbor 0.1.x records `agent_execution.{started_at,finished_at}`;
 * the limit is the task's `agent.timeout_sec` (not in result.json) unless the job overrode it
 * (`config.agent.override_timeout_sec` or `max_timeout_sec`, times `timeout_multiplier`), and an
 * AgentTimeoutError names it ("Agent execution timed out after 900.0 seconds").
 */
function durationOf(result: Record<string, unknown>, exceptionMessage: string | undefined): Trial["duration"] {
  const execution = isRecord(result.agent_execution) ? result.agent_execution : undefined;
  const agentSeconds = execution ? secondsBetween(execution.started_at, execution.finished_at) : undefined;
  const config = isRecord(result.config) ? result.config : undefined;
  const agent = config && isRecord(config.agent) ? config.agent : undefined;
  const multiplier = asNumber(config?.timeout_multiplier) ?? 1;
  const override = asNumber(agent?.override_timeout_sec) ?? asNumber(agent?.max_timeout_sec);
  const stated = /timed out after (\d+(?:\.\d+)?) seconds/.exec(exceptionMessage ?? "")?.[1];
  const limitSeconds = stated !== undefined ? Number(stated) : override !== undefined ? override * multiplier : undefined;
  if (agentSeconds === undefined && limitSeconds === undefined) return undefined;
  return { ...(agentSeconds !== undefined ? { agentSeconds } : {}), ...(limitSeconds !== undefined ? { limitSeconds } : {}) };
}

/** Why the run ended: Harbor's exception when it raised one, else the agent returned by itself. */
function stopReasonOf(exceptionType: string | undefined, exceptionMessage: string | undefined, ranAgent: boolean): string | undefined {
  if (exceptionType === "AgentTimeoutError") return "timeout";
  if (exceptionType) {
    const first = exceptionMessage?.split("\n").find((l) => l.trim())?.trim().slice(0, 160);
    return first ? `${exceptionType}: ${first}` : exceptionType;
  }
  return ranAgent ? "finished" : undefined;
}

export interface HarborTrialInput {
  dir: string;
  run: string;
  attempt: number;
  /** The trial's result.json, already parsed by the caller, or its `trial_results[]` entry. */
  result?: Record<string, unknown>;
}

/**
 * Reads one Harbor trial folder (`<task>__<id>/`): result.json, verifier files and the trajectory
 * (ATIF, or a Terminus-2 episode list).
 * Per-file problems go to `errors`; the trial is still returned whenever its folder exists.
 */
export async function readHarborTrial(input: HarborTrialInput): Promise<{ trial: Trial; errors: IngestError[] }> {
  const { dir, run } = input;
  const errors: IngestError[] = [];
  let result = input.result;
  let unreadable: string | undefined;
  if (!result) {
    const resultPath = join(dir, "result.json");
    const read = await readJsonFile(resultPath);
    if (read.ok && isRecord(read.value)) result = read.value;
    else {
      unreadable = read.ok ? "result.json is not a JSON object" : `result.json: ${read.message}`;
      if (!(read.ok === false && /ENOENT/.test(read.message))) errors.push({ path: resultPath, message: read.ok ? "not a JSON object" : read.message });
    }
  }
  result ??= {};
  const folder = basename(dir);
  const trialName = asString(result.trial_name) ?? folder;
  const task = asString(result.task_name) ?? trialName.split("__")[0] ?? trialName;

  const files = await verifierFiles(dir, errors);
  const reward = rewardFromResult(result) ?? files.reward ?? null;

  const exceptionInfo = isRecord(result.exception_info) ? result.exception_info : undefined;
  const exceptionType = exceptionInfo ? asString(exceptionInfo.exception_type) : undefined;
  const agentResult = isRecord(result.agent_result) ? result.agent_result : undefined;
  const input_tokens = agentResult ? asNumber(agentResult.n_input_tokens) : undefined;
  const output_tokens = agentResult ? asNumber(agentResult.n_output_tokens) : undefined;
  const agentInfo = isRecord(result.agent_info) ? result.agent_info : undefined;
  const config = isRecord(result.config) && isRecord(result.config.agent) ? result.config.agent : undefined;

  const trajectory = await readTrialTrajectory(join(dir, "agent", "trajectory.json"));
  errors.push(...trajectory.problems);
  const { steps } = trajectory;

  const trial: Trial = {
    id: `${run}/${trialName}`,
    run,
    task,
    attempt: input.attempt,
    outcome: "fail",
    reward,
    steps,
    source: { format: "harbor", path: dir },
  };
  if (files.tests) trial.tests = files.tests;
  if (files.output !== undefined) trial.verifierOutput = clipTail(files.output, VERIFIER_TAIL_LIMIT);
  if (exceptionType) trial.failureMode = exceptionType;
  const agent = (agentInfo && asString(agentInfo.name)) ?? (config && asString(config.name)) ?? trajectory.agent;
  const modelInfo = agentInfo && isRecord(agentInfo.model_info) ? agentInfo.model_info : undefined;
  const model = (config && asString(config.model_name)) ?? (modelInfo && asString(modelInfo.name)) ?? trajectory.model;
  if (agent) trial.agent = agent;
  if (model) trial.model = model;
  const exceptionMessage = asString(exceptionInfo?.exception_message);
  if (trajectory.instruction?.trim()) trial.instruction = clip(trajectory.instruction.trim(), INSTRUCTION_LIMIT);
  const duration = durationOf(result, exceptionMessage);
  if (duration) trial.duration = duration;
  // Harbor's exception says why a run was cut short; otherwise the agent's own last word (Terminus-2's task_complete).
  const stopReason = exceptionType ? stopReasonOf(exceptionType, exceptionMessage, true) : (trajectory.stopReason ?? stopReasonOf(undefined, undefined, isRecord(result.agent_execution)));
  if (stopReason) trial.stopReason = stopReason;
  const checksum = asString(result.task_checksum);
  if (checksum) trial.taskChecksum = checksum;
  if (input_tokens !== undefined || output_tokens !== undefined) {
    trial.tokens = {};
    if (input_tokens !== undefined) trial.tokens.input = input_tokens;
    if (output_tokens !== undefined) trial.tokens.output = output_tokens;
  } else if (trajectory.tokens) trial.tokens = trajectory.tokens;

  const evidence: VerdictEvidence = { reward, verifierOutput: files.output ?? "" };
  if (files.tests) evidence.tests = files.tests;
  if (exceptionType) {
    evidence.failureMode = exceptionType;
    evidence.exception = { type: exceptionType };
    if (exceptionMessage) evidence.exception.message = exceptionMessage;
  }
  if (trial.tokens) evidence.tokens = trial.tokens;
  if (agent) evidence.agentName = agent;
  evidence.agentActed = steps.some((s) => s.source === "agent");
  if (!evidence.agentActed) {
    // Only an agent that left no trajectory may have never started: look at what its install and launch printed.
    const setup = (await readTextFile(join(dir, "agent", "setup", "stdout.txt"), errors)) ?? "";
    const launch = (await readTextFile(join(dir, "agent", "command-0", "stdout.txt"), errors)) ?? "";
    evidence.agentOutput = `${setup}\n${launch}`;
    const command = firstWord(await readTextFile(join(dir, "agent", "command-0", "command.txt"), errors, 4096));
    if (command) evidence.agentCommand = command;
  }
  const verdict = unreadable && reward === null && !files.tests
    ? { outcome: "invalid" as const, reward, infra: { kind: "unreadable", detail: unreadable } }
    : decideVerdict(evidence);
  trial.outcome = verdict.outcome;
  trial.reward = verdict.reward;
  if (verdict.infra) trial.infra = verdict.infra;
  return { trial, errors };
}

/** Trial folders of a job, in a stable order, with attempt numbers per task. */
async function trialFolders(jobDir: string): Promise<{ name: string; attempt: number }[]> {
  const listed = await listFolder(jobDir);
  if (!listed.ok) return [];
  const names = listed.value.dirs.sort();
  const seen = new Map<string, number>();
  return names.map((name) => {
    const task = name.split("__")[0] ?? name;
    const attempt = (seen.get(task) ?? 0) + 1;
    seen.set(task, attempt);
    return { name, attempt };
  });
}

async function isTrialFolder(dir: string): Promise<boolean> {
  const listed = await listFolder(dir);
  return listed.ok && (listed.value.files.includes("result.json") || listed.value.dirs.includes("verifier") || listed.value.dirs.includes("agent"));
}

/**
 * Reads a Harbor job folder: every trial folder, plus trials the job's `trial_results` lists without a
 * folder (in-progress shape). `run` is the job folder's name.
 */
export async function* readHarborJob(jobDir: string, jobResult?: Record<string, unknown>): AsyncGenerator<TrialOrError> {
  const run = basename(jobDir);
  const listed = new Map<string, Record<string, unknown>>();
  for (const [index, entry] of (Array.isArray(jobResult?.trial_results) ? jobResult.trial_results : []).entries()) {
    if (isRecord(entry)) listed.set(asString(entry.trial_name) ?? `trial-${listed.size + 1}`, entry);
    else yield { path: join(jobDir, "result.json"), message: `trial_results[${index}] is not an object; skipped` };
  }
  const attempts = new Map<string, number>();
  // A few trial folders are read at once, yielded in order.
  const read = inOrder(await trialFolders(jobDir), READ_AHEAD, async ({ name, attempt }) => {
    const dir = join(jobDir, name);
    return { name, attempt, read: (await isTrialFolder(dir)) ? await readTrialJob({ reader: "harbor", dir, input: { dir, run, attempt } }, () => readHarborTrial({ dir, run, attempt })) : undefined };
  });
  for await (const { name, attempt, read: trialRead } of read) {
    if (!trialRead) continue;
    const { trial, errors } = trialRead;
    listed.delete(name);
    listed.delete(trial.id.slice(run.length + 1));
    attempts.set(trial.task, Math.max(attempts.get(trial.task) ?? 0, attempt));
    yield* errors;
    yield trial;
  }
  for (const [name, entry] of listed) {
    const task = asString(entry.task_name) ?? name.split("__")[0] ?? name;
    const attempt = (attempts.get(task) ?? 0) + 1;
    attempts.set(task, attempt);
    const { trial, errors } = await readHarborTrial({ dir: join(jobDir, name), run, attempt, result: entry });
    trial.source.path = join(jobDir, "result.json");
    yield* errors;
    yield trial;
  }
}

/** Reads a lone Harbor trial folder (its job folder has no result.json): run = parent folder name. */
export function readLoneHarborTrial(dir: string, result?: Record<string, unknown>): Promise<{ trial: Trial; errors: IngestError[] }> {
  const input: HarborTrialInput = { dir, run: basename(dirname(dir)), attempt: 1 };
  if (result) input.result = result;
  return readHarborTrial(input);
}

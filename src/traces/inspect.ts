/**
 * Inspect AI evaluation logs: the `.json` `EvalLog` (`version`, `status`, `eval`, `plan`, `results`,
 * `stats`, `samples`) and the `.eval` zip, read from its extracted folder (`header.json` or
 * `_journal/start.json`, `samples/<id>_epoch_<n>.json`). Follows inspect_ai's log/_log.py
 * (`EvalSample`: `messages`, `scores`, `error`, `limit {type, limit}`, `model_usage`,
 * `working_time`, `attachments`) and log/_recorders/eval.py, as written by inspect_ai 0.3.95.
 *
 * Each sample is a trial (its epoch the attempt). Its score decides: C/correct/yes/true and 1 pass,
 * I/incorrect/P/partial/N/no-answer and anything below 1 fail, with the scorer's explanation as the
 * verifier's message; an errored sample, or one the eval was cancelled before scoring, is invalid.
 */
import { basename, join } from "node:path";
import { toCall } from "./calls.js";
import { stepsFromTurns, turnsOf, type ChatTurn } from "./chat.js";
import type { JsonDocument } from "./documents.js";
import { asNumber, asString, isRecord, listFolder, readJsonFile } from "./files.js";
import { gradeValue } from "./grades.js";
import { withoutVerdict } from "./judge.js";
import { clip, clipTail, TEST_MESSAGE_LIMIT, TEXT_LIMIT, VERIFIER_TAIL_LIMIT } from "./limits.js";
import { namePart } from "./naming.js";
import type { TrialOrError } from "./harbor.js";
import { decideVerdict } from "./verdict.js";
import type { IngestError, TestResult, Trial } from "./types.js";

/** Why `value` is not an Inspect AI log (or log header), or undefined when it is one. */
export function declineInspectLog(value: unknown): string | undefined {
  if (!isRecord(value)) return "not a JSON object";
  if (!isRecord(value.eval)) return "no eval object";
  if (typeof value.eval.task !== "string") return "an eval object without a task name";
  if (!("status" in value) && !("version" in value) && !("samples" in value)) return "no status, version or samples";
  return undefined;
}

export function declineInspectDocument(doc: JsonDocument): string | undefined {
  return doc.kind === "json" ? declineInspectLog(doc.value) : "JSON Lines, not one log";
}

/** What the log says about every sample in it. */
interface LogContext {
  run: string;
  path: string;
  task: string;
  status?: string;
  logError?: string;
  model?: string;
  agent?: string;
  scorers: string[];
  limitSeconds?: number;
}

function logContext(header: Record<string, unknown>, run: string, path: string): LogContext {
  const spec = isRecord(header.eval) ? header.eval : {};
  const config = isRecord(spec.config) ? spec.config : {};
  const plan = isRecord(header.plan) ? header.plan : {};
  const planSteps = Array.isArray(plan.steps) ? plan.steps.filter(isRecord) : [];
  const context: LogContext = {
    run,
    path,
    task: asString(spec.task) ?? "task",
    scorers: (Array.isArray(spec.scorers) ? spec.scorers : []).flatMap((s) => (isRecord(s) && typeof s.name === "string" ? [s.name] : [])),
  };
  const status = asString(header.status);
  if (status) context.status = status;
  const error = isRecord(header.error) ? asString(header.error.message) : undefined;
  if (error) context.logError = error;
  const model = asString(spec.model);
  if (model) context.model = model;
  const agent = asString(spec.solver) ?? asString(planSteps.at(-1)?.solver);
  if (agent) context.agent = agent;
  const limit = asNumber(config.working_limit) ?? asNumber(config.time_limit);
  if (limit !== undefined) context.limitSeconds = limit;
  return context;
}

/** Inspect stores long strings once, as `attachment://<hash>` references into the sample's attachments. */
function resolver(attachments: unknown): (text: string) => string {
  const table = isRecord(attachments) ? attachments : {};
  return (text) => {
    if (!text.startsWith("attachment://")) return text;
    return asString(table[text.slice("attachment://".length)]) ?? text;
  };
}

function contentOf(content: unknown, resolve: (text: string) => string): string {
  if (typeof content === "string") return resolve(content);
  if (!Array.isArray(content)) return "";
  return content
    .map((part) => {
      if (typeof part === "string") return resolve(part);
      if (!isRecord(part)) return "";
      if (part.type === "text") return resolve(asString(part.text) ?? "");
      if (part.type === "reasoning") {
        const reasoning = asString(part.reasoning) ?? asString(part.summary);
        return reasoning ? `[reasoning] ${resolve(reasoning)}` : "";
      }
      return typeof part.type === "string" ? `[${part.type}]` : "";
    })
    .filter((t) => t !== "")
    .join("\n");
}

function messageTurns(message: unknown, resolve: (text: string) => string): ChatTurn[] {
  if (!isRecord(message)) return [];
  const text = contentOf(message.content, resolve);
  switch (message.role) {
    case "system":
      return text ? [{ role: "system", text }] : [];
    case "user":
      return text ? [{ role: "user", text }] : [];
    case "assistant": {
      const turn: ChatTurn = { role: "assistant", text };
      const calls = Array.isArray(message.tool_calls) ? message.tool_calls.filter(isRecord) : [];
      if (calls.length > 0) {
        turn.calls = calls.map((c) => ({ call: toCall(asString(c.function) ?? "tool", c.arguments), ...(typeof c.id === "string" ? { id: c.id } : {}) }));
        const parseError = calls.map((c) => asString(c.parse_error)).find(Boolean);
        if (parseError) turn.error = `tool call did not parse: ${parseError}`;
      }
      return [turn];
    }
    case "tool": {
      const turn: ChatTurn = { role: "tool", output: text };
      if (typeof message.tool_call_id === "string") turn.callId = message.tool_call_id;
      const error = isRecord(message.error) ? asString(message.error.message) ?? asString(message.error.type) : undefined;
      if (error) turn.error = error;
      return [turn];
    }
    default:
      return [];
  }
}

function describeValue(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value)?.slice(0, 200) ?? String(value);
}

/** The sample's scores as tests (one per scorer) and the reward of the main scorer (the log's first). */
function scoresOf(scores: Record<string, unknown>, order: string[], resolve: (text: string) => string): { reward: number | null; tests: TestResult[]; message: string } {
  const names = [...order.filter((n) => n in scores), ...Object.keys(scores).filter((n) => !order.includes(n))];
  const tests: TestResult[] = [];
  let reward: number | null = null;
  let message = "";
  for (const [i, name] of names.slice(0, 50).entries()) {
    const score = scores[name];
    if (!isRecord(score)) continue;
    const value = gradeValue(score.value);
    const explanation = asString(score.explanation);
    const answer = asString(score.answer);
    const test: TestResult = { name: clip(name, 200), status: value === undefined ? "skipped" : value >= 1 ? "passed" : "failed" };
    if (explanation && test.status === "failed") test.message = clip(resolve(explanation), TEST_MESSAGE_LIMIT);
    tests.push(test);
    if (i === 0) {
      reward = value ?? null;
      message = [`${name}: ${describeValue(score.value)}`, answer !== undefined && `answer: ${resolve(answer)}`, explanation && `explanation: ${resolve(explanation)}`].filter(Boolean).join("\n");
    }
  }
  return { reward, tests, message };
}

function tokensOf(usage: unknown): Trial["tokens"] {
  if (!isRecord(usage)) return undefined;
  let input = 0;
  let output = 0;
  let seen = false;
  for (const entry of Object.values(usage)) {
    if (!isRecord(entry)) continue;
    input += asNumber(entry.input_tokens) ?? 0;
    output += asNumber(entry.output_tokens) ?? 0;
    seen = true;
  }
  return seen ? { input, output } : undefined;
}

/** One sample as a trial. */
export function inspectSampleTrial(sample: Record<string, unknown>, log: LogContext, path: string): Trial {
  const resolve = resolver(sample.attachments);
  const id = typeof sample.id === "number" || typeof sample.id === "string" ? String(sample.id) : "sample";
  const epoch = asNumber(sample.epoch) ?? 1;
  const messages = Array.isArray(sample.messages) ? sample.messages : [];
  const steps = stepsFromTurns(turnsOf(messages, (m) => messageTurns(m, resolve)));
  const trialName = namePart(`${id}_epoch_${epoch}`);
  const trial: Trial = { id: `${log.run}/${trialName}`, run: log.run, task: `${log.task}/${namePart(id)}`, attempt: epoch, outcome: "invalid", reward: null, steps, source: { format: "inspect-ai", path } };
  if (log.model) trial.model = clip(log.model, 200);
  if (log.agent) trial.agent = clip(log.agent, 200);
  const input = typeof sample.input === "string" ? resolve(sample.input) : Array.isArray(sample.input) ? messageTurns(sample.input.find((m) => isRecord(m) && m.role === "user"), resolve)[0]?.text : undefined;
  if (input?.trim()) trial.instruction = clip(input.trim(), TEXT_LIMIT);
  const tokens = tokensOf(sample.model_usage);
  if (tokens) trial.tokens = tokens;

  const limit = isRecord(sample.limit) ? sample.limit : undefined;
  const limitType = limit ? asString(limit.type)?.slice(0, 40) : undefined;
  const limitValue = limit ? asNumber(limit.limit) : undefined;
  if (limitType) {
    trial.stopReason = `${limitType} limit${limitValue !== undefined ? ` (${limitValue})` : ""}`;
    trial.failureMode = `${limitType}_limit`;
  }
  const agentSeconds = asNumber(sample.working_time) ?? asNumber(sample.total_time);
  const limitSeconds = limitType === "time" || limitType === "working" ? limitValue : log.limitSeconds;
  if (agentSeconds !== undefined || limitSeconds !== undefined) {
    trial.duration = { ...(agentSeconds !== undefined ? { agentSeconds } : {}), ...(limitSeconds !== undefined ? { limitSeconds } : {}) };
  }

  const error = isRecord(sample.error) ? (asString(sample.error.message) ?? "error") : asString(sample.error);
  if (error) {
    trial.infra = { kind: "sample-error", detail: clip(error.trim().split("\n")[0]!, 300) };
    trial.stopReason ??= "error";
    return trial;
  }
  const scores = isRecord(sample.scores) && Object.keys(sample.scores).length > 0 ? sample.scores : undefined;
  if (!scores) {
    const why =
      log.status === "cancelled"
        ? "the eval was cancelled before this sample was scored"
        : log.status === "error"
          ? `the eval failed before this sample was scored${log.logError ? ` (${clip(log.logError.split("\n")[0]!, 200)})` : ""}`
          : log.status === "started"
            ? "the eval was still running (the log is not finished)"
            : "the sample has no score";
    Object.assign(trial, withoutVerdict(steps, why));
    if (log.status === "cancelled" && trial.infra) trial.infra.kind = "cancelled";
    return trial;
  }
  const scored = scoresOf(scores, log.scorers, resolve);
  if (scored.tests.length > 0) trial.tests = scored.tests;
  if (scored.message) trial.verifierOutput = clipTail(scored.message, VERIFIER_TAIL_LIMIT);
  if (scored.reward === null) {
    Object.assign(trial, withoutVerdict(steps, `the score of ${scored.tests[0]?.name ?? "its scorer"} is not a number or a grade`));
    return trial;
  }
  const verdict = decideVerdict({ reward: scored.reward, tests: scored.tests });
  trial.outcome = verdict.outcome;
  trial.reward = verdict.reward;
  return trial;
}

/** Samples sort as Inspect sorts them: by id (numbers as numbers), then epoch. */
function bySampleOrder(a: Record<string, unknown>, b: Record<string, unknown>): number {
  const ida = String(a.id ?? "");
  const idb = String(b.id ?? "");
  return ida.localeCompare(idb, undefined, { numeric: true }) || (asNumber(a.epoch) ?? 0) - (asNumber(b.epoch) ?? 0);
}

/** Trials of a `.json` log (checked with `declineInspectLog`). */
export function* readInspectJson(log: Record<string, unknown>, file: string): Generator<TrialOrError> {
  const context = logContext(log, namePart(basename(file).replace(/\.json$/i, "")), file);
  const samples = Array.isArray(log.samples) ? log.samples : [];
  if (samples.length === 0) {
    yield { path: file, message: `Inspect log of task ${context.task} holds no samples (status ${context.status ?? "unknown"}; written without log_samples?)` };
    return;
  }
  const records = samples.filter(isRecord);
  if (records.length < samples.length) yield { path: file, message: `${samples.length - records.length} samples are not objects; skipped` };
  for (const sample of records.sort(bySampleOrder)) yield inspectSampleTrial(sample, context, file);
}

/** An extracted `.eval` log: its header (finished) or start journal (unfinished), else why not. */
export async function inspectEvalHeader(dir: string, files: Set<string>, dirs: Set<string>): Promise<{ header: Record<string, unknown> } | undefined> {
  if (!dirs.has("samples") && !files.has("header.json")) return undefined;
  for (const path of [join(dir, "header.json"), join(dir, "_journal", "start.json")]) {
    const read = await readJsonFile(path, 64 * 1024 * 1024);
    if (read.ok && declineInspectLog(read.value) === undefined) return { header: read.value as Record<string, unknown> };
  }
  return undefined;
}

/** Trials of an extracted `.eval` log folder, one sample file at a time. */
export async function* readInspectEvalFolder(dir: string, header: Record<string, unknown>): AsyncGenerator<TrialOrError> {
  const context = logContext(header, namePart(basename(dir).replace(/\.eval$/i, "")), dir);
  if (!("status" in header) || !isRecord(header.stats)) context.status ??= "started";
  // No samples folder: the log was written without samples.
  const listed = await listFolder(join(dir, "samples"));
  const names = listed.ok ? listed.value.files.filter((n) => n.endsWith(".json")) : [];
  if (names.length === 0) {
    yield { path: dir, message: `Inspect log of task ${context.task} holds no samples (status ${context.status ?? "unknown"})` };
    return;
  }
  const sorted = names.sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  for (const name of sorted) {
    const path = join(dir, "samples", name);
    const read = await readJsonFile(path);
    if (!read.ok || !isRecord(read.value)) {
      yield { path, message: read.ok ? "sample is not a JSON object" : read.message } satisfies IngestError;
      continue;
    }
    yield inspectSampleTrial(read.value, context, path);
  }
}

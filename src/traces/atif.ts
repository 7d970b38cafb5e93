import { basename, dirname, isAbsolute, join } from "node:path";
import { asNumber, asString, isRecord, readJsonFile, type Read } from "./files.js";
import { contentText, toCall } from "./calls.js";
import { boundSteps, clip, OUTPUT_LIMIT, TEXT_LIMIT } from "./limits.js";
import { parseTerminusResponse } from "./terminus.js";
import { exitCodeIn } from "./transcript.js";
import type { Step, ToolCall } from "./types.js";

/** What an ATIF trajectory (with its joined segments) says about a trial. */
export interface AtifTrajectory {
  schemaVersion?: string;
  agent?: string;
  model?: string;
  tokens?: { input?: number; output?: number };
  steps: Step[];
  /** Every file read, the main one first (continuations and subagent files follow). */
  files: string[];
  /** Segments that were referenced but could not be read; the rest of the trajectory still is. */
  problems: { path: string; message: string }[];
}

const MAX_SEGMENTS = 64;

/** Agents that answer in JSON (Terminus) put their commands in the message when no tool calls exist. */
function callsFromJsonMessage(message: string): ToolCall[] {
  if (!message.includes('"commands"')) return [];
  return parseTerminusResponse(message)?.calls ?? [];
}

const PARSE_ERROR = /^(Previous response had parsing errors|ERROR:|Error:|error:)/;

function toStep(raw: Record<string, unknown>): Step {
  const source = raw.source === "user" || raw.source === "system" || raw.source === "agent" ? raw.source : "system";
  const step: Step = { index: 0, source };
  let text = contentText(raw.message);
  const reasoning = asString(raw.reasoning_content);
  if (reasoning) text = text ? `${text}\n[reasoning] ${reasoning}` : `[reasoning] ${reasoning}`;
  if (text) step.text = clip(text, TEXT_LIMIT);

  let calls: ToolCall[] = [];
  if (Array.isArray(raw.tool_calls)) {
    calls = raw.tool_calls.filter(isRecord).map((c) => toCall(asString(c.function_name) ?? asString(c.name) ?? "unknown", c.arguments));
  }
  if (calls.length === 0 && source === "agent" && typeof raw.message === "string") calls = callsFromJsonMessage(raw.message);
  if (calls.length > 0) step.calls = calls;

  const results = isRecord(raw.observation) && Array.isArray(raw.observation.results) ? raw.observation.results.filter(isRecord) : [];
  const output = results.map((r) => contentText(r.content)).filter((t) => t !== "").join("\n");
  if (output) {
    step.output = clip(output, OUTPUT_LIMIT);
    const exitCode = exitCodeIn(output);
    if (exitCode !== undefined) step.exitCode = exitCode;
    // The first line without splitting the whole output into lines.
    const start = output.trimStart();
    const end = start.indexOf("\n");
    const firstLine = end === -1 ? start : start.slice(0, end);
    if (PARSE_ERROR.test(firstLine)) {
      const errorLine = output.split("\n").find((l) => /^ERROR:/.test(l.trim()));
      step.error = clip((errorLine ?? firstLine).trim(), 500);
    }
  }
  const extraError = isRecord(raw.extra) ? asString(raw.extra.error) : undefined;
  if (extraError && !step.error) step.error = clip(extraError, 500);
  return step;
}

/** Subagent references an ATIF step's observation carries, in order. */
function subagentRefs(raw: Record<string, unknown>): { sessionId?: string; path?: string }[] {
  if (!isRecord(raw.observation) || !Array.isArray(raw.observation.results)) return [];
  const refs: { sessionId?: string; path?: string }[] = [];
  for (const result of raw.observation.results) {
    if (!isRecord(result) || !Array.isArray(result.subagent_trajectory_ref)) continue;
    for (const ref of result.subagent_trajectory_ref) {
      if (!isRecord(ref)) continue;
      const entry: { sessionId?: string; path?: string } = {};
      const sessionId = asString(ref.session_id);
      const path = asString(ref.trajectory_path);
      if (sessionId) entry.sessionId = sessionId;
      if (path) entry.path = path;
      refs.push(entry);
    }
  }
  return refs;
}

/**
 * Where a referenced segment lives: next to the trajectory, also under the trajectory's own file
 * prefix (`x.trajectory.json` → `x.trajectory.cont-1.json`). References never leave the folder.
 */
function segmentCandidates(fromFile: string, ref: string): string[] {
  if (isAbsolute(ref) || ref.split(/[\\/]/).includes("..")) return [];
  const dir = dirname(fromFile);
  const base = basename(fromFile);
  const at = base.lastIndexOf("trajectory.");
  const candidates = [join(dir, ref)];
  if (at > 0 && !ref.includes("/")) candidates.push(join(dir, base.slice(0, at) + ref));
  return candidates;
}

interface Segment {
  doc: Record<string, unknown>;
  file: string;
}

/** Converts ATIF documents (already parsed) into one step list; `load` fetches referenced files. */
async function joinTrajectory(
  main: Segment,
  load: (path: string) => Promise<Read<unknown>>,
): Promise<AtifTrajectory> {
  const result: AtifTrajectory = { steps: [], files: [main.file], problems: [] };
  const version = asString(main.doc.schema_version);
  if (version) result.schemaVersion = version;
  if (isRecord(main.doc.agent)) {
    const name = asString(main.doc.agent.name);
    const model = asString(main.doc.agent.model_name);
    if (name) result.agent = name;
    if (model) result.model = model;
  }
  let input = 0;
  let output = 0;
  let sawTokens = false;
  const seen = new Set<string>([main.file]);
  const embedded = new Map<string, Record<string, unknown>>();
  const usedEmbedded = new Set<string>();

  const addMetrics = (doc: Record<string, unknown>) => {
    if (!isRecord(doc.final_metrics)) return;
    const p = asNumber(doc.final_metrics.total_prompt_tokens);
    const c = asNumber(doc.final_metrics.total_completion_tokens);
    if (p !== undefined) input += p;
    if (c !== undefined) output += c;
    if (p !== undefined || c !== undefined) sawTokens = true;
  };
  const collectEmbedded = (doc: Record<string, unknown>) => {
    if (!Array.isArray(doc.subagent_trajectories)) return;
    for (const sub of doc.subagent_trajectories) {
      if (isRecord(sub)) embedded.set(asString(sub.session_id) ?? `embedded-${embedded.size}`, sub);
    }
  };
  const loadSegment = async (fromFile: string, ref: string): Promise<Segment | undefined> => {
    if (result.files.length >= MAX_SEGMENTS) {
      result.problems.push({ path: fromFile, message: `more than ${MAX_SEGMENTS} trajectory segments; ${ref} not read` });
      return undefined;
    }
    const candidates = segmentCandidates(fromFile, ref);
    if (candidates.length === 0) {
      result.problems.push({ path: fromFile, message: `segment reference ${JSON.stringify(ref)} points outside the trajectory folder; not read` });
      return undefined;
    }
    let lastMessage = "not found";
    for (const candidate of candidates) {
      if (seen.has(candidate)) return undefined;
      const read = await load(candidate);
      if (read.ok && isRecord(read.value)) {
        seen.add(candidate);
        result.files.push(candidate);
        return { doc: read.value, file: candidate };
      }
      if (!read.ok && !/ENOENT|not a regular file/.test(read.message)) lastMessage = read.message;
      else if (read.ok) lastMessage = "not a JSON object";
    }
    result.problems.push({ path: candidates[candidates.length - 1]!, message: `trajectory segment referenced by ${basename(fromFile)}: ${lastMessage}` });
    return undefined;
  };

  // Copied-context steps repeat what the parent already holds, so joined segments drop them.
  const appendSegment = async (segment: Segment, joined: boolean, depth: number): Promise<void> => {
    addMetrics(segment.doc);
    collectEmbedded(segment.doc);
    const steps = Array.isArray(segment.doc.steps) ? segment.doc.steps.filter(isRecord) : [];
    for (const raw of steps) {
      if (joined && raw.is_copied_context === true) continue;
      result.steps.push(toStep(raw));
      if (depth >= 4) continue;
      for (const ref of subagentRefs(raw)) {
        const inline = ref.sessionId ? embedded.get(ref.sessionId) : undefined;
        if (inline && ref.sessionId) {
          usedEmbedded.add(ref.sessionId);
          await appendSegment({ doc: inline, file: segment.file }, true, depth + 1);
        } else if (ref.path) {
          const sub = await loadSegment(segment.file, ref.path);
          if (sub) await appendSegment(sub, true, depth + 1);
        }
      }
    }
    let next = asString(segment.doc.continued_trajectory_ref);
    let from = segment.file;
    while (next) {
      const cont = await loadSegment(from, next);
      if (!cont) break;
      await appendSegment({ ...cont, doc: { ...cont.doc, continued_trajectory_ref: undefined } }, true, depth);
      next = asString(cont.doc.continued_trajectory_ref);
      from = cont.file;
    }
  };

  await appendSegment(main, false, 0);
  for (const [sessionId, doc] of embedded) {
    if (!usedEmbedded.has(sessionId)) await appendSegment({ doc, file: main.file }, true, 1);
  }
  if (sawTokens) result.tokens = { input, output };
  result.steps = boundSteps(
    result.steps.map((step, index) => ({ ...step, index })),
    (index, text) => ({ index, source: "system", text }),
  );
  return result;
}

export function looksLikeAtif(value: unknown): value is Record<string, unknown> {
  return isRecord(value) && Array.isArray(value.steps) && (typeof value.schema_version !== "string" || value.schema_version.startsWith("ATIF"));
}

/** Why `value` is not an ATIF trajectory, or undefined when it is one. */
export function declineAtif(value: unknown): string | undefined {
  if (!isRecord(value)) return "not a JSON object";
  if (!Array.isArray(value.steps)) return "no steps array";
  if (typeof value.schema_version === "string" && !value.schema_version.startsWith("ATIF")) return `schema_version ${JSON.stringify(value.schema_version.slice(0, 40))} is not ATIF`;
  return undefined;
}

/** An ATIF trajectory already parsed from `path`, with the continuation and subagent segments it references. */
export function atifFromValue(value: Record<string, unknown>, path: string): Promise<AtifTrajectory> {
  return joinTrajectory({ doc: value, file: path }, (p) => readJsonFile(p));
}

/** Reads an ATIF trajectory file (v1.0 to v1.8, lenient) with its continuation and subagent segments. */
export async function readAtifTrajectory(path: string): Promise<Read<AtifTrajectory>> {
  const read = await readJsonFile(path);
  if (!read.ok) return read;
  if (!looksLikeAtif(read.value)) return { ok: false, message: "not an ATIF trajectory (no steps array)" };
  return { ok: true, value: await atifFromValue(read.value, path) };
}

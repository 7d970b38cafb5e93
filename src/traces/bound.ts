import { ARG_STRING_LIMIT, boundSteps, boundValue, clip, clipTail, INSTRUCTION_LIMIT, OUTPUT_LIMIT, TEST_MESSAGE_LIMIT, TEXT_LIMIT, VERIFIER_TAIL_LIMIT } from "./limits.js";
import type { Step, TestResult, ToolCall, Trial } from "./types.js";

/** Names (ids, tasks, runs, models, labels): real ones are tens of characters. */
export const NAME_LIMIT = 300;
/** A file path an error or a trial points at. */
export const PATH_LIMIT = 4096;
/** Tests kept per trial; failed tests are kept first. */
export const MAX_TESTS = 1000;
/** Tool calls kept per step. */
export const MAX_CALLS = 100;
/** An infrastructure reason or a stop reason: one line of explanation. */
const REASON_LIMIT = 1000;

/**
 * A copy of `text` that holds no reference to a larger string. V8 keeps a slice (and a
 * concatenation of slices) pointing at the string it was cut from: a 4 KB tail clipped from a
 * 600 KB pane keeps the pane alive as long as the trial lives. Concatenating and slicing again
 * flattens into fresh memory of the slice's own size.
 */
export function detach(text: string): string {
  return text.length < 13 ? text : (` ${text}`).slice(1);
}

/** What a bound field is made of: a copy of its own (`detach`), or the string itself when it is copied anyway. */
type Own = (text: string) => string;
const same: Own = (text) => text;

/** A name cut to `limit` characters on one line, marked when cut: control characters (a newline, an escape) become `_`. */
export function clipName(text: string, limit = NAME_LIMIT, own: Own = detach): string {
  // eslint-disable-next-line no-control-regex
  const oneLine = text.replace(/[\x00-\x1f\x7f]/g, "_");
  return own(oneLine.length <= limit ? oneLine : `${oneLine.slice(0, limit - 1)}…`);
}

/**
 * Room for the marker a clipped field carries: readers clip to these same limits, and the backstop
 * must leave their output as it is (clipping is not idempotent on the marker's few characters).
 */
const MARKER_ROOM = 64;

const text = (value: string, limit: number, own: Own) => own(value.length <= limit + MARKER_ROOM ? value : clip(value, limit));

function boundTests(tests: TestResult[], own: Own): TestResult[] {
  // Failed tests say why a trial failed: when there are too many, they are the ones kept.
  const kept = tests.length <= MAX_TESTS ? tests : [...tests.filter((t) => t.status === "failed"), ...tests.filter((t) => t.status !== "failed")].slice(0, MAX_TESTS);
  return kept.map((test) => {
    const out: TestResult = { name: clipName(test.name, 2 * NAME_LIMIT, own), status: test.status };
    if (test.message !== undefined) out.message = text(test.message, TEST_MESSAGE_LIMIT, own);
    return out;
  });
}

function boundCall(call: ToolCall, own: Own): ToolCall {
  // Readers keep a shell command's text in its arguments as long as the command itself.
  const args = boundValue(call.args, Math.max(ARG_STRING_LIMIT, TEXT_LIMIT) + MARKER_ROOM);
  const out: ToolCall = { name: clipName(call.name, NAME_LIMIT, own), args: own === same ? args : detachValue(args) };
  if (call.command !== undefined) out.command = text(call.command, TEXT_LIMIT, own);
  return out;
}

function boundStep(step: Step, own: Own): Step {
  const out: Step = { ...step };
  if (step.text !== undefined) out.text = text(step.text, TEXT_LIMIT, own);
  if (step.output !== undefined) out.output = text(step.output, OUTPUT_LIMIT, own);
  if (step.error !== undefined) out.error = text(step.error, TEXT_LIMIT, own);
  if (step.calls !== undefined) out.calls = step.calls.slice(0, MAX_CALLS).map((call) => boundCall(call, own));
  return out;
}

/** Every string inside a JSON-like value detached (see `detach`). */
function detachValue(value: unknown): unknown {
  if (typeof value === "string") return detach(value);
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(detachValue);
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [detach(key), detachValue(inner)]));
}

/** Trials a worker bounded before sending them: structured cloning made each of their strings afresh. */
const bounded = new WeakSet<Trial>();

/** Marks a trial that a trial-pool worker bounded: boundTrial takes it as it is. */
export function markBounded(trial: Trial): Trial {
  bounded.add(trial);
  return trial;
}

/**
 * The trial as every reader must leave it: each field within its limit and held in memory of its
 * own. Readers clip as they read; this is the one backstop every trial passes, so a reader that
 * misses a field (a hostile results.json with a 200 MB test name, a million tests) still yields a
 * trial of bounded size that pins no file's text.
 *
 * `copy: false` bounds the fields without copying them, for a trial that is copied next anyway: a
 * worker's trial is cloned into the main thread, which makes each of its strings afresh.
 */
export function boundTrial(trial: Trial, { copy = true }: { copy?: boolean } = {}): Trial {
  if (bounded.has(trial)) return trial;
  const own = copy ? detach : same;
  const out: Trial = {
    ...trial,
    id: clipName(trial.id, 2 * NAME_LIMIT + 1, own),
    run: clipName(trial.run, NAME_LIMIT, own),
    task: clipName(trial.task, NAME_LIMIT, own),
    steps: boundSteps(trial.steps, (index, message): Step => ({ index, source: "system", text: message })).map((step) => boundStep(step, own)),
    source: { format: trial.source.format, path: clipName(trial.source.path, PATH_LIMIT, own) },
  };
  if (trial.infra) out.infra = { kind: clipName(trial.infra.kind, 100, own), detail: text(trial.infra.detail, REASON_LIMIT, own) };
  if (trial.failureMode !== undefined) out.failureMode = clipName(trial.failureMode, NAME_LIMIT, own);
  if (trial.tests) out.tests = boundTests(trial.tests, own);
  if (trial.verifierOutput !== undefined) {
    const output = trial.verifierOutput;
    out.verifierOutput = own(output.length <= VERIFIER_TAIL_LIMIT + MARKER_ROOM ? output : clipTail(output, VERIFIER_TAIL_LIMIT));
  }
  if (trial.instruction !== undefined) out.instruction = text(trial.instruction, INSTRUCTION_LIMIT, own);
  if (trial.stopReason !== undefined) out.stopReason = text(trial.stopReason, REASON_LIMIT, own);
  for (const key of ["agent", "model", "harnessVersion", "taskChecksum"] as const) {
    const value = trial[key];
    if (value !== undefined) out[key] = clipName(value, NAME_LIMIT, own);
  }
  return out;
}

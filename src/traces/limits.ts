/**
 * Bounds on what one Trial keeps, so memory per trial stays bounded however large the trace is.
 * Trace text is untrusted: every field is clipped with a visible marker, never silently.
 */
export const TEXT_LIMIT = 4096;
export const OUTPUT_LIMIT = 4096;
export const VERIFIER_TAIL_LIMIT = 8192;
export const TEST_MESSAGE_LIMIT = 1024;
export const ARG_STRING_LIMIT = 1024;
/** The head of a task instruction kept on a trial: enough to see what was asked. */
export const INSTRUCTION_LIMIT = 3000;
export const MAX_STEPS = 1000;
/** How many leading steps survive when a trajectory exceeds MAX_STEPS (the rest come from the end). */
export const HEAD_STEPS = 100;
/**
 * Largest JSON file parsed whole; bigger files are reported, not read. Far below the heap: a parsed
 * document takes several times its text, and parsing it holds the event loop.
 */
export const MAX_JSON_BYTES = 64 * 1024 * 1024;
/**
 * Most values (objects, arrays, items) a JSON file over `JSON_SCAN_BYTES` may hold. The size alone
 * does not bound the memory: 32 MB of `[{},{},...]` parse into a gigabyte in five seconds, while a
 * 64 MB trajectory of long strings is a few hundred thousand values.
 */
export const MAX_JSON_VALUES = 1_000_000;
/** Files up to this size are parsed without counting their values: at worst ~100 MB of heap. */
export const JSON_SCAN_BYTES = 4 * 1024 * 1024;
/** Largest text file (pane, log) read; only its tail is kept beyond this. */
export const MAX_TEXT_BYTES = 4 * 1024 * 1024;

/**
 * ASCII, like most trace text: one character outside Latin-1 makes V8 store the whole clipped text
 * at two bytes a character, doubling what a clipped field costs in memory, in a scan and in the copy
 * a worker sends.
 */
function truncationMarker(dropped: number): string {
  return `\n...[${dropped} chars truncated]...\n`;
}

/** Keeps the head and the tail (errors usually sit at the end), dropping the middle. */
export function clip(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const head = Math.floor(limit / 4);
  const tail = limit - head;
  return text.slice(0, head) + truncationMarker(text.length - limit) + text.slice(text.length - tail);
}

/** Keeps only the last `limit` characters. */
export function clipTail(text: string, limit: number): string {
  return text.length <= limit ? text : clippedTail(text.length, text.slice(text.length - limit), limit);
}

/** `clipTail` of a text known by its length and its last `limit` characters only. */
export function clippedTail(length: number, tail: string, limit: number): string {
  return length <= limit ? tail : truncationMarker(length - limit).trimStart() + tail;
}

/** Clips every string inside a JSON-like value; deep or huge structures are summarised. */
export function boundValue(value: unknown, stringLimit = ARG_STRING_LIMIT, depth = 0): unknown {
  if (typeof value === "string") return clip(value, stringLimit);
  if (value === null || typeof value !== "object") return value;
  if (depth >= 6) return "[nested value omitted]";
  if (Array.isArray(value)) {
    const kept = value.slice(0, 50).map((v) => boundValue(v, stringLimit, depth + 1));
    if (value.length > 50) kept.push(`[${value.length - 50} more items omitted]`);
    return kept;
  }
  const out: Record<string, unknown> = {};
  let count = 0;
  for (const [key, v] of Object.entries(value)) {
    if (count++ >= 50) {
      out["…"] = "[further keys omitted]";
      break;
    }
    out[key] = boundValue(v, stringLimit, depth + 1);
  }
  return out;
}

/** Keeps at most MAX_STEPS steps: the first HEAD_STEPS and the last ones, with a marker step between. */
export function boundSteps<T extends { index: number; source: string; text?: string }>(steps: T[], make: (index: number, text: string) => T): T[] {
  if (steps.length <= MAX_STEPS) return steps;
  const tail = MAX_STEPS - HEAD_STEPS - 1;
  const dropped = steps.length - HEAD_STEPS - tail;
  const kept = [...steps.slice(0, HEAD_STEPS), make(0, `[${dropped} steps omitted]`), ...steps.slice(steps.length - tail)];
  return kept.map((step, index) => ({ ...step, index }));
}

/** What reading one input (an artifact, a folder, a file named on the command line) may cost. */
export interface ReadLimits {
  /** Trials one input may yield; past this the rest of it is not read. */
  maxTrials: number;
  /** Seconds one input may take, nested archives included; reading stops there and keeps what it read. */
  maxSeconds: number;
}

export const DEFAULT_READ_LIMITS: ReadLimits = { maxTrials: 20_000, maxSeconds: 120 };

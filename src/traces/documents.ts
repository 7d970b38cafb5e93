import { isRecord, parseJsonFile, withJsonBytes, type Read } from "./files.js";
import { MAX_JSON_BYTES } from "./limits.js";

/**
 * A trace file's content: one JSON value, or JSON Lines (one object per line: OTLP file exports,
 * Gemini CLI `.jsonl` sessions, OpenHands `output.jsonl`).
 */
export type JsonDocument = { kind: "json"; value: unknown } | { kind: "jsonl"; values: Record<string, unknown>[]; badLines: number[] };

/** Lines that failed to parse are listed up to this many (by number); the rest are counted. */
const MAX_BAD_LINES = 20;

function parseLines(text: string): { values: Record<string, unknown>[]; badLines: number[]; firstParsed: boolean } {
  const values: Record<string, unknown>[] = [];
  const badLines: number[] = [];
  let firstParsed: boolean | undefined;
  let lineNumber = 0;
  for (const line of text.split("\n")) {
    lineNumber++;
    if (line.trim() === "") continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      parsed = undefined;
    }
    firstParsed ??= isRecord(parsed);
    if (isRecord(parsed)) values.push(parsed);
    else if (badLines.length < MAX_BAD_LINES) badLines.push(lineNumber);
  }
  return { values, badLines, firstParsed: firstParsed ?? false };
}

/**
 * Reads a JSON or JSON Lines file. A file that is not one JSON value is JSON Lines when its first
 * line is an object (a pretty-printed document cut short never is: its first line is a lone brace).
 * Missing, huge, binary and malformed files are a message, never a throw.
 */
export async function readDocument(path: string, maxBytes = MAX_JSON_BYTES): Promise<Read<JsonDocument>> {
  const read = await withJsonBytes(path, maxBytes, (bytes): Read<JsonDocument> => {
    const parsed = parseJsonFile(bytes);
    if (parsed.ok) return { ok: true, value: { kind: "json", value: parsed.value } };
    // Only a file that is not one JSON value is read as lines.
    const text = bytes.toString("utf8");
    const start = text.trimStart()[0];
    if (start !== "{" && start !== "[") return { ok: false, message: "not JSON (does not start with { or [)" };
    const lines = parseLines(text);
    if (lines.firstParsed && lines.values.length > 0) return { ok: true, value: { kind: "jsonl", values: lines.values, badLines: lines.badLines } };
    return parsed;
  });
  return read.ok ? read.value : read;
}

/** The values a document holds: the value itself, or every line. */
export function documentValues(doc: JsonDocument): unknown[] {
  return doc.kind === "json" ? [doc.value] : doc.values;
}

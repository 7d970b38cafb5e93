/**
 * `JSON.parse(bytes.toString("utf8"))` without making the whole text one string. V8 puts a string
 * over 128 KB in its large-object space: fresh pages for each, mapped one by one as the decode fills
 * them, and given back when it dies. A Harbor trajectory is hundreds of KB; on a virtual machine whose
 * page faults take 15 µs, decoding the Harbor bench corpus's trajectories whole was 60% of the page
 * faults of `mine` on one thread, about 5 ns a byte against 0.1 for a string in the young generation.
 * So a large object or array is parsed a piece at a time: its members, grouped into runs of at most
 * PIECE_BYTES, each decoded and parsed on its own, a member larger than that split the same way.
 *
 * The value is the one JSON.parse gives, and so is the error: anything the split does not take as
 * well-formed JSON (a stray byte between members, a bracket that does not close, a trailing comma) is
 * parsed whole again, so that the message is JSON.parse's own. Splits fall only on ASCII bytes
 * outside strings, where no UTF-8 sequence can be cut, and decoding each piece gives the characters
 * the whole text would hold there.
 */

/** Bytes parsed at once: as one-byte text, or two-byte (96 KB), under V8's 128 KB large-object size. */
export const PIECE_BYTES = 48 * 1024;

/**
 * Files this large are split: below it, the whole text is a string of the young generation anyway
 * (unless it is two-byte text), and splitting would only add its scan (a 66 KB trajectory of the
 * skillsbench sample made `mine` 3% slower).
 */
const SPLIT_ABOVE = 128 * 1024;

/**
 * The most of a file's first SAMPLE_BYTES that may lie outside strings for it to be split. Splitting
 * reads every byte outside strings one at a time: in a trajectory, mostly long strings (3-9% outside
 * them), that costs less than the large string saves; in a dense results.json (19-33% outside, keys
 * and numbers) it cost 2-3 times the whole parse, 20 ms against 2 on a process's first file.
 */
const MOST_OUTSIDE = 0.15;
const SAMPLE_BYTES = 16 * 1024;

/** Levels of containers split: the work stays linear (each level reads its bytes once) however deep a hostile file nests. */
const SPLIT_DEPTH = 4;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** Thrown where the split cannot vouch for the text; the whole text is then parsed for JSON.parse's own error. */
class NotSplit extends Error {}

/** Parses a JSON text given as UTF-8 bytes, as `JSON.parse(bytes.toString("utf8"))` does; tests set when and how it is split. */
export function parseJsonBytes(bytes: Buffer, { pieceBytes = PIECE_BYTES, mostOutside = MOST_OUTSIDE, splitAbove = SPLIT_ABOVE } = {}): unknown {
  if (bytes.length > Math.max(pieceBytes, splitAbove) && outsideStrings(bytes, Math.min(bytes.length, SAMPLE_BYTES)) <= mostOutside) {
    try {
      return valueIn(bytes, 0, bytes.length, 0, pieceBytes);
    } catch {
      // Not well-formed where it was split (NotSplit), or in a piece (SyntaxError): parsed whole below.
    }
  }
  return JSON.parse(bytes.toString("utf8"));
}

const isSpace = (byte: number | undefined) => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

/**
 * The index of the quote that closes the string opened at `open`, before `end`; -1 when none does.
 * Each run of backslashes is counted once, so the search is linear whatever the input.
 */
function closingQuote(bytes: Buffer, open: number, end = bytes.length): number {
  for (let at = open; ; ) {
    const close = bytes.indexOf(QUOTE, at + 1);
    if (close === -1 || close >= end) return -1;
    let slashes = 0;
    while (bytes[close - 1 - slashes] === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return close;
    at = close;
  }
}

/** `closingQuote` where a string that does not close leaves the split nothing to vouch for. */
function stringEnd(bytes: Buffer, open: number, end: number): number {
  const close = closingQuote(bytes, open, end);
  if (close === -1) throw new NotSplit();
  return close;
}

/** The share of the first `end` bytes that lie outside strings (a string running on past them holds the rest). */
function outsideStrings(bytes: Buffer, end: number): number {
  let outside = 0;
  for (let at = 0; at < end; at++) {
    if (bytes[at] !== QUOTE) outside++;
    else if ((at = closingQuote(bytes, at, end)) === -1) break;
  }
  return outside / end;
}

/**
 * The JSON values (objects, arrays, array items, object members) a text holds, counted up to
 * `stopAt`: one pass over its bytes, skipping strings whole. Linear, whatever the input.
 */
export function countJsonValues(bytes: Buffer, stopAt: number): number {
  let count = 0;
  for (let at = 0; at < bytes.length; at++) {
    const byte = bytes[at];
    if (byte === QUOTE) {
      if ((at = closingQuote(bytes, at)) === -1) return count;
    } else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY || byte === COMMA) {
      if (++count > stopAt) return count;
    }
  }
  return count;
}

const parse = (bytes: Buffer, start: number, end: number): unknown => JSON.parse(bytes.toString("utf8", start, end));

function valueIn(bytes: Buffer, start: number, end: number, depth: number, pieceBytes: number): unknown {
  while (start < end && isSpace(bytes[start])) start++;
  while (end > start && isSpace(bytes[end - 1])) end--;
  const open = bytes[start];
  if (end - start <= pieceBytes || depth >= SPLIT_DEPTH || (open !== OPEN_OBJECT && open !== OPEN_ARRAY)) return parse(bytes, start, end);
  const isObject = open === OPEN_OBJECT;
  if (bytes[end - 1] !== (isObject ? CLOSE_OBJECT : CLOSE_ARRAY)) throw new NotSplit();
  const out: unknown[] | Record<string, unknown> = isObject ? {} : [];
  // Consecutive small members are parsed together, in a piece of their own brackets.
  let run = -1;
  let runEnd = -1;
  const flush = () => {
    if (run === -1) return;
    const text = bytes.toString("utf8", run, runEnd);
    if (isObject) copyMembers(JSON.parse(`{${text}}`) as Record<string, unknown>, out as Record<string, unknown>);
    else for (const item of JSON.parse(`[${text}]`) as unknown[]) (out as unknown[]).push(item);
    run = -1;
  };
  eachMember(bytes, start + 1, end - 1, (from, to) => {
    if (to - from <= pieceBytes && (run === -1 || to - run <= pieceBytes)) {
      if (run === -1) run = from;
      runEnd = to;
      return;
    }
    flush();
    if (to - from <= pieceBytes) {
      run = from;
      runEnd = to;
    } else if (isObject) {
      const [key, valueStart] = keyOf(bytes, from, to);
      setMember(out as Record<string, unknown>, key, valueIn(bytes, valueStart, to, depth + 1, pieceBytes));
    } else {
      (out as unknown[]).push(valueIn(bytes, from, to, depth + 1, pieceBytes));
    }
  });
  flush();
  return out;
}

/**
 * Each member of a container, between its brackets, as it is found (a hostile array may hold
 * millions): split at the container's own commas. None for whitespace alone; a member that is nothing
 * ("[1,,2]", "[1, ]") is malformed, and parsing it alone would not say so.
 */
function eachMember(bytes: Buffer, start: number, end: number, member: (from: number, to: number) => void): void {
  let nested = 0;
  let from = start;
  let found = false;
  const add = (to: number) => {
    let first = from;
    while (first < to && isSpace(bytes[first])) first++;
    if (first === to) throw new NotSplit();
    found = true;
    member(from, to);
  };
  for (let at = start; at < end; at++) {
    const byte = bytes[at];
    if (byte === QUOTE) at = stringEnd(bytes, at, end);
    else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) nested++;
    else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      if (--nested < 0) throw new NotSplit();
    } else if (byte === COMMA && nested === 0) {
      add(at);
      from = at + 1;
    }
  }
  if (nested !== 0) throw new NotSplit();
  let last = from;
  while (last < end && isSpace(bytes[last])) last++;
  if (last < end || found) add(end);
}

/** An object member's key, and where its value starts (after the colon). */
function keyOf(bytes: Buffer, start: number, end: number): [string, number] {
  while (start < end && isSpace(bytes[start])) start++;
  if (bytes[start] !== QUOTE) throw new NotSplit();
  const close = stringEnd(bytes, start, end);
  const key = parse(bytes, start, close + 1) as string;
  let colon = close + 1;
  while (colon < end && isSpace(bytes[colon])) colon++;
  if (bytes[colon] !== COLON) throw new NotSplit();
  return [key, colon + 1];
}

/** Sets a member as JSON.parse does: "__proto__" is a member like any other, not the object's prototype. */
function setMember(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(out, key, { value, writable: true, enumerable: true, configurable: true });
  else out[key] = value;
}

function copyMembers(from: Record<string, unknown>, out: Record<string, unknown>): void {
  for (const key of Object.keys(from)) setMember(out, key, from[key]);
}

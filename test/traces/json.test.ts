import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { describe, expect, it } from "vitest";
import { parseJsonBytes, PIECE_BYTES } from "../../src/traces/json.js";
import { hasRealTraces, NO_REAL_TRACES, realTraces } from "./paths.js";

/** Splits every document larger than a piece, whatever its size and its share of strings. */
const ALWAYS = { mostOutside: 1, splitAbove: 0 };

/** What JSON.parse makes of the bytes: the value, or the error's message. */
function parsedWhole(bytes: Buffer): { value: unknown } | { error: string } {
  try {
    return { value: JSON.parse(bytes.toString("utf8")) as unknown };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

function parsedInPieces(bytes: Buffer, pieceBytes: number): { value: unknown } | { error: string } {
  try {
    return { value: parseJsonBytes(bytes, { pieceBytes, ...ALWAYS }) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** The same value, down to the order of keys, -0 and own "__proto__" members. */
function expectSame(bytes: Buffer, pieceBytes: number): void {
  const whole = parsedWhole(bytes);
  const pieces = parsedInPieces(bytes, pieceBytes);
  const same = "value" in whole && "value" in pieces ? isDeepStrictEqual(pieces.value, whole.value) && JSON.stringify(pieces.value) === JSON.stringify(whole.value) : isDeepStrictEqual(pieces, whole);
  if (!same) expect({ pieceBytes, text: bytes.toString("utf8").slice(0, 400), pieces }).toEqual({ pieceBytes, text: bytes.toString("utf8").slice(0, 400), whole });
}

/** A seeded generator (mulberry32): the same documents on every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STRINGS = ["", "plain", 'quote " and \\ backslash', "\\\\", "line\nbreak\ttab", "é ü 中文", "emoji 😀", "\u2028\u2029", "{[,:]}", "\\u0000 escaped", "lone \ud800 surrogate", "__proto__", "constructor", "0", "12"];

/** A JSON text of random values, in random layouts: members of every size around `pieceBytes`. */
function document(next: () => number, depth = 0): string {
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
  const space = () => pick(["", " ", "\n  ", "\t", "\r\n", "   "]);
  const kind = depth > 5 ? pick(["string", "number", "literal"]) : pick(["object", "array", "object", "array", "string", "number", "literal", "long"]);
  switch (kind) {
    case "object":
    case "array": {
      const count = Math.floor(next() * (depth === 0 ? 40 : 8));
      const members = Array.from({ length: count }, () => (kind === "object" ? `${space()}${JSON.stringify(pick(STRINGS) + (next() < 0.5 ? String(Math.floor(next() * 5)) : ""))}${space()}:${space()}${document(next, depth + 1)}${space()}` : `${space()}${document(next, depth + 1)}${space()}`));
      return kind === "object" ? `{${members.join(",")}${count === 0 ? space() : ""}}` : `[${members.join(",")}${count === 0 ? space() : ""}]`;
    }
    case "string":
      return JSON.stringify(pick(STRINGS));
    case "long":
      return JSON.stringify(pick(STRINGS).repeat(1 + Math.floor(next() * 40)));
    case "number":
      return pick(["0", "-0", "1.5e3", "-12", "1e400", "3.141592653589793", "123456789012345678901234567890"]);
    default:
      return pick(["true", "false", "null"]);
  }
}

/** The text with one random edit: a byte dropped, doubled or replaced by one that breaks JSON (or not). */
function mutate(text: Buffer, next: () => number): Buffer {
  const at = Math.floor(next() * text.length);
  const byte = [0x2c, 0x3a, 0x7b, 0x7d, 0x5b, 0x5d, 0x22, 0x5c, 0x20, 0x0c, 0x78, 0xff, 0xc3][Math.floor(next() * 13)]!;
  switch (Math.floor(next() * 3)) {
    case 0:
      return Buffer.concat([text.subarray(0, at), text.subarray(at + 1)]);
    case 1:
      return Buffer.concat([text.subarray(0, at), Buffer.from([byte]), text.subarray(at)]);
    default:
      return Buffer.concat([text.subarray(0, at), Buffer.from([byte]), text.subarray(at + 1)]);
  }
}

describe("JSON parsed in pieces", () => {
  it("gives JSON.parse's value for random documents, whatever the piece size", () => {
    const next = random(17);
    for (let i = 0; i < 400; i++) {
      const text = Buffer.from(document(next));
      for (const pieceBytes of [1, 8, 40, 300]) expectSame(text, pieceBytes);
    }
  });

  it("gives JSON.parse's error, message included, for broken documents, and never takes one JSON.parse refuses", () => {
    const next = random(29);
    let broken = 0;
    for (let i = 0; i < 1500; i++) {
      const text = mutate(Buffer.from(document(next)), next);
      if ("error" in parsedWhole(text)) broken++;
      for (const pieceBytes of [1, 16, 200]) expectSame(text, pieceBytes);
    }
    // The edits did break most documents: the errors were compared, not only values.
    expect(broken).toBeGreaterThan(700);
  });

  it("reads the bytes as the whole decode does: invalid UTF-8 and a byte-order mark", () => {
    const member = (content: Buffer) => Buffer.concat([Buffer.from('{"a": "'), content, Buffer.from('", "b": ['), Buffer.from("1, ".repeat(50)), Buffer.from("2]}")]);
    for (const bad of [[0xff], [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xed, 0xa0, 0x80]]) expectSame(member(Buffer.from(bad)), 8);
    expectSame(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ a: "x".repeat(100) }))]), 8);
    expectSame(Buffer.from(`{"a": [1, 2]} ${"x"}`), 4);
    expectSame(Buffer.from(`{"a": [1, 2]}}`), 4);
    expectSame(Buffer.from(`\f{"a": [1, 2]}`), 4);
  });

  it('keeps "__proto__" a member, as JSON.parse does, not the object\'s prototype', () => {
    const text = Buffer.from(`{"__proto__": {"polluted": true}, "a": ${JSON.stringify("x".repeat(200))}, "__proto__": {"polluted": 2}}`);
    const value = parseJsonBytes(text, { pieceBytes: 16, ...ALWAYS }) as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(["__proto__", "a"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expectSame(text, 16);
  });

  it("stays linear on hostile nesting: a million brackets deep, split at every level it may be", () => {
    const deep = Buffer.from(`${"[".repeat(1_000_000)}${"]".repeat(1_000_000)}`);
    const started = performance.now();
    let depth = 0;
    for (let value = parseJsonBytes(deep, { pieceBytes: 8, ...ALWAYS }); Array.isArray(value); value = value[0] as unknown) depth++;
    expect(depth).toBe(1_000_000);
    // JSON.parse alone takes about 0.7 s here; a split that rescanned each level would take hours.
    expect(performance.now() - started).toBeLessThan(20_000);
  });

  it.skipIf(!hasRealTraces)("gives JSON.parse's value for every JSON file of the real samples", () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        const info = statSync(path);
        if (info.isDirectory()) walk(path);
        else if (name.endsWith(".json") && info.size < 16 * 1024 * 1024) files.push(path);
      }
    };
    walk(realTraces);
    expect(files.length).toBeGreaterThan(50);
    let split = 0;
    for (const file of files) {
      const bytes = readFileSync(file);
      for (const pieceBytes of [PIECE_BYTES, 4096]) expectSame(bytes, pieceBytes);
      if (bytes.length > PIECE_BYTES) split++;
    }
    // Some are large enough to be split at the default size.
    expect(split).toBeGreaterThan(0);
  });
  if (!hasRealTraces) it.skip(NO_REAL_TRACES, () => undefined);
});

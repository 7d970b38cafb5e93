/**
 * The artifact cache: a parse stored as JSON Lines a record at a time and read back the same way;
 * an entry cut short (a crash mid-write) or too large is a miss, never a wrong answer.
 */
import { mkdtempSync, readdirSync, rmSync, truncateSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readCachedTrials, writeCachedTrials } from "../../src/github/runtime/cache.js";
import { readTrials } from "../../src/traces/index.js";

const auto = (artifactId: number) => ({ artifactId, format: "auto" });
const EXAMPLE = path.resolve(import.meta.dirname, "../../examples/terminal-agent/traces");
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "selfharness-cache-unit-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  delete process.env.SELFHARNESS_CACHE_MAX_BYTES;
});

describe("the artifact cache", () => {
  it("gives back exactly the parse it stored", async () => {
    const parsed = await readTrials([EXAMPLE, path.join(EXAMPLE, "missing")]);
    expect(parsed.errors.length).toBeGreaterThan(0);
    expect(await writeCachedTrials(auto(7), parsed, dir)).toBe(true);
    expect(await readCachedTrials(auto(7), dir)).toEqual(parsed);
    expect(await readCachedTrials(auto(8), dir)).toBeNull();
    // Read as another format, the same artifact is another entry.
    expect(await readCachedTrials({ artifactId: 7, format: "tb1" }, dir)).toBeNull();
  });

  it("treats an entry cut short as a miss", async () => {
    const parsed = await readTrials([EXAMPLE]);
    await writeCachedTrials(auto(9), parsed, dir);
    const [name] = readdirSync(dir);
    const file = path.join(dir, name!);
    truncateSync(file, Math.floor(statSync(file).size / 2));
    expect(await readCachedTrials(auto(9), dir)).toBeNull();
  });

  it("does not keep a parse larger than the cache may hold", async () => {
    process.env.SELFHARNESS_CACHE_MAX_BYTES = "10000";
    const parsed = await readTrials([EXAMPLE]);
    expect(await writeCachedTrials(auto(10), parsed, dir)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });
});

import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import yazl from "yazl";
import { extractZip, isZipBytes, unsafeEntryName } from "../../src/traces/zip.js";
import { readTrials } from "../../src/traces/index.js";
import { buildZip } from "./zip-writer.js";

const repoRoot = resolve(import.meta.dirname, "../..");
let work: string;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), "selfharness-zip-test-"));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

async function listFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1)).sort();
}

describe("extractZip", () => {
  it("extracts a plain archive and counts the bytes really written", async () => {
    const zip = buildZip([{ name: "job/result.json", data: '{"n_total_trials":0}' }, { name: "job/t__1/verifier/reward.txt", data: "1\n", deflate: true }]);
    const out = join(work, "out");
    const result = await extractZip(zip, out, {}, "artifact.zip");
    expect(result.errors).toEqual([]);
    expect(result.files).toBe(2);
    expect(result.bytes).toBe(22);
    expect(await readFile(join(out, "job/t__1/verifier/reward.txt"), "utf8")).toBe("1\n");
  });

  it("skips ../ traversal and absolute names, names the entry, and keeps the safe entries", async () => {
    const zip = buildZip([
      { name: "../escape.txt", data: "owned" },
      { name: "job/../../escape2.txt", data: "owned" },
      { name: "/etc/evil.txt", data: "owned" },
      { name: "C:\\windows\\evil.txt", data: "owned" },
      { name: "safe/result.json", data: "{}" },
    ]);
    const out = join(work, "a", "out");
    const result = await extractZip(zip, out, {}, "artifact.zip");
    expect(await listFiles(out)).toEqual(["safe/result.json"]);
    expect(existsSync(join(work, "a", "escape.txt"))).toBe(false);
    expect(existsSync(join(work, "escape2.txt"))).toBe(false);
    const messages = result.errors.map((e) => `${e.path}: ${e.message}`);
    expect(messages).toEqual([
      "artifact.zip!/../escape.txt: unsafe entry name: escapes the extraction folder (..); skipped",
      "artifact.zip!/job/../../escape2.txt: unsafe entry name: escapes the extraction folder (..); skipped",
      "artifact.zip!//etc/evil.txt: unsafe entry name: is an absolute path; skipped",
      "artifact.zip!/C:/windows/evil.txt: unsafe entry name: is an absolute path; skipped",
    ]);
  });

  it("never creates symbolic links", async () => {
    const zip = buildZip([{ name: "job/link", data: "/etc/passwd", mode: 0o120777 }, { name: "job/ok.txt", data: "fine" }]);
    const out = join(work, "out");
    const result = await extractZip(zip, out, {}, "artifact.zip");
    expect(await listFiles(out)).toEqual(["job/ok.txt"]);
    expect(result.errors).toEqual([{ path: "artifact.zip!/job/link", message: "symbolic link; skipped" }]);
  });

  it("stops a zip bomb on the streamed bytes (compression ratio) and removes the partial file", async () => {
    const zeros = Buffer.alloc(24 * 1024 * 1024);
    const zip = buildZip([{ name: "bomb.json", data: zeros, deflate: true }, { name: "after.txt", data: "still read" }]);
    expect(zip.length).toBeLessThan(200 * 1024);
    const out = join(work, "out");
    const result = await extractZip(zip, out, {}, "bomb.zip");
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]!.path).toBe("bomb.zip!/bomb.json");
    expect(result.errors[0]!.message).toMatch(/expands more than 200x its compressed size \(zip bomb\)/);
    expect(await listFiles(out)).toEqual(["after.txt"]);
  });

  it("does not trust a declared size smaller than what the entry inflates to", async () => {
    const zip = buildZip([{ name: "liar.txt", data: Buffer.alloc(64 * 1024, 97), deflate: true, declaredSize: 10 }]);
    const out = join(work, "out");
    const result = await extractZip(zip, out, {}, "liar.zip");
    expect(result.files).toBe(0);
    expect(result.errors[0]!.path).toBe("liar.zip!/liar.txt");
    expect(await listFiles(out)).toEqual([]);
  });

  it("skips an entry that declares more than the per-entry cap without inflating it", async () => {
    const zip = buildZip([{ name: "big.txt", data: Buffer.alloc(4096, 98), deflate: true }, { name: "small.txt", data: "ok" }]);
    const out = join(work, "out");
    const result = await extractZip(zip, out, { maxEntryBytes: 1000 }, "big.zip");
    expect(result.errors).toEqual([{ path: "big.zip!/big.txt", message: "declares 4096 bytes, more than the 1000 allowed per entry; skipped" }]);
    expect(await listFiles(out)).toEqual(["small.txt"]);
  });

  it("stops extraction when the whole archive exceeds the total cap, keeping what was extracted", async () => {
    const zip = buildZip(["a", "b", "c"].map((n) => ({ name: `${n}.txt`, data: Buffer.alloc(600, 120) })));
    const out = join(work, "out");
    const result = await extractZip(zip, out, { maxTotalBytes: 1000 }, "many.zip");
    expect(result.aborted).toBe(true);
    expect(await listFiles(out)).toEqual(["a.txt"]);
    expect(result.errors).toEqual([{ path: "many.zip!/b.txt", message: "the artifact expands beyond 1000 bytes, nested archives included (at entry b.txt); nothing more of it is read" }]);
  });

  it("refuses an archive with more entries than allowed before extracting anything", async () => {
    const zip = buildZip(["a", "b", "c"].map((n) => ({ name: `${n}.txt`, data: "x" })));
    const result = await extractZip(zip, join(work, "out"), { maxEntries: 2 }, "crowded.zip");
    expect(result.files).toBe(0);
    expect(result.errors[0]!.message).toBe("archive lists 3 entries, more than the 2 allowed; not read");
  });

  it("keeps the first copy of a duplicated name and survives a file and a folder of the same name", async () => {
    const zip = buildZip([
      { name: "job/reward.txt", data: "1\n" },
      { name: "job/reward.txt", data: "0\n" },
      { name: "job/x.txt", data: "file" },
      { name: "job/x.txt/y.txt", data: "inside" },
      { name: "job/after.txt", data: "still read" },
    ]);
    const out = join(work, "out");
    const result = await extractZip(zip, out, {}, "dup.zip");
    expect(await readFile(join(out, "job/reward.txt"), "utf8")).toBe("1\n");
    expect(await readFile(join(out, "job/after.txt"), "utf8")).toBe("still read");
    expect(result.files).toBe(3);
    expect(result.errors.map((e) => e.path)).toEqual(["dup.zip!/job/reward.txt", "dup.zip!/job/x.txt/y.txt"]);
  });

  it("skips encrypted entries", async () => {
    const zip = buildZip([{ name: "secret.txt", data: "x", encrypted: true }]);
    const result = await extractZip(zip, join(work, "out"), {}, "enc.zip");
    expect(result.errors).toEqual([{ path: "enc.zip!/secret.txt", message: "encrypted entry; skipped" }]);
  });

  it("reports a corrupt or non-zip file instead of throwing", async () => {
    const result = await extractZip(Buffer.from("PK\x03\x04 truncated garbage", "latin1"), join(work, "out"), {}, "junk.zip");
    expect(result.files).toBe(0);
    expect(result.errors[0]!.path).toBe("junk.zip");
    expect(result.errors[0]!.message).toMatch(/not a readable zip archive/);
  });

  it("recognises zips by their bytes and rejects unsafe names", () => {
    expect(isZipBytes(Buffer.from("PK\x03\x04rest", "latin1"))).toBe(true);
    expect(isZipBytes(Buffer.from("{\"a\":1}"))).toBe(false);
    expect(unsafeEntryName("a/b/c.json")).toBeUndefined();
    expect(unsafeEntryName("a\\..\\b")).toMatch(/escapes/);
  });
});

describe("readTrials on zip artifacts", () => {
  async function zipFolder(folder: string, prefix: string): Promise<Buffer> {
    const zip = new yazl.ZipFile();
    for (const file of await listFiles(folder)) zip.addFile(join(folder, file), `${prefix}${file}`);
    zip.end();
    const chunks: Buffer[] = [];
    for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  it("reads a Harbor jobs folder from a zip exactly as from the folder, with archive paths", async () => {
    const folder = join(repoRoot, "fixtures/harbor/jobs");
    const fromFolder = await readTrials([folder]);
    const artifact = join(work, "eval-traces.zip");
    await writeFile(artifact, await zipFolder(folder, "jobs/"));
    const fromZip = await readTrials([artifact]);
    expect(fromZip.errors).toEqual([]);
    const strip = (t: { source: { path: string } }) => ({ ...t, source: undefined });
    expect(fromZip.trials.map(strip)).toEqual(fromFolder.trials.map(strip));
    expect(fromZip.trials[0]!.source.path).toBe(`${artifact}!/jobs/2026-03-02__10-15-00/build-site__Mn01Op2`);
  });

  it("detects a zip by magic bytes whatever its name, and reads the safe part of a malicious one", async () => {
    const good = await zipFolder(join(repoRoot, "fixtures/harbor/jobs/2026-03-03__08-00-00"), "2026-03-03__08-00-00/");
    const artifact = join(work, "artifact-without-extension");
    await writeFile(artifact, good);
    const read = await readTrials([artifact]);
    expect(read.trials.map((t) => t.id)).toEqual(["2026-03-03__08-00-00/fix-parser__Uv56Wx7", "2026-03-03__08-00-00/write-report__Zz99Yy8"]);

    const evil = join(work, "evil.zip");
    await writeFile(evil, buildZip([{ name: "../../outside.json", data: "{}" }, { name: "run/result.json", data: '{"trial_name":"t__1","task_name":"t","verifier_result":{"rewards":{"reward":1}}}' }]));
    const mixed = await readTrials([evil]);
    expect(mixed.trials.map((t) => [t.id, t.outcome])).toEqual([["evil/run", "pass"]].map(([, o]) => ["evil/t__1", o]));
    expect(mixed.errors.map((e) => e.path)).toEqual([`${evil}!/../../outside.json`]);
  });
});

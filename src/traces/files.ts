import { closeSync, constants, fstatSync, openSync, readdirSync, readSync } from "node:fs";
import { open, readdir, readFile, stat } from "node:fs/promises";
import { countJsonValues, parseJsonBytes } from "./json.js";
import { JSON_SCAN_BYTES, MAX_JSON_BYTES, MAX_JSON_VALUES, MAX_TEXT_BYTES } from "./limits.js";
import { inArchive } from "./mount.js";
import type { IngestError } from "./types.js";

export type Read<T> = { ok: true; value: T } | { ok: false; message: string };

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Whether this thread reads files with blocking calls. A trial-pool worker does (trial-worker.ts): it
 * has nothing else to keep responsive, and a blocking read of a file in the page cache skips the hops
 * through libuv's shared thread pool that every step of a promise-based read takes (open, stat, read,
 * close), which leave both threads waiting. So does the CLI's main thread (cli/options.ts); the app's
 * never blocks, since it serves webhooks.
 */
let blocking = false;

/** Makes this thread's reads blocking calls; only for a thread with nothing else to keep responsive. */
export function readWithBlockingCalls(): void {
  blocking = true;
}

/** A folder's files and subfolders by name; symbolic links are neither (never followed). */
export async function listFolder(dir: string): Promise<Read<{ files: string[]; dirs: string[] }>> {
  const mounted = inArchive(dir);
  if (mounted) {
    const folder = mounted.archive.folder(mounted.path);
    if (!folder) return { ok: false, message: `ENOENT: no such folder in the archive, '${dir}'` };
    return { ok: true, value: { files: [...folder.files.keys()], dirs: [...folder.dirs] } };
  }
  try {
    const dirents = blocking ? readdirSync(dir, { withFileTypes: true }) : await readdir(dir, { withFileTypes: true });
    return { ok: true, value: { files: dirents.filter((d) => d.isFile()).map((d) => d.name), dirs: dirents.filter((d) => d.isDirectory()).map((d) => d.name) } };
  } catch (error) {
    return { ok: false, message: describe(error) };
  }
}

/** A whole file of at most `maxBytes`: a bigger, missing or unreadable one is a message. */
async function readBytes(path: string, maxBytes: number): Promise<Read<Buffer>> {
  const mounted = inArchive(path);
  if (mounted) {
    const file = mounted.archive.file(mounted.path);
    if (!file) return { ok: false, message: mounted.archive.folder(mounted.path) ? "not a regular file" : `ENOENT: no such file in the archive, '${path}'` };
    if (file.size > maxBytes) return { ok: false, message: `file is ${file.size} bytes, more than the ${maxBytes} bytes read` };
    try {
      return { ok: true, value: await mounted.archive.read(file) };
    } catch (error) {
      return { ok: false, message: `cannot read: ${describe(error)}` };
    }
  }
  try {
    const info = await stat(path);
    if (!info.isFile()) return { ok: false, message: "not a regular file" };
    if (info.size > maxBytes) return { ok: false, message: `file is ${info.size} bytes, more than the ${maxBytes} bytes read` };
    return { ok: true, value: await readFile(path) };
  } catch (error) {
    return { ok: false, message: `cannot read: ${describe(error)}` };
  }
}

/**
 * The buffer this thread's blocking reads fill, for bytes that are decoded before anything else runs
 * (withJsonBytes, readTextFile): a fresh buffer for each file is fresh memory, which the system maps
 * page by page as the read fills it. A Harbor trajectory of 288 KB cost 72 page faults; on a virtual
 * machine whose faults take 15 µs, reading the 370 trajectories of the Harbor bench corpus into fresh
 * buffers took 2.1-3.6 ns a byte against 0.2-0.3 into this one. A file larger than READ_BUFFER_KEPT
 * gets a buffer of its own, so the thread never keeps more than that.
 */
let readBuffer = Buffer.allocUnsafe(0);
const READ_BUFFER_KEPT = 4 * 1024 * 1024;

/** A buffer of `length` bytes for a blocking read: this thread's read buffer when it can hold them. */
function bufferFor(length: number, reuse: boolean): Buffer {
  if (!reuse || length > READ_BUFFER_KEPT) return Buffer.allocUnsafe(length);
  if (length > readBuffer.length) readBuffer = Buffer.allocUnsafe(Math.min(READ_BUFFER_KEPT, Math.max(length, 2 * readBuffer.length, 64 * 1024)));
  return readBuffer;
}

/** Opens `path` with blocking calls for `read`, given its size; undefined when it is not a regular file. */
function withRegularFile<T>(path: string, read: (fd: number, size: number) => T): T | undefined {
  const fd = openSync(path, OPEN_FLAGS);
  try {
    const info = fstatSync(fd);
    return info.isFile() ? read(fd, info.size) : undefined;
  } finally {
    closeSync(fd);
  }
}

/** `length` bytes from `position`, into this thread's read buffer with `reuse` (see `readBuffer`). */
function readRange(fd: number, length: number, position: number, reuse: boolean): Buffer {
  // Not zero-filled (17 ms of the 0.65 s that reading and mining 400 TB1 trials take on one thread):
  // only the bytes read are returned.
  const buffer = bufferFor(length, reuse);
  return buffer.subarray(0, readSync(fd, buffer, 0, length, position));
}

/** `readBytes` with blocking calls, into this thread's read buffer: decode the bytes before anything else runs. */
function readBytesBlocking(path: string, maxBytes: number): Read<Buffer> {
  try {
    const read = withRegularFile<Read<Buffer>>(path, (fd, size) => (size > maxBytes ? { ok: false, message: `file is ${size} bytes, more than the ${maxBytes} bytes read` } : { ok: true, value: readRange(fd, size, 0, true) }));
    return read ?? { ok: false, message: "not a regular file" };
  } catch (error) {
    return { ok: false, message: `cannot read: ${describe(error)}` };
  }
}

/**
 * Reads a JSON file and gives its bytes to `use`; a missing, huge, empty or binary file, or one of too
 * many values, is a message, never a throw. `use` must not keep the bytes: a blocking read fills this
 * thread's read buffer, so they are used at once, with no await between the read and `use`.
 */
export async function withJsonBytes<T>(path: string, maxBytes: number, use: (bytes: Buffer) => T): Promise<Read<T>> {
  const read = jsonBytes(blocking && !inArchive(path) ? readBytesBlocking(path, maxBytes) : await readBytes(path, maxBytes));
  return read.ok ? { ok: true, value: use(read.value) } : read;
}

/** JSON parsed from a file's bytes (json.ts: a large file is never made one string); malformed JSON is a message. */
export function parseJsonFile(bytes: Buffer): Read<unknown> {
  try {
    return { ok: true, value: parseJsonBytes(bytes) };
  } catch (error) {
    return { ok: false, message: `malformed JSON: ${describe(error)}` };
  }
}

/** Reads and parses a JSON file; a missing, huge, binary or malformed file is a message, never a throw. */
export async function readJsonFile(path: string, maxBytes = MAX_JSON_BYTES): Promise<Read<unknown>> {
  const read = await withJsonBytes(path, maxBytes, parseJsonFile);
  return read.ok ? read.value : read;
}

/** The bytes of a JSON file that may be parsed: an empty or binary file, or one of too many values, is a message. */
function jsonBytes(read: Read<Buffer>): Read<Buffer> {
  if (!read.ok) return read;
  const bytes = read.value;
  if (bytes.length === 0) return { ok: false, message: "empty file" };
  if (bytes.includes(0)) return { ok: false, message: "binary content (NUL bytes), not JSON" };
  if (bytes.length > JSON_SCAN_BYTES && countJsonValues(bytes, MAX_JSON_VALUES) > MAX_JSON_VALUES) {
    return { ok: false, message: `file of ${bytes.length} bytes holds more than ${MAX_JSON_VALUES} JSON values, more than is parsed (its parse would take gigabytes); not read` };
  }
  return read;
}

/**
 * A text file's bytes as text without NUL characters. UTF-8 decodes a NUL from a zero byte and from
 * nothing else, so the search runs on the bytes (memchr), many times faster than on the decoded text.
 */
export const textOfBytes = (bytes: Buffer) => (bytes.includes(0) ? bytes.toString("utf8").replace(/\0/g, "") : bytes.toString("utf8"));

/** Reads a text file as readTextBytes does, decoded (textOfBytes). */
export async function readTextFile(path: string, problems: IngestError[], maxBytes = MAX_TEXT_BYTES): Promise<string | undefined> {
  // Blocking reads fill this thread's read buffer and are decoded before anything else runs.
  const bytes = blocking && !inArchive(path) ? readTextBytesBlocking(path, problems, maxBytes, true) : await readTextBytes(path, problems, maxBytes);
  return bytes && textOfBytes(bytes);
}

/**
 * A text file's bytes, for a reader that decodes only the part it reads (textOfBytes); files over
 * `maxBytes` keep only their last `maxBytes` bytes. A missing file is undefined and no problem: the
 * readers' text files are optional. One that is there but cannot be read is undefined and said in
 * `problems` (an archive entry refused as a bomb, a folder or a pipe in a file's place, a read error),
 * so that a trial never loses its log without a word. An archive whose bytes are all spent is said
 * once, for its input (streamTrials), not for each file after.
 */
export async function readTextBytes(path: string, problems: IngestError[], maxBytes = MAX_TEXT_BYTES): Promise<Buffer | undefined> {
  const mounted = inArchive(path);
  if (mounted) {
    const file = mounted.archive.file(mounted.path);
    if (!file) {
      if (mounted.archive.folder(mounted.path)) problems.push({ path, message: NOT_A_FILE });
      return undefined;
    }
    try {
      return await mounted.archive.read(file, { tail: maxBytes });
    } catch (error) {
      if (!mounted.archive.exhausted) problems.push({ path, message: `not read: ${describe(error)}` });
      return undefined;
    }
  }
  if (blocking) return readTextBytesBlocking(path, problems, maxBytes, false);
  try {
    const bytes = await readTail(path, maxBytes);
    if (!bytes) problems.push({ path, message: NOT_A_FILE });
    return bytes;
  } catch (error) {
    return noteUnread(path, problems, error);
  }
}

const NOT_A_FILE = "not a regular file; not read";

/** A text file that could not be read, said in `problems`, unless it is missing (the readers' text files are optional). */
function noteUnread(path: string, problems: IngestError[], error: unknown): undefined {
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== "ENOENT" && code !== "ENOTDIR") problems.push({ path, message: `cannot read: ${describe(error)}` });
  return undefined;
}

/** `readTextBytes` of a file on the disk, with blocking calls; with `reuse`, into this thread's read buffer (`readBuffer`). */
function readTextBytesBlocking(path: string, problems: IngestError[], maxBytes: number, reuse: boolean): Buffer | undefined {
  try {
    const bytes = withRegularFile(path, (fd, size) => readRange(fd, Math.min(size, maxBytes), Math.max(0, size - maxBytes), reuse));
    if (!bytes) problems.push({ path, message: NOT_A_FILE });
    return bytes;
  } catch (error) {
    return noteUnread(path, problems, error);
  }
}

/** The last `maxBytes` bytes of a file, read with promise-based calls; undefined when it is not a regular file. */
async function readTail(path: string, maxBytes: number): Promise<Buffer | undefined> {
  const handle = await open(path, OPEN_FLAGS);
  try {
    const info = await handle.stat();
    if (!info.isFile()) return undefined;
    const { size } = info;
    const length = Math.min(size, maxBytes);
    // Not zero-filled, as in readRange.
    const buffer = Buffer.allocUnsafe(length);
    const { bytesRead } = await handle.read(buffer, 0, length, size - length);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * Opened without waiting: a named pipe in place of a log would hold the open until something writes
 * to it, which nothing does. It opens at once, and is then turned away as not a regular file.
 */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/** The first bytes of a file, for format detection by content. */
export async function readHead(path: string, bytes: number): Promise<Buffer | undefined> {
  const mounted = inArchive(path);
  if (mounted) {
    const file = mounted.archive.file(mounted.path);
    if (!file) return undefined;
    return mounted.archive.read(file, { head: bytes }).catch(() => undefined);
  }
  try {
    const handle = await open(path, OPEN_FLAGS);
    try {
      if (!(await handle.stat()).isFile()) return undefined;
      const buffer = Buffer.alloc(bytes);
      const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function asString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** A finite number, also from a numeric string ("1.0" in reward.txt). */
export function asNumber(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value.trim() !== "") {
    const n = Number(value.trim());
    if (Number.isFinite(n)) return n;
  }
  return undefined;
}

/** Seconds from one ISO timestamp to another, when both parse and the span is not negative. */
export function secondsBetween(start: unknown, end: unknown): number | undefined {
  if (typeof start !== "string" || typeof end !== "string") return undefined;
  const from = Date.parse(start);
  const to = Date.parse(end);
  if (!Number.isFinite(from) || !Number.isFinite(to) || to < from) return undefined;
  return Math.round((to - from) / 100) / 10;
}

import { close, open as openFd, read as readFd, fstat } from "node:fs";
import { mkdir, open } from "node:fs/promises";
import { dirname, resolve, sep } from "node:path";
import { Readable } from "node:stream";
import { inflateRawSync } from "node:zlib";
import yauzl from "yauzl";
import type { IngestError } from "./types.js";

/**
 * Caps on what one artifact may expand to; enforced on the bytes actually inflated, not declared
 * sizes. `maxEntries` and `maxTotalBytes` hold for the artifact as a whole, nested archives included
 * (every archive of one artifact draws on the same `ZipSpent`); the others hold per entry.
 */
export interface ZipLimits {
  maxEntries: number;
  maxTotalBytes: number;
  maxEntryBytes: number;
  /** Largest uncompressed/compressed ratio per entry (entries under `ratioFloorBytes` are exempt). */
  maxRatio: number;
  ratioFloorBytes: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxEntries: 200_000,
  maxTotalBytes: 2 * 1024 ** 3,
  maxEntryBytes: 1024 ** 3,
  maxRatio: 200,
  ratioFloorBytes: 1024 * 1024,
};

/** What an artifact's archives have used of its limits so far, across every nesting level. */
export interface ZipSpent {
  entries: number;
  /** Bytes inflated, whoever asked for them (every read counts, a second read of an entry too). */
  bytes: number;
  /** When reading this artifact must stop (epoch ms). */
  deadline?: number;
  /** Set once a cap on the whole artifact is crossed: nothing more of it is inflated. */
  exhausted?: string;
}

const ZIP_MAGIC = [Buffer.from("PK\x03\x04", "latin1"), Buffer.from("PK\x05\x06", "latin1")];

/** Zip detection by content: artifacts may be zips without a .zip name, or not zips despite one. */
export function isZipBytes(head: Buffer): boolean {
  return ZIP_MAGIC.some((magic) => head.subarray(0, 4).equals(magic));
}

/**
 * Entries a reader may open: JSON documents and lines, SWE-agent trajectories, text (panes, logs,
 * rewards, test output) and nested archives. Anything else (terminal recordings, which are most of a
 * Terminal-Bench artifact's bytes; images; binaries) is listed and counted, never inflated.
 */
export function readable(name: string): boolean {
  return READABLE.test(name);
}

const READABLE = /\.(?:json|jsonl|ndjson|traj|txt|log|zip|eval)$/i;
export const READABLE_EXTENSIONS = ".json, .jsonl, .ndjson, .traj, .txt, .log, .zip, .eval";

/** Why an entry name is unsafe to extract, or undefined when it is a plain relative path. */
export function unsafeEntryName(name: string): string | undefined {
  if (name.includes("\0")) return "contains a NUL byte";
  const normal = name.replace(/\\/g, "/");
  if (normal.startsWith("/") || /^[a-zA-Z]:/.test(normal)) return "is an absolute path";
  if (normal.split("/").includes("..")) return "escapes the extraction folder (..)";
  return undefined;
}

/** A cap crossed while inflating; `fatal` when it is the artifact's, not the entry's. */
export class LimitError extends Error {
  constructor(message: string, readonly fatal: boolean) {
    super(message);
  }
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
/** A local file header is at least this long before its name, extra field and data. */
const LOCAL_HEADER_BYTES = 30;
/** Entries up to this size (compressed and declared) are read in one piece; bigger ones stream. */
const SMALL_ENTRY = 1024 * 1024;

const entryName = (entry: yauzl.Entry) => yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileName as unknown as Buffer, entry.extraFields, false);

/**
 * Two entries whose bytes overlap: the way a few KB hold gigabytes (every entry inflating the same
 * compressed run). No zip writer produces them; the archive is refused whole.
 */
function overlapping(entries: yauzl.Entry[]): [yauzl.Entry, yauzl.Entry] | undefined {
  const sorted = [...entries].sort((a, b) => a.relativeOffsetOfLocalHeader - b.relativeOffsetOfLocalHeader);
  for (let i = 1; i < sorted.length; i++) {
    const previous = sorted[i - 1]!;
    const end = previous.relativeOffsetOfLocalHeader + LOCAL_HEADER_BYTES + previous.compressedSize;
    if (sorted[i]!.relativeOffsetOfLocalHeader < end) return [previous, sorted[i]!];
  }
  return undefined;
}

/** Every entry of the central directory, up to `max`; an error ends the listing. */
function listEntries(zip: yauzl.ZipFile, max: number): Promise<{ entries: yauzl.Entry[]; error?: string }> {
  return new Promise((done) => {
    const entries: yauzl.Entry[] = [];
    let finished = false;
    const finish = (error?: string) => {
      if (finished) return;
      finished = true;
      done(error === undefined ? { entries } : { entries, error });
    };
    zip.on("error", (error: Error) => finish(`corrupt zip archive: ${error.message}`));
    zip.on("end", () => finish());
    zip.on("entry", (entry: yauzl.Entry) => {
      entries.push(entry);
      if (entries.length >= max) finish();
      else zip.readEntry();
    });
    zip.readEntry();
  });
}

/** One entry the archive serves: its name inside the archive and what it inflates to. */
export interface ArchiveFile {
  /** The entry's name as the archive spells it, for messages. */
  name: string;
  /** Its path inside the archive: relative, `/`-separated, without `.` or empty parts. */
  path: string;
  /** The declared size; a stream that inflates to anything else fails (yauzl validates it). */
  size: number;
  entry: yauzl.Entry;
}

export interface ArchiveFolder {
  files: Map<string, ArchiveFile>;
  dirs: Set<string>;
}

/**
 * Reads a zip from its file through a block cache: listing a central directory of a hundred
 * thousand entries is a hundred thousand small reads, which one 64 KiB read serves hundreds of.
 */
class CachedFileReader extends yauzl.RandomAccessReader {
  private block?: { start: number; data: Buffer };
  constructor(private readonly fd: number) {
    super();
  }
  override _readStreamForRange(start: number, end: number): Readable {
    // Not fs.createReadStream: destroying one (as a reader that wants only a file's head does) closes
    // the descriptor every other entry of the archive reads from.
    const fd = this.fd;
    let position = start;
    return new Readable({
      highWaterMark: 64 * 1024,
      read(size) {
        const length = Math.min(size, end - position);
        if (length <= 0) return void this.push(null);
        const buffer = Buffer.allocUnsafe(length);
        readFd(fd, buffer, 0, length, position, (error, bytesRead) => {
          if (error) return void this.destroy(error);
          if (bytesRead === 0) return void this.push(null);
          position += bytesRead;
          this.push(buffer.subarray(0, bytesRead));
        });
      },
    });
  }
  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null, bytesRead?: number) => void): void {
    const block = this.block;
    if (block && position >= block.start && position + length <= block.start + block.data.length) {
      block.data.copy(buffer, offset, position - block.start, position - block.start + length);
      return process.nextTick(callback, null, length);
    }
    const data = Buffer.alloc(Math.max(length, 64 * 1024));
    readFd(this.fd, data, 0, data.length, position, (error, bytesRead) => {
      if (error) return callback(error);
      this.block = { start: position, data: data.subarray(0, bytesRead) };
      const copied = Math.min(length, bytesRead);
      data.copy(buffer, offset, 0, copied);
      callback(null, copied);
    });
  }
  override close(callback: (err: Error | null) => void): void {
    close(this.fd, callback);
  }
}

function openZipFile(path: string, options: yauzl.Options): Promise<{ zip: yauzl.ZipFile; readRaw: (position: number, length: number) => Promise<Buffer> }> {
  return new Promise((ok, ko) => {
    openFd(path, "r", (error, fd) => {
      if (error) return ko(error);
      fstat(fd, (statError, info) => {
        if (statError) return close(fd, () => ko(statError));
        const reader = new CachedFileReader(fd);
        const readRaw = (position: number, length: number) =>
          new Promise<Buffer>((done, fail) => {
            const buffer = Buffer.alloc(length);
            reader.read(buffer, 0, length, position, (readError, bytesRead) => (readError ? fail(readError) : bytesRead !== length ? fail(new Error("unexpected end of the archive")) : done(buffer)));
          });
        yauzl.fromRandomAccessReader(reader, info.size, options, (zipError, zip) => (zipError ? ko(zipError) : ok({ zip, readRaw })));
      });
    });
  });
}

export interface OpenedArchive {
  archive?: ZipArchive;
  errors: IngestError[];
  /** Entries no reader opens (see `readable`). */
  skipped: number;
}

/**
 * A zip read in place: its listing as folders, each entry inflated only when a reader asks for it,
 * within the artifact's caps. Nothing is written to disk, so an artifact of a hundred thousand tiny
 * files costs what its readers read, not a hundred thousand file creations.
 */
export class ZipArchive {
  private constructor(
    private readonly zip: yauzl.ZipFile,
    /** `length` raw bytes of the archive from `position`. */
    private readonly readRaw: (position: number, length: number) => Promise<Buffer>,
    private readonly folders: Map<string, ArchiveFolder>,
    /** Every file the archive serves, in the order of its directory. */
    readonly files: ArchiveFile[],
    private readonly limits: ZipLimits,
    private readonly spent: ZipSpent,
  ) {}

  /**
   * Opens and lists an archive. Unsafe entries (traversal, absolute paths, symlinks, encrypted,
   * declared too big) are left out with an error naming each; overlapping entries, or more entries
   * than the artifact has left, refuse the archive. Never throws for bad content.
   */
  static async open(source: string | Buffer, label: string, options: Partial<ZipLimits> = {}, spent: ZipSpent = { entries: 0, bytes: 0 }): Promise<OpenedArchive> {
    const limits = { ...DEFAULT_ZIP_LIMITS, ...options };
    const errors: IngestError[] = [];
    const fail = (entry: string | undefined, message: string) => errors.push({ path: entry ? `${label}!/${entry}` : label, message });
    let zip: yauzl.ZipFile;
    let readRaw: (position: number, length: number) => Promise<Buffer>;
    try {
      const opts = { lazyEntries: true, decodeStrings: false, validateEntrySizes: true, autoClose: false };
      if (typeof source === "string") {
        const opened = await openZipFile(source, opts);
        zip = opened.zip;
        readRaw = opened.readRaw;
      } else {
        zip = await yauzl.fromBufferPromise(source, opts);
        readRaw = async (position, length) => {
          if (position + length > source.length) throw new Error("file data overflows the archive");
          return source.subarray(position, position + length);
        };
      }
    } catch (error) {
      fail(undefined, `not a readable zip archive: ${error instanceof Error ? error.message : String(error)}`);
      return { errors, skipped: 0 };
    }
    const refuse = (message: string): OpenedArchive => {
      fail(undefined, message);
      zip.close();
      return { errors, skipped: 0 };
    };
    const allowed = limits.maxEntries - spent.entries;
    if (zip.entryCount > allowed) {
      const nested = spent.entries > 0 ? ` (${spent.entries} already listed by the artifact's other archives)` : "";
      return refuse(`archive lists ${zip.entryCount} entries, more than the ${Math.max(0, allowed)} allowed${nested}; not read`);
    }
    const listing = await listEntries(zip, allowed);
    spent.entries += listing.entries.length;
    if (listing.error) fail(undefined, listing.error);
    const overlap = overlapping(listing.entries);
    if (overlap) return refuse(`entries ${entryName(overlap[0])} and ${entryName(overlap[1])} share bytes (overlapping entries, the mark of a zip bomb); not read`);
    const { folders, files, skipped } = layOut(listing.entries, limits, fail);
    return { archive: new ZipArchive(zip, readRaw, folders, files, limits, spent), errors, skipped };
  }

  /** Whether the artifact's bytes are spent: nothing more of it is read (the input says so once). */
  get exhausted(): boolean {
    return this.spent.exhausted !== undefined;
  }

  /** The folder at `path` (relative, `/`-separated, "" for the root). */
  folder(path: string): ArchiveFolder | undefined {
    return this.folders.get(path);
  }

  file(path: string): ArchiveFile | undefined {
    const at = path.lastIndexOf("/");
    return this.folders.get(at === -1 ? "" : path.slice(0, at))?.files.get(at === -1 ? path : path.slice(at + 1));
  }

  /**
   * Inflates an entry, counting every byte against the artifact: all of it, its first `head` bytes,
   * or (for `tail`) all of it keeping only the last bytes. Rejects with a `LimitError` at a cap.
   */
  async read(file: ArchiveFile, want: { head?: number; tail?: number } = {}): Promise<Buffer> {
    const { limits, spent } = this;
    if (spent.exhausted) throw new LimitError(spent.exhausted, true);
    const { entry } = file;
    if (entry.compressedSize <= SMALL_ENTRY && entry.uncompressedSize <= SMALL_ENTRY && (entry.compressionMethod === 0 || entry.compressionMethod === 8)) {
      const data = await this.readSmall(file);
      spent.bytes += data.length;
      if (spent.bytes > limits.maxTotalBytes) {
        spent.exhausted ??= `the artifact expands beyond ${limits.maxTotalBytes} bytes, nested archives included (at entry ${file.name}); nothing more of it is read`;
        throw new LimitError(spent.exhausted, true);
      }
      if (want.head !== undefined) return data.subarray(0, want.head);
      return want.tail !== undefined && data.length > want.tail ? data.subarray(data.length - want.tail) : data;
    }
    return this.readStreamed(file, want);
  }

  /**
   * A small entry in one piece: its bytes at once (an archive of many small files is read a block at a
   * time) and inflated in place, rather than through a stream and the thread pool for each. The
   * declared size bounds the inflation and must match it exactly, as for streamed entries.
   */
  private async readSmall(file: ArchiveFile): Promise<Buffer> {
    const { entry } = file;
    const header = await this.readRaw(entry.relativeOffsetOfLocalHeader, LOCAL_HEADER_BYTES);
    if (header.readUInt32LE(0) !== 0x04034b50) throw new Error(`invalid local file header signature: 0x${header.readUInt32LE(0).toString(16)}`);
    const start = entry.relativeOffsetOfLocalHeader + LOCAL_HEADER_BYTES + header.readUInt16LE(26) + header.readUInt16LE(28);
    const raw = await this.readRaw(start, entry.compressedSize);
    let data: Buffer;
    if (entry.compressionMethod === 0) data = raw;
    else {
      try {
        data = inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.uncompressedSize) });
      } catch (error) {
        throw new Error(`entry does not inflate to its declared ${entry.uncompressedSize} bytes: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (data.length !== entry.uncompressedSize) throw new Error(`entry holds ${data.length} bytes, not the ${entry.uncompressedSize} it declares`);
    return data;
  }

  private readStreamed(file: ArchiveFile, want: { head?: number; tail?: number }): Promise<Buffer> {
    const { limits, spent } = this;
    return new Promise((resolveRead, rejectRead) => {
      this.zip.openReadStream(file.entry, (error, stream) => {
        if (error) return rejectRead(error);
        const chunks: Buffer[] = [];
        let kept = 0;
        let inflated = 0;
        let settled = false;
        const settle = (outcome: Error | Buffer) => {
          if (settled) return;
          settled = true;
          stream.destroy();
          if (outcome instanceof Error) rejectRead(outcome);
          else resolveRead(outcome);
        };
        stream.on("error", (streamError: Error) => settle(streamError));
        stream.on("end", () => {
          let data = Buffer.concat(chunks);
          if (want.tail !== undefined && data.length > want.tail) data = data.subarray(data.length - want.tail);
          settle(data);
        });
        stream.on("data", (chunk: Buffer) => {
          inflated += chunk.length;
          spent.bytes += chunk.length;
          // The entry's own cap: its error names the entry by its path, so the message need not.
          if (inflated > limits.maxEntryBytes) return settle(new LimitError(`expands beyond ${limits.maxEntryBytes} bytes`, false));
          if (inflated > limits.ratioFloorBytes && inflated > Math.max(1, file.entry.compressedSize) * limits.maxRatio) {
            return settle(new LimitError(`expands more than ${limits.maxRatio}x its compressed size (zip bomb)`, false));
          }
          if (spent.bytes > limits.maxTotalBytes) {
            spent.exhausted ??= `the artifact expands beyond ${limits.maxTotalBytes} bytes, nested archives included (at entry ${file.name}); nothing more of it is read`;
            return settle(new LimitError(spent.exhausted, true));
          }
          chunks.push(chunk);
          kept += chunk.length;
          if (want.head !== undefined && kept >= want.head) return settle(Buffer.concat(chunks).subarray(0, want.head));
          // A tail keeps the chunks that can still hold part of it.
          while (want.tail !== undefined && chunks.length > 1 && kept - chunks[0]!.length >= want.tail) kept -= chunks.shift()!.length;
        });
      });
    });
  }

  close(): void {
    this.zip.close();
  }
}

/**
 * The archive's listing as folders, with the checks that need no bytes (names, links, encryption,
 * declared sizes) and the ones that depend on order made as extraction would make them: the first
 * copy of a duplicated name wins; a file where an earlier entry made a folder, or under an earlier
 * file, is left out.
 */
function layOut(entries: yauzl.Entry[], limits: ZipLimits, fail: (entry: string, message: string) => void): { folders: Map<string, ArchiveFolder>; files: ArchiveFile[]; skipped: number } {
  const folders = new Map<string, ArchiveFolder>([["", { files: new Map(), dirs: new Set() }]]);
  const files: ArchiveFile[] = [];
  let skipped = 0;
  for (const entry of entries) {
    const name = entryName(entry);
    if (name.endsWith("/")) continue;
    const unsafe = unsafeEntryName(name);
    if (unsafe) {
      fail(name, `unsafe entry name: ${unsafe}; skipped`);
      continue;
    }
    if (((entry.externalFileAttributes >>> 16) & S_IFMT) === S_IFLNK) {
      fail(name, "symbolic link; skipped");
      continue;
    }
    if (entry.generalPurposeBitFlag & 1) {
      fail(name, "encrypted entry; skipped");
      continue;
    }
    if (!readable(name)) {
      skipped++;
      continue;
    }
    if (entry.uncompressedSize > limits.maxEntryBytes) {
      fail(name, `declares ${entry.uncompressedSize} bytes, more than the ${limits.maxEntryBytes} allowed per entry; skipped`);
      continue;
    }
    const parts = name.replace(/\\/g, "/").split("/").filter((p) => p !== "" && p !== ".");
    if (parts.length === 0) continue;
    const base = parts.pop()!;
    const folderPath = parts.join("/");
    if (folders.get(folderPath)?.files.has(base)) {
      fail(name, "a second entry of the same name; the first is kept");
      continue;
    }
    // Every folder on the way must not already be a file, and the name must not already be a folder.
    const clash = parts.some((_, i) => folders.get(parts.slice(0, i).join("/"))?.files.has(parts[i]!)) || folders.has(folderPath === "" ? base : `${folderPath}/${base}`);
    if (clash) {
      fail(name, "a file and a folder of the same name; skipped");
      continue;
    }
    for (let i = 0; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      const path = parts.slice(0, i + 1).join("/");
      folders.get(parent)!.dirs.add(parts[i]!);
      if (!folders.has(path)) folders.set(path, { files: new Map(), dirs: new Set() });
    }
    const file: ArchiveFile = { name, path: folderPath === "" ? base : `${folderPath}/${base}`, size: entry.uncompressedSize, entry };
    folders.get(folderPath)!.files.set(base, file);
    files.push(file);
  }
  return { folders, files, skipped };
}

export interface ExtractResult {
  files: number;
  bytes: number;
  /** Entries no reader opens (see `readable`): listed, not extracted. */
  skipped: number;
  errors: IngestError[];
  /** True when a cap stopped extraction early; what was extracted before is kept. */
  aborted: boolean;
}

/**
 * Extracts a zip (path or bytes) into `dest` under the same rules as reading it in place: unsafe
 * entries skipped with an error naming each, overlapping entries refusing the archive, every byte
 * counted against the caps, entries no reader opens left out. Never throws for bad content.
 */
export async function extractZip(source: string | Buffer, dest: string, options: Partial<ZipLimits> = {}, label = typeof source === "string" ? source : "zip"): Promise<ExtractResult> {
  const spent: ZipSpent = { entries: 0, bytes: 0 };
  const opened = await ZipArchive.open(source, label, options, spent);
  const result: ExtractResult = { files: 0, bytes: 0, skipped: opened.skipped, errors: opened.errors, aborted: !opened.archive && opened.errors.length > 0 };
  const archive = opened.archive;
  if (!archive) return result;
  const root = resolve(dest);
  try {
    await mkdir(root, { recursive: true });
    for (const file of archive.files) {
      const before = spent.bytes;
      try {
        const data = await archive.read(file);
        const target = resolve(root, file.path);
        if (!target.startsWith(root + sep)) continue;
        await mkdir(dirname(target), { recursive: true });
        const handle = await open(target, "wx");
        try {
          await handle.writeFile(data);
        } finally {
          await handle.close();
        }
        result.files++;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        result.errors.push({ path: `${label}!/${file.name}`, message: error instanceof LimitError ? message : `cannot extract: ${message}` });
        if (error instanceof LimitError && error.fatal) {
          result.aborted = true;
          break;
        }
      } finally {
        result.bytes += spent.bytes - before;
      }
    }
  } finally {
    archive.close();
  }
  return result;
}

import { crc32, deflateRawSync } from "node:zlib";

/** One entry of a hand-built archive; every field a malicious archive might lie about is settable. */
export interface RawEntry {
  name: string;
  data?: Buffer | string;
  deflate?: boolean;
  /** Unix mode bits stored in the external attributes (e.g. 0o120777 for a symlink). */
  mode?: number;
  /** Overrides the uncompressed size written in the headers. */
  declaredSize?: number;
  encrypted?: boolean;
  /**
   * Writes no data of its own: the central directory points this name at the local header of entry
   * number `alias` (entries overlapping, the way a few KB of zip hold gigabytes).
   */
  alias?: number;
  /** Data already deflated, and the size it inflates to (its checksum is not checked by readers). */
  prepacked?: { data: Buffer; size: number };
}

/**
 * Writes a zip byte by byte (local headers, central directory, end record), so tests can build
 * archives that normal zip writers refuse to produce: `../` names, symlinks, lying sizes, bombs.
 */
export function buildZip(entries: RawEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  const offsets: number[] = [];
  const sizes: { packed: number; size: number; crc: number; method: number }[] = [];
  let offset = 0;
  for (const [index, entry] of entries.entries()) {
    if (entry.alias !== undefined) {
      const target = sizes[entry.alias]!;
      const name = Buffer.from(entry.name, "utf8");
      const central = Buffer.alloc(46);
      central.writeUInt32LE(0x02014b50, 0);
      central.writeUInt16LE((3 << 8) | 20, 4);
      central.writeUInt16LE(20, 6);
      central.writeUInt16LE(0x0800, 8);
      central.writeUInt16LE(target.method, 10);
      central.writeUInt32LE(target.crc, 16);
      central.writeUInt32LE(target.packed, 20);
      central.writeUInt32LE(target.size, 24);
      central.writeUInt16LE(name.length, 28);
      central.writeUInt32LE((0o100644 << 16) >>> 0, 38);
      central.writeUInt32LE(offsets[entry.alias]!, 42);
      centrals.push(central, name);
      offsets[index] = offsets[entry.alias]!;
      sizes[index] = target;
      continue;
    }
    const raw = Buffer.isBuffer(entry.data) ? entry.data : Buffer.from(entry.data ?? "", "utf8");
    const packed = entry.prepacked ? entry.prepacked.data : entry.deflate ? deflateRawSync(raw) : raw;
    // An encrypted entry starts with a 12-byte encryption header; readers check the sizes against it.
    const body = entry.encrypted ? Buffer.concat([Buffer.alloc(12, 7), packed]) : packed;
    const name = Buffer.from(entry.name, "utf8");
    const method = entry.deflate || entry.prepacked ? 8 : 0;
    const flags = 0x0800 | (entry.encrypted ? 1 : 0);
    const crc = entry.prepacked ? 0 : crc32(raw);
    const size = entry.declaredSize ?? entry.prepacked?.size ?? raw.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(0, 10);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(0, 12);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((entry.mode ?? 0o100644) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offsets[index] = offset;
    sizes[index] = { packed: body.length, size, crc, method };
    offset += local.length + name.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  // More entries than 16 bits count: the counts go in a zip64 end record, the classic one says 0xffff.
  const zip64 = entries.length > 0xffff;
  end.writeUInt16LE(zip64 ? 0xffff : entries.length, 8);
  end.writeUInt16LE(zip64 ? 0xffff : entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  if (!zip64) return Buffer.concat([...locals, directory, end]);
  const record = Buffer.alloc(56);
  record.writeUInt32LE(0x06064b50, 0);
  record.writeBigUInt64LE(44n, 4);
  record.writeUInt16LE(45, 12);
  record.writeUInt16LE(45, 14);
  record.writeBigUInt64LE(BigInt(entries.length), 24);
  record.writeBigUInt64LE(BigInt(entries.length), 32);
  record.writeBigUInt64LE(BigInt(directory.length), 40);
  record.writeBigUInt64LE(BigInt(offset), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(offset + directory.length), 8);
  locator.writeUInt32LE(1, 16);
  return Buffer.concat([...locals, directory, record, locator, end]);
}

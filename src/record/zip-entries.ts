// The entries of a zip archive, read from its central directory (the local headers' sizes may be
// zero when the writer streamed), each inflated on demand with node:zlib within a byte bound.
import { inflateRawSync } from 'node:zlib';
import { ArchiveFormatError, type ArchiveEntry } from './tar-entries.js';

const EOCD = 0x06054b50;
const CDH = 0x02014b50;
const LFH = 0x04034b50;

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE) of a buffer: zlib.crc32 only exists from Node 20.15, and kdiag runs on any 20. */
export function crc32(b: Uint8Array): number {
  if (crcTable === undefined) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = crcTable[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function findEocd(b: Buffer): number {
  // the record is 22 bytes plus a comment of at most 65535
  const stop = Math.max(0, b.length - 22 - 65535);
  for (let p = b.length - 22; p >= stop; p--) if (b.readUInt32LE(p) === EOCD) return p;
  return -1;
}

/** Reads a zip's central directory; `data()` of an entry inflates it, at most `maxFileBytes`. */
export function zipEntries(b: Buffer, maxEntries: number, maxFileBytes: number): ArchiveEntry[] {
  if (b.length < 22) throw new ArchiveFormatError('too short for a zip archive');
  const eocd = findEocd(b);
  if (eocd < 0) throw new ArchiveFormatError('no zip end-of-central-directory record');
  const count = b.readUInt16LE(eocd + 10);
  const cdSize = b.readUInt32LE(eocd + 12);
  const cdOffset = b.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdOffset === 0xffffffff)
    throw new ArchiveFormatError('zip64 archives are not read');
  if (count > maxEntries) throw new ArchiveFormatError(`more than ${maxEntries} entries`);
  if (cdOffset + cdSize > eocd)
    throw new ArchiveFormatError('central directory lies outside the archive');
  const out: ArchiveEntry[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > eocd || b.readUInt32LE(p) !== CDH)
      throw new ArchiveFormatError(`bad central directory entry ${i + 1}`);
    const flags = b.readUInt16LE(p + 8);
    const method = b.readUInt16LE(p + 10);
    const crc = b.readUInt32LE(p + 16);
    const csize = b.readUInt32LE(p + 20);
    const usize = b.readUInt32LE(p + 24);
    const nameLen = b.readUInt16LE(p + 28);
    const extraLen = b.readUInt16LE(p + 30);
    const commentLen = b.readUInt16LE(p + 32);
    const unixMode = b.readUInt32LE(p + 38) >>> 16;
    const local = b.readUInt32LE(p + 42);
    // bit 11: UTF-8 name; otherwise CP437, of which latin1 keeps the ASCII a bundle's names use
    const name = b.toString(flags & 0x800 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLen);
    p += 46 + nameLen + extraLen + commentLen;
    const isLink = (unixMode & 0o170000) === 0o120000;
    const type = name.endsWith('/')
      ? 'dir'
      : isLink
        ? 'link'
        : (flags & 1) !== 0 || (method !== 0 && method !== 8)
          ? 'other'
          : 'file';
    out.push({
      name,
      type,
      size: usize,
      data: () => {
        if (usize > maxFileBytes)
          throw new ArchiveFormatError(`${name} expands to ${usize} bytes (limit ${maxFileBytes})`);
        if (local + 30 > b.length || b.readUInt32LE(local) !== LFH)
          throw new ArchiveFormatError(`bad local header of ${name}`);
        const start = local + 30 + b.readUInt16LE(local + 26) + b.readUInt16LE(local + 28);
        if (start + csize > b.length) throw new ArchiveFormatError(`${name} is cut short`);
        const raw = b.subarray(start, start + csize);
        let data: Buffer;
        try {
          data = method === 0 ? raw : inflateRawSync(raw, { maxOutputLength: Math.max(1, usize) });
        } catch {
          throw new ArchiveFormatError(`${name} does not inflate to its stated ${usize} bytes`);
        }
        if (data.length !== usize || crc32(data) !== crc)
          throw new ArchiveFormatError(`${name} fails its CRC check`);
        return data;
      },
    });
  }
  return out;
}

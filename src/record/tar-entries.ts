// The entries of a tar stream (POSIX ustar, with GNU long names and pax `path=` records), as views
// into the buffer: nothing is copied or written. Bounds are the caller's (archive-reader.ts).

export interface ArchiveEntry {
  /** The name as stored (not yet checked: archive-reader refuses absolute names and `..`). */
  readonly name: string;
  readonly type: 'file' | 'dir' | 'link' | 'other';
  /** Bytes of the content (a zip states it in its directory). */
  readonly size: number;
  /** The content: a view into a tar buffer, or a zip entry inflated on this call. */
  readonly data: () => Buffer;
}

const BLOCK = 512;

/** Why an archive cannot be read, as a one-line message. */
export class ArchiveFormatError extends Error {}

function text(b: Buffer, from: number, len: number): string {
  const end = b.indexOf(0, from);
  return b.toString('utf8', from, end < 0 || end > from + len ? from + len : end);
}

function octal(b: Buffer, from: number, len: number): number {
  // GNU base-256 for sizes ≥ 8 GiB: high bit of the first byte set
  if ((b[from]! & 0x80) !== 0) {
    let v = 0;
    for (let i = from + 1; i < from + len; i++) v = v * 256 + b[i]!;
    return v;
  }
  const s = text(b, from, len).trim();
  if (!/^[0-7]{1,12}$/.test(s)) return NaN;
  return parseInt(s, 8);
}

function checksumOk(b: Buffer, at: number): boolean {
  const want = octal(b, at + 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : b[at + i]!;
  return sum === want;
}

function isZeroBlock(b: Buffer, at: number): boolean {
  for (let i = at; i < at + BLOCK; i++) if (b[i] !== 0) return false;
  return true;
}

/** `path=` of a pax extended header ("%d path=%s\n" records). */
function paxPath(data: Buffer): string | undefined {
  let p = 0;
  let path: string | undefined;
  while (p < data.length) {
    const sp = data.indexOf(0x20, p);
    if (sp < 0) break;
    const len = Number(data.toString('latin1', p, sp));
    if (!Number.isInteger(len) || len <= 0 || p + len > data.length) break;
    const rec = data.toString('utf8', sp + 1, p + len - 1);
    if (rec.startsWith('path=')) path = rec.slice(5);
    p += len;
  }
  return path;
}

/** Reads the entries of an uncompressed tar archive; stops at the end marker or the buffer's end. */
export function tarEntries(b: Buffer, maxEntries: number): ArchiveEntry[] {
  const out: ArchiveEntry[] = [];
  let at = 0;
  let longName: string | undefined;
  let headers = 0;
  while (at + BLOCK <= b.length) {
    if (isZeroBlock(b, at)) break;
    // long-name and pax records are headers too: bound them with the entries
    if (++headers > maxEntries * 3 + 3)
      throw new ArchiveFormatError(`more than ${maxEntries} entries`);
    if (!checksumOk(b, at)) throw new ArchiveFormatError(`bad tar header checksum at byte ${at}`);
    const size = octal(b, at + 124, 12);
    if (!Number.isSafeInteger(size) || size < 0)
      throw new ArchiveFormatError(`bad tar entry size at byte ${at}`);
    const flag = String.fromCharCode(b[at + 156]!);
    const ustar = b.toString('latin1', at + 257, at + 262) === 'ustar';
    const prefix = ustar ? text(b, at + 345, 155) : '';
    let name = text(b, at + 0, 100);
    if (prefix !== '') name = `${prefix}/${name}`;
    const start = at + BLOCK;
    const end = start + size;
    if (end > b.length)
      throw new ArchiveFormatError(`tar entry ${JSON.stringify(name.slice(0, 80))} is cut short`);
    at = start + Math.ceil(size / BLOCK) * BLOCK;
    if (flag === 'L') {
      longName = text(b, start, size);
      continue;
    }
    if (flag === 'x') {
      longName = paxPath(b.subarray(start, end)) ?? longName;
      continue;
    }
    if (flag === 'g') continue;
    if (longName !== undefined) {
      name = longName;
      longName = undefined;
    }
    const type =
      flag === '0' || flag === '\0' || flag === '7'
        ? 'file'
        : flag === '5'
          ? 'dir'
          : flag === '1' || flag === '2'
            ? 'link'
            : 'other';
    out.push({ name, type, size, data: () => b.subarray(start, end) });
    if (out.length > maxEntries) throw new ArchiveFormatError(`more than ${maxEntries} entries`);
  }
  return out;
}

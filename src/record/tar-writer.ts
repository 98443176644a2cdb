// Writes a bundle as a POSIX ustar stream (gzip is the caller's: node:zlib). A bundle holds a few
// regular text files with short names, so ustar's fixed header is all that is needed: no links,
// no pax records, no dependency. tar-entries.ts reads what this writes, as does GNU/BSD tar.

const BLOCK = 512;

export interface TarFile {
  /** Path inside the archive, `/`-separated, relative. */
  readonly name: string;
  readonly data: Uint8Array;
  readonly mode: number;
  /** Seconds since the epoch. */
  readonly mtime: number;
}

function put(h: Buffer, at: number, len: number, value: string): void {
  const b = Buffer.from(value, 'utf8');
  if (b.length > len) throw new Error(`tar header field too long: ${value}`);
  b.copy(h, at);
}

function octal(value: number, len: number): string {
  // len-1 digits and a NUL, as tar writes them
  const s = Math.max(0, Math.floor(value)).toString(8);
  if (s.length > len - 1) throw new Error(`tar: ${value} does not fit ${len - 1} octal digits`);
  return `${s.padStart(len - 1, '0')}\0`;
}

/** `name` as ustar stores it: up to 100 bytes, or a prefix (≤155) and a name split at a `/`. */
function splitName(name: string): { prefix: string; name: string } {
  if (Buffer.byteLength(name) <= 100) return { prefix: '', name };
  for (let i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100)
      return { prefix, name: rest };
  }
  throw new Error(`tar: name too long for ustar: ${name}`);
}

function header(f: TarFile): Buffer {
  const h = Buffer.alloc(BLOCK);
  const n = splitName(f.name);
  put(h, 0, 100, n.name);
  put(h, 100, 8, octal(f.mode & 0o7777, 8));
  put(h, 108, 8, octal(0, 8));
  put(h, 116, 8, octal(0, 8));
  put(h, 124, 12, octal(f.data.length, 12));
  put(h, 136, 12, octal(f.mtime, 12));
  h.fill(0x20, 148, 156);
  put(h, 156, 1, '0');
  put(h, 257, 6, 'ustar\0');
  put(h, 263, 2, '00');
  put(h, 265, 32, 'root');
  put(h, 297, 32, 'root');
  put(h, 345, 155, n.prefix);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += h[i]!;
  put(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

/** The tar stream of `files`, in the given order, ended by two zero blocks. */
export function tarBytes(files: readonly TarFile[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of files) {
    parts.push(header(f), Buffer.from(f.data.buffer, f.data.byteOffset, f.data.length));
    const pad = (BLOCK - (f.data.length % BLOCK)) % BLOCK;
    if (pad > 0) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

// Reads a bundle sent as one archive (.tar.gz/.tgz/.tar/.zip) into memory: file name → text.
// Nothing is written to disk. Bounded: entry count, bytes per file, bytes in all (a gzip or zip
// bomb stops at the bound), and names that are absolute or climb out with `..` are refused.
// Tar and zip are read here rather than through tar-stream/yauzl: a bundle needs regular files
// only, ustar headers and a zip's central directory are short to read, and node:zlib inflates
// both with an output bound, so no dependency (and its streams) is needed for an in-memory read.
import { readFile, stat } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { InputError } from '../errors.js';
import { ArchiveFormatError, tarEntries, type ArchiveEntry } from './tar-entries.js';
import { zipEntries } from './zip-entries.js';

export interface ArchiveLimits {
  /** Entries of any kind (directories, links and skipped files count). */
  readonly maxEntries: number;
  /** Size of the archive file itself. */
  readonly maxArchiveBytes: number;
  /** Uncompressed bytes of one file. */
  readonly maxFileBytes: number;
  /** Uncompressed bytes of the whole archive (for .tar.gz: the tar stream). */
  readonly maxTotalBytes: number;
}

export const ARCHIVE_LIMITS: ArchiveLimits = {
  maxEntries: 4096,
  maxArchiveBytes: 256 * 1024 * 1024,
  maxFileBytes: 256 * 1024 * 1024,
  maxTotalBytes: 512 * 1024 * 1024,
};

export type ArchiveKind = 'tar' | 'tar.gz' | 'zip';

export interface ArchiveContents {
  /** Relative file name (the archive's single top folder removed, if it has one) → text. */
  readonly files: ReadonlyMap<string, string>;
  /** The top folder every entry was under (`aws-nlb-350`), removed from the names. */
  readonly root?: string;
  /** Entries not read, and why: links, devices, encrypted or unknown zip methods, binary content. */
  readonly skipped: readonly { readonly name: string; readonly reason: string }[];
}

/** The archive kind a file name says, or undefined for anything else. */
export function archiveKindOf(name: string): ArchiveKind | undefined {
  const n = name.toLowerCase();
  if (n.endsWith('.tar.gz') || n.endsWith('.tgz')) return 'tar.gz';
  if (n.endsWith('.tar')) return 'tar';
  if (n.endsWith('.zip')) return 'zip';
  return undefined;
}

/** Reads an archive file into memory; every problem is an InputError naming the file. */
export async function readArchive(
  path: string,
  limits: ArchiveLimits = ARCHIVE_LIMITS,
): Promise<ArchiveContents> {
  const kind = archiveKindOf(path);
  if (kind === undefined)
    throw new InputError(path, undefined, 'not a .tar.gz, .tgz, .tar or .zip archive');
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (e) {
    throw new InputError(
      path,
      undefined,
      `can't read: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  if (size > limits.maxArchiveBytes)
    throw new InputError(
      path,
      undefined,
      `archive is ${size} bytes, more than the ${limits.maxArchiveBytes} read`,
    );
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new InputError(
      path,
      undefined,
      `can't read: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  return readArchiveBytes(path, bytes, kind, limits);
}

/** Reads archive bytes already in memory (`label` names them in errors). */
export function readArchiveBytes(
  label: string,
  bytes: Buffer,
  kind: ArchiveKind,
  limits: ArchiveLimits = ARCHIVE_LIMITS,
): ArchiveContents {
  try {
    return contents(entriesOf(bytes, kind, limits), limits);
  } catch (e) {
    if (e instanceof ArchiveFormatError) throw new InputError(label, undefined, e.message);
    throw e;
  }
}

function entriesOf(bytes: Buffer, kind: ArchiveKind, limits: ArchiveLimits): ArchiveEntry[] {
  if (kind === 'zip') return zipEntries(bytes, limits.maxEntries, limits.maxFileBytes);
  let tar = bytes;
  if (kind === 'tar.gz') {
    if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) throw new ArchiveFormatError('not gzip data');
    try {
      tar = gunzipSync(bytes, { maxOutputLength: limits.maxTotalBytes });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
        throw new ArchiveFormatError(`expands beyond ${limits.maxTotalBytes} bytes`);
      }
      throw new ArchiveFormatError(`gzip data is damaged (${code ?? 'error'})`);
    }
  }
  return tarEntries(tar, limits.maxEntries);
}

/** A safe relative name, or why not: absolute names and `..` could point outside the bundle. */
export function safeEntryName(raw: string): string | { refused: string } {
  const name = raw.replace(/\\/g, '/');
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return { refused: 'absolute path' };
  if (name.includes('\0')) return { refused: 'NUL in name' };
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) return { refused: '".." in path' };
  return parts.join('/');
}

function contents(entries: readonly ArchiveEntry[], limits: ArchiveLimits): ArchiveContents {
  const decoder = new TextDecoder('utf-8');
  const files = new Map<string, string>();
  const skipped: { name: string; reason: string }[] = [];
  let total = 0;
  for (const e of entries) {
    const name = safeEntryName(e.name);
    if (typeof name !== 'string')
      throw new ArchiveFormatError(
        `refuses entry ${JSON.stringify(e.name.slice(0, 120))}: ${name.refused}`,
      );
    if (e.type === 'dir' || name === '') continue;
    if (e.type !== 'file') {
      skipped.push({
        name,
        reason: e.type === 'link' ? 'link (never followed)' : 'not a regular file',
      });
      continue;
    }
    if (e.size > limits.maxFileBytes)
      throw new ArchiveFormatError(
        `${name} is ${e.size} bytes, more than the ${limits.maxFileBytes} read`,
      );
    total += e.size;
    if (total > limits.maxTotalBytes)
      throw new ArchiveFormatError(`expands beyond ${limits.maxTotalBytes} bytes`);
    const data = e.data();
    if (data.subarray(0, 8192).includes(0)) {
      skipped.push({ name, reason: 'binary content' });
      continue;
    }
    if (files.has(name)) throw new ArchiveFormatError(`holds ${name} twice`);
    files.set(name, decoder.decode(data));
  }
  return stripRoot(files, skipped);
}

/** `tar czf b.tgz aws-nlb-350/` stores every name under one folder: the bundle is that folder. */
function stripRoot(
  files: Map<string, string>,
  skipped: { name: string; reason: string }[],
): ArchiveContents {
  const names = [...files.keys(), ...skipped.map((s) => s.name)];
  const first = names[0]?.split('/')[0];
  if (first === undefined || !names.every((n) => n.startsWith(`${first}/`)))
    return { files, skipped };
  const cut = first.length + 1;
  return {
    files: new Map([...files].map(([n, t]) => [n.slice(cut), t])),
    root: first,
    skipped: skipped.map((s) => ({ name: s.name.slice(cut), reason: s.reason })),
  };
}

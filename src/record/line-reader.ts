// Streams a file (plain or gzip) as numbered text lines with flat memory, whatever its size.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { InputError } from '../errors.js';

/** Longer lines than this are not tool output: the reader stops with an error naming the line. */
export const MAX_LINE_BYTES = 1 << 20;

export interface NumberedLine {
  readonly no: number;
  readonly text: string;
  /** True for a last line that had no newline (a file cut short). */
  readonly unterminated: boolean;
}

async function isGzip(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

function describeFsError(err: unknown): string {
  const code = (err as { code?: string }).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return err instanceof Error ? err.message : String(err);
}

/**
 * Yields the lines of a file. Gzip is detected by its magic bytes. Errors (unreadable file, truncated
 * gzip, an over-long line) become an InputError naming the file and the line, after the lines read
 * before it.
 */
export async function* readLines(path: string, label: string = path): AsyncGenerator<NumberedLine> {
  for await (const batch of readLineBatches(path, label)) yield* batch;
}

/**
 * The lines of a file, handed over one array per read chunk: a consumer that loops over each
 * array synchronously pays one async hop per chunk instead of one per line (replay, bench/).
 * Lines read before an error are handed over before the error is thrown.
 */
export async function* readLineBatches(
  path: string,
  label: string = path,
): AsyncGenerator<NumberedLine[]> {
  for await (const sp of readLineSpans(path, label)) {
    const out: NumberedLine[] = [];
    let no = sp.firstNo;
    if (sp.head !== undefined)
      out.push({
        no: no++,
        text: sp.head.toString('utf8'),
        unterminated: sp.unterminated && sp.count === 0,
      });
    const { buf, starts, ends } = sp;
    for (let i = 0; i < sp.count; i++)
      out.push({
        no: no++,
        text: buf.toString('utf8', starts[i], ends[i]),
        unterminated: sp.unterminated && i === sp.count - 1,
      });
    yield out;
  }
}

/**
 * The lines of one read chunk as byte ranges, not yet decoded (the replay reader scans the bytes
 * itself). A trailing CR is already left out of each range.
 */
export interface LineSpans {
  /** A line whose bytes came from earlier chunks too (copied together): the first line, numbered firstNo. */
  readonly head: Buffer | undefined;
  /** Line i (after head) is buf[starts[i], ends[i]). */
  readonly buf: Buffer;
  readonly starts: readonly number[];
  readonly ends: readonly number[];
  /** Lines in buf, not counting head. */
  readonly count: number;
  /** The number of the first line (head, or else buf's first). */
  readonly firstNo: number;
  /** True when the last line had no newline (a file cut short); it comes alone. */
  readonly unterminated: boolean;
}

const READ_CHUNK = 1 << 20;
const GUNZIP_CHUNK = 1 << 18;

/** Without a trailing CR. */
function endOf(buf: Buffer, start: number, end: number): number {
  return end > start && buf[end - 1] === 0x0d ? end - 1 : end;
}

/**
 * The lines of a file as byte ranges, one LineSpans per read chunk (readLineBatches decodes them).
 * Lines read before an error are handed over before the error is thrown.
 */
export async function* readLineSpans(
  path: string,
  label: string = path,
): AsyncGenerator<LineSpans> {
  let gz: boolean;
  try {
    gz = await isGzip(path);
  } catch (err) {
    throw new InputError(label, undefined, `can't read: ${describeFsError(err)}`);
  }
  // 1 MiB reads (and gunzip output): with the default 64 KiB (16 KiB) the stream's per-chunk cost was
  // a fifth of reading a 1M-record recording.
  const raw = createReadStream(path, { highWaterMark: READ_CHUNK });
  const stream = gz ? raw.pipe(createGunzip({ chunkSize: GUNZIP_CHUNK })) : raw;
  raw.on('error', (err) => stream.destroy(err));
  let no = 0;
  let pending: Buffer[] = [];
  let pendingLen = 0;
  let failure: unknown;
  let cur:
    | {
        head: Buffer | undefined;
        buf: Buffer;
        starts: number[];
        ends: number[];
        count: number;
        firstNo: number;
        unterminated: boolean;
      }
    | undefined;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      cur = {
        head: undefined,
        buf: chunk,
        starts: [],
        ends: [],
        count: 0,
        firstNo: no + 1,
        unterminated: false,
      };
      for (;;) {
        const nl = chunk.indexOf(0x0a, start);
        if (nl < 0) {
          const rest = chunk.subarray(start);
          pendingLen += rest.length;
          if (pendingLen > MAX_LINE_BYTES)
            throw new InputError(
              label,
              no + 1,
              `line longer than ${MAX_LINE_BYTES} bytes: not tool output`,
            );
          if (rest.length > 0) pending.push(rest);
          break;
        }
        if (pending.length > 0) {
          pending.push(chunk.subarray(start, nl));
          const piece = Buffer.concat(pending);
          pending = [];
          pendingLen = 0;
          if (piece.length > MAX_LINE_BYTES)
            throw new InputError(
              label,
              no + 1,
              `line longer than ${MAX_LINE_BYTES} bytes: not tool output`,
            );
          cur.head = piece.subarray(0, endOf(piece, 0, piece.length));
        } else {
          if (nl - start > MAX_LINE_BYTES)
            throw new InputError(
              label,
              no + 1,
              `line longer than ${MAX_LINE_BYTES} bytes: not tool output`,
            );
          cur.starts.push(start);
          cur.ends.push(endOf(chunk, start, nl));
          cur.count++;
        }
        no++;
        start = nl + 1;
      }
      if (cur.count > 0 || cur.head !== undefined) {
        const out = cur;
        cur = undefined;
        yield out;
      }
      cur = undefined;
    }
  } catch (err) {
    if (err instanceof InputError) failure = err;
    else {
      const code = (err as { code?: string }).code;
      if (
        gz &&
        (code === 'Z_BUF_ERROR' ||
          code === 'Z_DATA_ERROR' ||
          /unexpected end|incorrect header|invalid/i.test(String((err as Error).message)))
      ) {
        failure = new InputError(
          label,
          no + 1,
          `gzip data is truncated or corrupt after line ${no} (${(err as Error).message})`,
        );
      } else failure = new InputError(label, no + 1, `can't read: ${describeFsError(err)}`);
    }
  }
  if (failure !== undefined) {
    if (cur !== undefined && (cur.count > 0 || cur.head !== undefined)) yield cur;
    throw failure;
  }
  if (pending.length > 0) {
    const piece = Buffer.concat(pending);
    yield {
      head: piece.subarray(0, endOf(piece, 0, piece.length)),
      buf: piece,
      starts: [],
      ends: [],
      count: 0,
      firstNo: no + 1,
      unterminated: true,
    };
  }
}

// Writes a recording as records arrive, so Ctrl-C or a crash still leaves a replayable file.
import { createWriteStream, type WriteStream } from 'node:fs';
import { createGzip, constants as zc, type Gzip } from 'node:zlib';
import { InputError } from '../errors.js';
import type { RawRecord } from '../engine/raw-record.js';
import type { FixtureHeader } from './fixture-header.js';

export interface FixtureWriter {
  readonly path: string;
  readonly count: number;
  write(rec: RawRecord): void;
  /** Flushes buffered lines to the file (and the gzip stream with a sync flush). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

function serialize(rec: RawRecord): string {
  return rec.k === undefined
    ? `{"t":${rec.t},"src":${JSON.stringify(rec.src)},"line":${JSON.stringify(rec.line)}}\n`
    : `{"t":${rec.t},"src":${JSON.stringify(rec.src)},"line":${JSON.stringify(rec.line)},"k":"${rec.k}"}\n`;
}

/** The error for a recording path that is taken (a file, a link, anything): never overwritten. */
export function recordingExists(path: string): InputError {
  return new InputError(path, undefined, 'already exists; refusing to overwrite a recording', {
    hint: 'choose another file name',
  });
}

/**
 * Creates a recording. Refuses to overwrite an existing file (a user's earlier recording is never lost).
 * A path ending in `.gz` is gzip-compressed.
 */
export async function createFixtureWriter(
  path: string,
  header: FixtureHeader,
  opts: { flushEveryMs?: number } = {},
): Promise<FixtureWriter> {
  let out: WriteStream;
  try {
    // 'wx' fails if the file exists: wait for the open so the error is reported here, clearly.
    out = createWriteStream(path, { flags: 'wx', mode: 0o644 });
    await new Promise<void>((resolve, reject) => {
      out.once('open', () => resolve());
      out.once('error', reject);
    });
  } catch (err) {
    if ((err as { code?: string }).code === 'EEXIST') throw recordingExists(path);
    throw new InputError(path, undefined, `can't create: ${(err as Error).message}`);
  }
  const gz: Gzip | undefined = path.endsWith('.gz') ? createGzip() : undefined;
  if (gz) gz.pipe(out);
  const sink: NodeJS.WritableStream = gz ?? out;
  let buf: string[] = [];
  let count = 0;
  const push = (s: string) => {
    buf.push(s);
    if (buf.length >= 512) drain();
  };
  const drain = () => {
    if (buf.length === 0) return;
    sink.write(buf.join(''));
    buf = [];
  };
  push(`${JSON.stringify(header)}\n`);
  drain();
  const timer = setInterval(() => void writer.flush(), opts.flushEveryMs ?? 500);
  timer.unref();
  const writer: FixtureWriter = {
    path,
    get count() {
      return count;
    },
    write(rec) {
      count++;
      push(serialize(rec));
    },
    async flush() {
      drain();
      if (gz) await new Promise<void>((resolve) => gz.flush(zc.Z_SYNC_FLUSH, () => resolve()));
    },
    async close() {
      clearInterval(timer);
      drain();
      await new Promise<void>((resolve, reject) => {
        out.once('error', reject);
        out.once('close', () => resolve());
        sink.end();
      });
    },
  };
  return writer;
}

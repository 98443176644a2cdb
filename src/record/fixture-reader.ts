// Reads a recording (NDJSON, optionally gzip): a validated header, then RawRecords in time order.
import { isAscii } from 'node:buffer';
import { InputError } from '../errors.js';
import type { LocatedRecord, RawRecord, RecordKind } from '../engine/raw-record.js';
import {
  FIXTURE_FORMAT,
  FIXTURE_MAJOR,
  fixtureHeaderSchema,
  rawRecordSchema,
  type FixtureHeader,
} from './fixture-header.js';
import { readLineSpans, type LineSpans, type NumberedLine } from './line-reader.js';

export interface OpenedFixture {
  readonly header: FixtureHeader;
  readonly records: AsyncIterable<LocatedRecord>;
  /**
   * The same records, one array per read chunk (one async hop per chunk, not per record). The two
   * share one reader: iterate either `records` or `batches`, not both.
   */
  readonly batches: AsyncIterable<readonly LocatedRecord[]>;
  /**
   * The same records again, one RecordColumns per read chunk: parallel arrays instead of two
   * objects per record (the replay's fast path). Shares the reader with `records` and `batches`.
   */
  readonly columns: AsyncIterable<RecordColumns>;
  /** Things worth telling the user that are not errors (a truncated last line). Filled while iterating. */
  readonly notices: string[];
}

/** Records of one read chunk as parallel arrays: record i is (t[i], src[i], line[i], k[i]) from `file`:no[i]. */
export interface RecordColumns {
  readonly file: string;
  readonly count: number;
  readonly t: readonly number[];
  readonly src: readonly string[];
  readonly line: readonly string[];
  readonly k: readonly (RecordKind | undefined)[];
  readonly no: readonly number[];
}

/** Records per RecordColumns at most. */
const BATCH = 1024;

interface MutableColumns {
  file: string;
  count: number;
  t: number[];
  src: string[];
  line: string[];
  k: (RecordKind | undefined)[];
  no: number[];
}

function firstIssue(error: {
  issues: readonly { path: readonly PropertyKey[]; message: string }[];
}): string {
  const i = error.issues[0];
  if (!i) return 'invalid';
  return `${i.path.length ? `${i.path.map(String).join('.')}: ` : ''}${i.message}`;
}

function parseJsonLine(file: string, no: number, text: string): unknown {
  if (text.includes('\u0000'))
    throw new InputError(file, no, 'binary data (NUL byte): not a kdiag recording');
  try {
    return JSON.parse(text);
  } catch {
    throw new InputError(
      file,
      no,
      `not JSON: ${text.slice(0, 60).replace(/[^\x20-\x7e]/g, '?')}${text.length > 60 ? '…' : ''}`,
    );
  }
}

/** The same test as rawRecordSchema, without zod (extra keys are allowed, as zod's object allows them). */
function isRawRecord(v: unknown): v is RawRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as { t?: unknown; src?: unknown; line?: unknown; k?: unknown };
  return (
    typeof r.t === 'number' &&
    Number.isFinite(r.t) &&
    r.t >= 0 &&
    typeof r.src === 'string' &&
    r.src.length >= 1 &&
    r.src.length <= 200 &&
    typeof r.line === 'string' &&
    (r.k === undefined || r.k === 'begin' || r.k === 'end' || r.k === 'err')
  );
}

// Byte classes inside a JSON string for the scanner: 0 plain printable ASCII, 1 quote, 2 backslash,
// 3 anything JSON.parse would refuse or the scanner leaves to it (control bytes, non-ASCII).
const CLASS = new Uint8Array(256).fill(3);
for (let c = 0x20; c < 0x80; c++) CLASS[c] = 0;
CLASS[0x22] = 1;
CLASS[0x5c] = 2;
const HEAD_T = Buffer.from('{"t":');
const MID_SRC = Buffer.from(',"src":"');
const MID_LINE = Buffer.from('","line":"');
const K_BEGIN = Buffer.from(',"k":"begin"}');
const K_END = Buffer.from(',"k":"end"}');
const K_ERR = Buffer.from(',"k":"err"}');

type Latin1 = Buffer & { latin1Slice(start: number, end: number): string };

function bytesAt(buf: Buffer, at: number, lit: Buffer): boolean {
  for (let i = 0; i < lit.length; i++) if (buf[at + i] !== lit[i]) return false;
  return true;
}

/**
 * Reads a record line in exactly the form fixture-writer emits — `{"t":<digits>,"src":"…","line":"…"}`
 * with an optional `,"k":"begin|end|err"` — from the bytes, with JSON.parse only for the line's string
 * literal (no object, no keys). ASCII lines only (the caller checks). Anything else (whitespace, other
 * key orders, extra keys, fractions, escapes in src) returns false and goes to JSON.parse of the whole
 * line as before, so results and errors stay those of JSON.parse.
 */
export class RecordScanner {
  /** Source ids seen (the first 16), each one string. */
  private readonly srcs: string[] = [];
  // set by scan()
  t = 0;
  src = '';
  line = '';
  k: RecordKind | undefined = undefined;

  scan(b: Buffer, s: number, e: number): boolean {
    const buf = b as Latin1;
    if (e - s < 27 || !bytesAt(buf, s, HEAD_T)) return false;
    let p = s + 5;
    // t: a JSON integer of at most 15 digits (exact as a double), no sign, no leading zero
    let c = buf[p]!;
    if (c < 0x30 || c > 0x39) return false;
    let t = c - 0x30;
    p++;
    if (t === 0) {
      if (buf[p] !== 0x2c) return false;
    } else {
      const max = p + 14;
      for (; p < e; p++) {
        c = buf[p]!;
        if (c < 0x30 || c > 0x39) break;
        if (p >= max) return false;
        t = t * 10 + (c - 0x30);
      }
    }
    if (p + 8 > e || !bytesAt(buf, p, MID_SRC)) return false;
    p += 8;
    // src: 1..200 plain characters, kept as one string per distinct id. A known id is recognised by
    // comparing its characters (ids differ early, so a wrong guess costs a byte or two).
    const srcStart = p;
    let src: string | undefined;
    const known = this.srcs;
    for (let j = 0; j < known.length; j++) {
      const cand = known[j]!;
      if (buf[srcStart + cand.length] === 0x22 && sameChars(cand, buf, srcStart)) {
        src = cand;
        p = srcStart + cand.length;
        break;
      }
    }
    if (src === undefined) {
      for (; p < e; p++) {
        c = buf[p]!;
        if (CLASS[c] !== 0) break;
      }
      const srcLen = p - srcStart;
      if (p >= e || c !== 0x22 || srcLen < 1 || srcLen > 200) return false;
      src = buf.latin1Slice(srcStart, p);
      if (known.length < 16) known.push(src);
    }
    if (p + 10 > e || !bytesAt(buf, p, MID_LINE)) return false;
    p += 10;
    // line: the rest is its JSON string literal, then `}` or `,"k":"…"}`. The literal is given to
    // JSON.parse on its own (V8 decodes escapes and refuses what is not one string far faster than a
    // byte loop here); the chunk was checked to be ASCII, so latin1 is utf8 here.
    const q0 = p - 1;
    let q1 = e - 2;
    let k: RecordKind | undefined;
    if (buf[e - 1] !== 0x7d || buf[q1] !== 0x22) return false;
    if (e - 14 > q0 && buf[e - 14] === 0x22 && bytesAt(buf, e - 13, K_BEGIN)) {
      q1 = e - 14;
      k = 'begin';
    } else if (e - 12 > q0 && buf[e - 12] === 0x22 && bytesAt(buf, e - 11, K_END)) {
      q1 = e - 12;
      k = 'end';
    } else if (e - 12 > q0 && buf[e - 12] === 0x22 && bytesAt(buf, e - 11, K_ERR)) {
      q1 = e - 12;
      k = 'err';
    }
    if (q1 <= q0) return false;
    let line: unknown;
    if (q1 === q0 + 1) line = '';
    else {
      try {
        line = JSON.parse(buf.latin1Slice(q0, q1 + 1));
      } catch {
        return false;
      }
    }
    if (typeof line !== 'string') return false;
    this.t = t;
    this.src = src;
    this.line = line;
    this.k = k;
    return true;
  }
}

function sameChars(s: string, buf: Buffer, at: number): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) !== buf[at + i]) return false;
  return true;
}

/** Opens a recording: reads and validates the header, then streams records lazily. */
export async function openFixture(path: string, label: string = path): Promise<OpenedFixture> {
  const chunks = readLineSpans(path, label);
  const first = await chunks.next();
  if (first.done || (first.value.count === 0 && first.value.head === undefined))
    throw new InputError(label, 1, 'empty file: not a kdiag recording');
  const sp0 = first.value;
  const headerText =
    sp0.head !== undefined
      ? sp0.head.toString('utf8')
      : sp0.buf.toString('utf8', sp0.starts[0], sp0.ends[0]);
  const headerJson = parseJsonLine(label, 1, headerText);
  if (
    typeof headerJson !== 'object' ||
    headerJson === null ||
    (headerJson as { format?: unknown }).format !== FIXTURE_FORMAT
  ) {
    throw new InputError(
      label,
      1,
      `not a kdiag recording (the first line must be a header with "format":"${FIXTURE_FORMAT}")`,
    );
  }
  const version = String((headerJson as { version?: unknown }).version ?? '');
  const major = Number.parseInt(version.split('.')[0] ?? '', 10);
  if (Number.isFinite(major) && major > FIXTURE_MAJOR) {
    throw new InputError(
      label,
      1,
      `recording format ${version} is newer than this kdiag reads (${FIXTURE_MAJOR}.x)`,
      {
        code: 'KDIAG_UNSUPPORTED_VERSION',
        hint: 'upgrade kdiag to replay it',
      },
    );
  }
  const parsed = fixtureHeaderSchema.safeParse(headerJson);
  if (!parsed.success) throw new InputError(label, 1, `bad header: ${firstIssue(parsed.error)}`);
  const notices: string[] = [];

  /** One line → its record; undefined for a blank line; 'stop' after a truncated last line. */
  function toRecord(l: NumberedLine): LocatedRecord | undefined | 'stop' {
    if (l.text.trim() === '') return undefined;
    let json: unknown;
    try {
      json = parseJsonLine(label, l.no, l.text);
    } catch (err) {
      if (l.unterminated) {
        notices.push(
          `${label}:${l.no}: last line is truncated (the recording was cut short); ignored it`,
        );
        return 'stop';
      }
      throw err;
    }
    // A plain check first: zod's safeParse per record was a tenth of a replay's time (bench/); it
    // still runs for a record that fails, to word the error.
    if (isRawRecord(json)) {
      // rebuilt like zod's output: unknown keys dropped
      const rec: RawRecord =
        json.k === undefined
          ? { t: json.t, src: json.src, line: json.line }
          : { t: json.t, src: json.src, line: json.line, k: json.k };
      return { rec, file: label, line: l.no };
    }
    const r = rawRecordSchema.safeParse(json);
    if (!r.success) {
      if (l.unterminated) {
        notices.push(
          `${label}:${l.no}: last line is truncated (the recording was cut short); ignored it`,
        );
        return 'stop';
      }
      throw new InputError(label, l.no, `bad record: ${firstIssue(r.error)}`);
    }
    return { rec: r.data as RawRecord, file: label, line: l.no };
  }

  const scanner = new RecordScanner();

  /** One line (bytes) into the columns: false after a truncated last line (stop); throws on a bad line. */
  function take(
    out: MutableColumns,
    buf: Buffer,
    s: number,
    e: number,
    no: number,
    unterminated: boolean,
    ascii: boolean,
  ): boolean {
    // The last line of a file cut short goes the slow way: it may be the truncated one. The scanner
    // reads ASCII only (checked per chunk; per line in a chunk that has other bytes).
    if (!unterminated && (ascii || isAscii(buf.subarray(s, e))) && scanner.scan(buf, s, e)) {
      out.t.push(scanner.t);
      out.src.push(scanner.src);
      out.line.push(scanner.line);
      out.k.push(scanner.k);
      out.no.push(no);
      out.count++;
      return true;
    }
    const r = toRecord({ no, text: buf.toString('utf8', s, e), unterminated });
    if (r === 'stop') return false;
    if (r !== undefined) {
      out.t.push(r.rec.t);
      out.src.push(r.rec.src);
      out.line.push(r.rec.line);
      out.k.push(r.rec.k);
      out.no.push(no);
      out.count++;
    }
    return true;
  }

  // Records found before a bad line are handed over before its error is thrown, as one by one.
  async function* columns(): AsyncGenerator<RecordColumns> {
    let sp: LineSpans | undefined = sp0;
    let skip = 1; // the header
    const fresh = (): MutableColumns => ({
      file: label,
      count: 0,
      t: [],
      src: [],
      line: [],
      k: [],
      no: [],
    });
    for (;;) {
      if (sp === undefined) {
        const n = await chunks.next();
        if (n.done) return;
        sp = n.value;
        skip = 0;
      }
      let out = fresh();
      let failure: unknown;
      let stop = false;
      let no = sp.firstNo;
      const last = sp.count - 1;
      try {
        if (sp.head !== undefined) {
          if (skip > 0) skip--;
          else if (
            !take(
              out,
              sp.head,
              0,
              sp.head.length,
              no,
              sp.unterminated && last < 0,
              isAscii(sp.head),
            )
          )
            stop = true;
          no++;
        }
      } catch (err) {
        failure = err;
        stop = true;
      }
      const { buf, starts, ends } = sp;
      const ascii = last >= 0 && isAscii(buf);
      // At most BATCH records a yield: fewer young strings alive at once than a whole 1 MiB chunk's.
      let i = skip;
      while (!stop && i <= last) {
        try {
          for (; i <= last && out.count < BATCH; i++) {
            if (
              !take(out, buf, starts[i]!, ends[i]!, no + i, sp.unterminated && i === last, ascii)
            ) {
              stop = true;
              break;
            }
          }
        } catch (err) {
          failure = err;
          stop = true;
        }
        if (!stop && out.count >= BATCH) {
          yield out;
          out = fresh();
        }
      }
      sp = undefined;
      if (out.count > 0) yield out;
      if (failure !== undefined) throw failure;
      if (stop) return;
    }
  }

  const sharedColumns = columns();
  async function* batches(): AsyncGenerator<readonly LocatedRecord[]> {
    for await (const c of sharedColumns) {
      const out: LocatedRecord[] = new Array(c.count);
      for (let i = 0; i < c.count; i++) {
        const k = c.k[i];
        const rec: RawRecord =
          k === undefined
            ? { t: c.t[i]!, src: c.src[i]!, line: c.line[i]! }
            : { t: c.t[i]!, src: c.src[i]!, line: c.line[i]!, k };
        out[i] = { rec, file: c.file, line: c.no[i]! };
      }
      yield out;
    }
  }
  const shared = batches();
  async function* records(): AsyncGenerator<LocatedRecord> {
    for await (const b of shared) yield* b;
  }
  return {
    header: parsed.data,
    records: records(),
    batches: shared,
    columns: sharedColumns,
    notices,
  };
}

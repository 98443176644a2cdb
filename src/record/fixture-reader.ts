// Reads a recording (NDJSON, optionally gzip): a validated header, then RawRecords in time order.
import { InputError } from '../errors.js';
import type { RawRecord } from '../sources/raw-record.js';
import { FIXTURE_FORMAT, FIXTURE_MAJOR, fixtureHeaderSchema, rawRecordSchema, type FixtureHeader } from './fixture-header.js';
import { readLineBatches, type NumberedLine } from './line-reader.js';

/** A record with the place it came from, so problems can name file and line. */
export interface LocatedRecord {
  readonly rec: RawRecord;
  readonly file: string;
  readonly line: number;
}

export interface OpenedFixture {
  readonly header: FixtureHeader;
  readonly records: AsyncIterable<LocatedRecord>;
  /**
   * The same records, one array per read chunk (one async hop per chunk, not per record). The two
   * share one reader: iterate either `records` or `batches`, not both.
   */
  readonly batches: AsyncIterable<readonly LocatedRecord[]>;
  /** Things worth telling the user that are not errors (a truncated last line). Filled while iterating. */
  readonly notices: string[];
}

function firstIssue(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  const i = error.issues[0];
  if (!i) return 'invalid';
  return `${i.path.length ? `${i.path.map(String).join('.')}: ` : ''}${i.message}`;
}

function parseJsonLine(file: string, no: number, text: string): unknown {
  if (text.includes('\u0000')) throw new InputError(file, no, 'binary data (NUL byte): not a kdiag recording');
  try {
    return JSON.parse(text);
  } catch {
    throw new InputError(file, no, `not JSON: ${text.slice(0, 60).replace(/[^\x20-\x7e]/g, '?')}${text.length > 60 ? '…' : ''}`);
  }
}

/** The same test as rawRecordSchema, without zod (extra keys are allowed, as zod's object allows them). */
function isRawRecord(v: unknown): v is RawRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as { t?: unknown; src?: unknown; line?: unknown; k?: unknown };
  return (
    typeof r.t === 'number' && Number.isFinite(r.t) && r.t >= 0 &&
    typeof r.src === 'string' && r.src.length >= 1 && r.src.length <= 200 &&
    typeof r.line === 'string' &&
    (r.k === undefined || r.k === 'begin' || r.k === 'end' || r.k === 'err')
  );
}

/** Opens a recording: reads and validates the header, then streams records lazily. */
/** Opens a recording: reads and validates the header, then streams records lazily. */
export async function openFixture(path: string, label: string = path): Promise<OpenedFixture> {
  const chunks = readLineBatches(path, label);
  const first = await chunks.next();
  if (first.done || first.value.length === 0) throw new InputError(label, 1, 'empty file: not a kdiag recording');
  const headerJson = parseJsonLine(label, 1, first.value[0]!.text);
  if (typeof headerJson !== 'object' || headerJson === null || (headerJson as { format?: unknown }).format !== FIXTURE_FORMAT) {
    throw new InputError(label, 1, `not a kdiag recording (the first line must be a header with "format":"${FIXTURE_FORMAT}")`);
  }
  const version = String((headerJson as { version?: unknown }).version ?? '');
  const major = Number.parseInt(version.split('.')[0] ?? '', 10);
  if (Number.isFinite(major) && major > FIXTURE_MAJOR) {
    throw new InputError(label, 1, `recording format ${version} is newer than this kdiag reads (${FIXTURE_MAJOR}.x)`, {
      code: 'KDIAG_UNSUPPORTED_VERSION',
      hint: 'upgrade kdiag to replay it',
    });
  }
  const parsed = fixtureHeaderSchema.safeParse(headerJson);
  if (!parsed.success) throw new InputError(label, 1, `bad header: ${firstIssue(parsed.error)}`);
  const notices: string[] = [];
  const rest = first.value.slice(1);

  /** One line → its record; undefined for a blank line; 'stop' after a truncated last line. */
  function toRecord(l: NumberedLine): LocatedRecord | undefined | 'stop' {
    if (l.text.trim() === '') return undefined;
    let json: unknown;
    try {
      json = parseJsonLine(label, l.no, l.text);
    } catch (err) {
      if (l.unterminated) {
        notices.push(`${label}:${l.no}: last line is truncated (the recording was cut short); ignored it`);
        return 'stop';
      }
      throw err;
    }
    // A plain check first: zod's safeParse per record was a tenth of a replay's time (bench/); it
    // still runs for a record that fails, to word the error.
    if (isRawRecord(json)) {
      // rebuilt like zod's output: unknown keys dropped
      const rec: RawRecord = json.k === undefined ? { t: json.t, src: json.src, line: json.line } : { t: json.t, src: json.src, line: json.line, k: json.k };
      return { rec, file: label, line: l.no };
    }
    const r = rawRecordSchema.safeParse(json);
    if (!r.success) {
      if (l.unterminated) {
        notices.push(`${label}:${l.no}: last line is truncated (the recording was cut short); ignored it`);
        return 'stop';
      }
      throw new InputError(label, l.no, `bad record: ${firstIssue(r.error)}`);
    }
    return { rec: r.data as RawRecord, file: label, line: l.no };
  }

  // Records found before a bad line are handed over before its error is thrown, as one by one.
  async function* batches(): AsyncGenerator<readonly LocatedRecord[]> {
    let lines: NumberedLine[] | undefined = rest;
    for (;;) {
      if (lines === undefined) {
        const n = await chunks.next();
        if (n.done) return;
        lines = n.value;
      }
      const out: LocatedRecord[] = [];
      let failure: unknown;
      let stop = false;
      try {
        for (const l of lines) {
          const r = toRecord(l);
          if (r === undefined) continue;
          if (r === 'stop') {
            stop = true;
            break;
          }
          out.push(r);
        }
      } catch (err) {
        failure = err;
        stop = true;
      }
      lines = undefined;
      if (out.length > 0) yield out;
      if (failure !== undefined) throw failure;
      if (stop) return;
    }
  }

  const shared = batches();
  async function* records(): AsyncGenerator<LocatedRecord> {
    for await (const b of shared) yield* b;
  }
  return { header: parsed.data, records: records(), batches: shared, notices };
}

// conntrack -S: one line per possible CPU, `cpu=%-4u\t` then `name=value ` for each attribute the
// kernel sent (names kdiag does not know, and conntrack's own `unknownN`, are kept as printed).
import type { ConntrackCpuStats } from '../model/conntrack.js';
import { parseDec, quote } from './byte-lexer.js';
import { CONNTRACK_MAX_LINE } from './conntrack-entry.js';
import { conntrackToolLine } from './conntrack-tool-line.js';
import { lineIssue, parseRows, row, SKIP, type LineOutcome, type ParseResult } from './result.js';

const CODE = {
  tooLong: 'conntrack.line-too-long',
  badStats: 'conntrack.bad-stats',
  badNumber: 'conntrack.bad-number',
  duplicateField: 'conntrack.duplicate-field',
} as const;

const MAX_COUNTERS = 64;

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

function isName(s: string, from: number, to: number): boolean {
  if (to - from < 1 || to - from > 32) return false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95)) return false;
  }
  return true;
}

/** Parses one `conntrack -S` line (`cpu=0   \tfound=0 invalid=8 … `). */
export function parseConntrackStatsLine(line: string): LineOutcome<ConntrackCpuStats> {
  if (line.length > CONNTRACK_MAX_LINE) {
    return lineIssue(
      CODE.tooLong,
      `line is ${line.length} characters, more than ${CONNTRACK_MAX_LINE}`,
    );
  }
  if (!line.startsWith('cpu=')) {
    const tool = conntrackToolLine(line);
    if (tool !== undefined) return tool;
    return lineIssue(CODE.badStats, 'a conntrack -S line starts with cpu=');
  }
  const end = line.length;
  let p = 4;
  let te = p;
  while (te < end && !isSpace(line.charCodeAt(te))) te++;
  const cpu = parseDec(line, p, te);
  if (cpu < 0 || cpu > 65535)
    return lineIssue(CODE.badNumber, `cpu is not a CPU number: ${quote(line, p, te)}`);
  p = te;
  // null prototype: counter names come from the input and must not reach Object.prototype
  const counters: Record<string, number> = Object.create(null) as Record<string, number>;
  let n = 0;
  for (;;) {
    while (p < end && isSpace(line.charCodeAt(p))) p++;
    if (p >= end) break;
    te = p;
    while (te < end && !isSpace(line.charCodeAt(te))) te++;
    const e = line.indexOf('=', p);
    if (e === -1 || e >= te || !isName(line, p, e)) {
      return lineIssue(CODE.badStats, `expected name=value, got ${quote(line, p, te)}`);
    }
    const v = parseDec(line, e + 1, te);
    if (v < 0)
      return lineIssue(
        CODE.badNumber,
        `${line.slice(p, e)} is not a number: ${quote(line, e + 1, te)}`,
      );
    const name = line.slice(p, e);
    if (name in counters) return lineIssue(CODE.duplicateField, `${name}= appears twice`);
    if (++n > MAX_COUNTERS) return lineIssue(CODE.badStats, `more than ${MAX_COUNTERS} counters`);
    counters[name] = v;
    p = te;
  }
  return row<ConntrackCpuStats>({ cpu, counters });
}

// conntrack-tools <= 1.4.4 printed /proc/net/stat/nf_conntrack's header and first CPU row as
// `printf("%-10s\t\t%-8u\n")` lines; the names are the /proc header's, `icmp_error` being what
// ctnetlink and newer -S call `error`.
const OLD_ROW = /^([a-z_]{1,20})\s+(\d{1,20})\s*$/;
const OLD_NAMES: ReadonlySet<string> = new Set([
  'entries',
  'clashres',
  'searched',
  'found',
  'new',
  'invalid',
  'ignore',
  'delete',
  'delete_list',
  'insert',
  'insert_failed',
  'drop',
  'early_drop',
  'icmp_error',
  'error',
  'expect_new',
  'expect_create',
  'expect_delete',
  'search_restart',
  'clash_resolve',
  'chaintoolong',
]);

/** Parses a `conntrack -S` capture: one ConntrackCpuStats per CPU line, one for an older summary. */
export function parseConntrackStats(text: string): ParseResult<ConntrackCpuStats[]> {
  let old: { cpu: number; counters: Record<string, number>; entries?: number } | undefined;
  return parseRows<ConntrackCpuStats>(text, (line) => {
    const out = parseConntrackStatsLine(line);
    if (out.kind !== 'issue' || line.startsWith('cpu=')) return out;
    const m = OLD_ROW.exec(line);
    if (m === null || !OLD_NAMES.has(m[1]!)) return out;
    const v = Number(m[2]);
    if (!Number.isSafeInteger(v))
      return lineIssue(CODE.badNumber, `${m[1]} is not a number: ${m[2]}`);
    const name = m[1] === 'icmp_error' ? 'error' : m[1]!;
    // a second `entries` line starts a second summary (another paste of the command)
    const fresh = old === undefined || (name === 'entries' && old.entries !== undefined);
    if (fresh) old = { cpu: 0, counters: Object.create(null) as Record<string, number> };
    if (name === 'entries') old!.entries = v;
    else old!.counters[name] = v;
    return fresh ? row(old!) : SKIP;
  });
}

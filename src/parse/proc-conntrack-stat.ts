// /proc/net/stat/nf_conntrack: a header naming the columns, then one row of %08x values per possible
// CPU (ct_cpu_seq_show). Columns differ across kernels, so they are read by the header's names.
import type { ConntrackCpuStats } from '../model/conntrack.js';
import type { ParseIssue, ParseResult } from './result.js';
import { clip } from './result.js';

/** /proc column names that conntrack -S prints under another name. */
const RENAMES: Readonly<Record<string, string>> = {
  clashres: 'clash_resolve',
  chainlength: 'chaintoolong',
  icmp_error: 'error',
};

const MAX_COLUMNS = 64;
const MAX_ROWS = 8192;

function words(line: string): string[] {
  return line.split(/[ \t]+/).filter((w) => w !== '');
}

/** Parses the whole text of /proc/net/stat/nf_conntrack; CPU numbers are the row order. */
export function parseProcConntrackStat(text: string): ParseResult<ConntrackCpuStats[]> {
  const value: ConntrackCpuStats[] = [];
  const issues: ParseIssue[] = [];
  const lines = text.split('\n');
  let header: string[] | null = null;
  let cpu = 0;
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') continue;
    const issue = (code: string, message: string): void => {
      issues.push({ line: i + 1, code, message, text: clip(line) });
    };
    if (line.length > 4096) {
      // a data row that fails still takes its CPU's place
      if (header !== null) cpu++;
      issue('conntrack.line-too-long', `line is ${line.length} characters, more than 4096`);
      continue;
    }
    const cols = words(line);
    if (header === null) {
      if (
        cols.length > MAX_COLUMNS ||
        !cols.every((c) => /^[a-z][a-z0-9_]{0,31}$/.test(c)) ||
        new Set(cols).size !== cols.length
      ) {
        issue(
          'conntrack.bad-stat-header',
          'the first line is not a header of distinct column names',
        );
        return { value, issues };
      }
      header = cols;
      continue;
    }
    // a row that fails still takes its CPU's place
    const rowCpu = cpu++;
    if (rowCpu >= MAX_ROWS) {
      issue('conntrack.bad-stat-row', `more than ${MAX_ROWS} CPU rows`);
      break;
    }
    if (cols.length !== header.length) {
      issue(
        'conntrack.column-count',
        `row has ${cols.length} values, the header names ${header.length}`,
      );
      continue;
    }
    const counters: Record<string, number> = Object.create(null) as Record<string, number>;
    let entries: number | undefined;
    let bad = false;
    for (let j = 0; j < cols.length; j++) {
      const v = cols[j]!;
      if (!/^[0-9a-fA-F]{1,16}$/.test(v)) {
        issue(
          'conntrack.bad-hex',
          `${header[j]} is not hexadecimal: ${JSON.stringify(v.slice(0, 40))}`,
        );
        bad = true;
        break;
      }
      const n = Number.parseInt(v, 16);
      const name = header[j]!;
      if (name === 'entries') entries = n;
      else counters[RENAMES[name] ?? name] = n;
    }
    if (bad) continue;
    value.push(
      entries === undefined ? { cpu: rowCpu, counters } : { cpu: rowCpu, counters, entries },
    );
  }
  if (header === null && text.trim() !== '') {
    issues.push({ line: 1, code: 'conntrack.bad-stat-header', message: 'no header line' });
  }
  return { value, issues };
}

// Parses a tracepoint format file (/sys/kernel/tracing/events/<group>/<event>/format): its field
// list and the `__print_symbolic(REC->x, { n, "NAME" }, …)` tables of its print fmt.
import { clip, type ParseIssue, type ParseResult } from './result.js';

export interface TraceField {
  /** C type as printed: `void *`, `enum skb_drop_reason`, `__u8` (array suffix removed). */
  readonly type: string;
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly signed: boolean;
  /** Element count for `__u8 saddr[28]`, undefined for scalars. */
  readonly arrayLength?: number;
  /** True for the common_* header fields every event has. */
  readonly common: boolean;
}

export interface TraceFormat {
  readonly name: string;
  readonly id: number | undefined;
  readonly fields: TraceField[];
  readonly printFmt: string;
  /**
   * Numeric symbol tables keyed by the REC field they decode: `reason` → 3 → `NO_SOCKET`.
   * Entries whose value is not a number (`{ TCP_ESTABLISHED, "TCP_ESTABLISHED" }`, left for
   * the kernel to resolve) are skipped; the first table per field wins.
   */
  readonly symbols: Record<string, Record<number, string>>;
}

const MAX_TEXT = 256 * 1024;
const FIELD_RE = /^\s*field:(.{1,200});\s*offset:(\d{1,6});\s*size:(\d{1,6});\s*signed:([01]);/;

/** Parses the text of a tracepoint format file. */
export function parseTraceFormat(text: string): ParseResult<TraceFormat> {
  const issues: ParseIssue[] = [];
  const fields: TraceField[] = [];
  let name = '';
  let id: number | undefined;
  let printFmt = '';
  let seenBlank = false;
  const input = text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text;
  if (input !== text)
    issues.push({
      line: 1,
      code: 'tracefs.too-long',
      message: `format text longer than ${MAX_TEXT} characters; cut`,
    });
  const lines = input.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('name: ')) name = line.slice(6).trim();
    else if (line.startsWith('ID: ')) {
      const n = Number(line.slice(4).trim());
      if (Number.isInteger(n)) id = n;
      else
        issues.push({
          line: i + 1,
          code: 'tracefs.bad-id',
          message: 'ID is not a number',
          text: clip(line),
        });
    } else if (line.startsWith('print fmt: ')) printFmt = line.slice(11);
    else if (line.trim() === '') {
      if (fields.length > 0) seenBlank = true;
    } else if (line.trimStart().startsWith('field:')) {
      const m = FIELD_RE.exec(line);
      if (!m) {
        issues.push({
          line: i + 1,
          code: 'tracefs.bad-field',
          message: 'field line not understood',
          text: clip(line),
        });
        continue;
      }
      const decl = m[1]!.trim();
      const field = parseDecl(decl);
      if (!field) {
        issues.push({
          line: i + 1,
          code: 'tracefs.bad-field',
          message: 'field declaration not understood',
          text: clip(line),
        });
        continue;
      }
      fields.push({
        ...field,
        offset: Number(m[2]),
        size: Number(m[3]),
        signed: m[4] === '1',
        common: !seenBlank && field.name.startsWith('common_'),
      });
    } else if (line !== 'format:') {
      issues.push({
        line: i + 1,
        code: 'tracefs.unknown-line',
        message: 'line not understood',
        text: clip(line),
      });
    }
  }
  if (name === '') issues.push({ line: 1, code: 'tracefs.no-name', message: 'no "name:" line' });
  if (printFmt === '')
    issues.push({
      line: lines.length,
      code: 'tracefs.no-print-fmt',
      message: 'no "print fmt:" line',
    });
  return { value: { name, id, fields, printFmt, symbols: parsePrintSymbolic(printFmt) }, issues };
}

function parseDecl(decl: string): { type: string; name: string; arrayLength?: number } | undefined {
  // `__data_loc char[] name`, `__u8 saddr[28]`, `const void * skbaddr`, `enum skb_drop_reason reason`
  const m = /^(.{1,150}?)[\s*]([A-Za-z_][A-Za-z0-9_]{0,63})(?:\[(\d{0,6})\])?$/.exec(decl);
  if (!m) return undefined;
  const star = decl.slice(m[1]!.length, m[1]!.length + 1) === '*' ? ' *' : '';
  const type = `${m[1]!.trim()}${star}`.replace(/\s+\*/g, ' *');
  const arr = m[3];
  return arr === undefined || arr === ''
    ? { type, name: m[2]! }
    : { type, name: m[2]!, arrayLength: Number(arr) };
}

/** Extracts every numeric `__print_symbolic(REC->field, { n, "NAME" }, …)` table of a print fmt. */
export function parsePrintSymbolic(printFmt: string): Record<string, Record<number, string>> {
  const out: Record<string, Record<number, string>> = {};
  const marker = '__print_symbolic(REC->';
  let from = 0;
  for (let guard = 0; guard < 64; guard++) {
    const at = printFmt.indexOf(marker, from);
    if (at < 0) break;
    const nameStart = at + marker.length;
    let j = nameStart;
    while (j < printFmt.length && /[A-Za-z0-9_]/.test(printFmt[j]!)) j++;
    const field = printFmt.slice(nameStart, j);
    // The table ends at the `)` that closes __print_symbolic; strings in it hold no parentheses.
    const end = findClose(printFmt, j);
    const body = printFmt.slice(j, end);
    from = end;
    const table: Record<number, string> = {};
    let count = 0;
    for (const m of body.matchAll(
      /\{\s*(-?\d{1,10}|0x[0-9a-fA-F]{1,8})\s*,\s*"([^"]{1,80})"\s*\}/g,
    )) {
      const n = Number(m[1]);
      if (!Number.isSafeInteger(n)) continue;
      table[n] = m[2]!;
      count++;
    }
    if (field !== '' && count > 0 && out[field] === undefined) out[field] = table;
  }
  return out;
}

function findClose(s: string, from: number): number {
  let depth = 1;
  let inStr = false;
  for (let i = from; i < s.length; i++) {
    const c = s[i];
    if (inStr) {
      if (c === '\\') i++;
      else if (c === '"') inStr = false;
    } else if (c === '"') inStr = true;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  return s.length;
}

/** Name → number for one symbol table (the reverse map a template needs). */
export function invertSymbols(table: Record<number, string>): Map<string, number> {
  const m = new Map<string, number>();
  for (const [k, v] of Object.entries(table)) if (!m.has(v)) m.set(v, Number(k));
  return m;
}

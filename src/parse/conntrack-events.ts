// conntrack -E [-o timestamp][,extended][,id] lines: `[sec.usec]\t` + `%9s ` event type + the -L layout
// + ` [USERSPACE] portid=N [progname=…]` when a netlink request from userspace caused the event.
import type { ConntrackEvent, ConntrackEventType } from '../model/conntrack.js';
import { byteIndex, decimalAt, lineCodes, parseDec, quote } from './byte-lexer.js';
import { CONNTRACK_MAX_LINE, scanConntrackCodes } from './conntrack-entry.js';
import { conntrackToolLine } from './conntrack-tool-line.js';
import { lineIssue, parseRows, row, type LineOutcome, type ParseResult } from './result.js';

const CODE = {
  tooLong: 'conntrack.line-too-long',
  badTimestamp: 'conntrack.bad-timestamp',
  badEventType: 'conntrack.bad-event-type',
  badUserspace: 'conntrack.bad-userspace',
} as const;

const USERSPACE = '[USERSPACE]';
const SP = 32;

// The line is read from its character codes (lineCodes), as the entry scanner reads it:
// the prefix checks then cost byte compares instead of string calls, and the scanner gets the codes
// without copying the line a second time.

/** The event tags as printed (`%9s ` right-aligns them; the alignment spaces are skipped before). */
const TAGS: ReadonlyArray<{ readonly type: ConntrackEventType; readonly codes: Uint8Array }> = (
  [
    ['NEW', '[NEW] '],
    ['UPDATE', '[UPDATE] '],
    ['DESTROY', '[DESTROY] '],
  ] as const
).map(([type, text]) => ({ type, codes: Uint8Array.from(text, (c) => c.charCodeAt(0)) }));

/** The tag at b[p…] (a prefix compare), or undefined. */
function tagAt(b: Uint8Array, p: number): (typeof TAGS)[number] | undefined {
  for (const tag of TAGS) {
    const w = tag.codes;
    let i = 0;
    while (i < w.length && b[p + i] === w[i]) i++;
    if (i === w.length) return tag;
  }
  return undefined;
}

/** `sec.usec` in b[from, to) → seconds; NaN when it is not two digit runs around a dot. */
function parseTimestamp(b: Uint8Array, from: number, to: number): number {
  const dot = byteIndex(b, 46, from, to);
  if (dot === -1) return Number.NaN;
  const sec = decimalAt(b, from, dot);
  const fracLen = to - dot - 1;
  if (sec < 0 || sec > 1e13 || fracLen < 1 || fracLen > 9) return Number.NaN;
  const frac = decimalAt(b, dot + 1, to);
  if (frac < 0) return Number.NaN;
  return sec + frac / 10 ** fracLen;
}

/**
 * The slow path of a stamp the fast read refused. conntrack-tools <= 1.4.6 printed the microseconds
 * with `%-6ld`: left-aligned and blank-padded, so `.9041  ` is 9041 us. Anything else (a stamp
 * edited or cut short by hand) is a stamp of unknown time: the event itself is still whole.
 */
function slowTimestamp(b: Uint8Array, from: number, to: number): number | undefined {
  let digitsEnd = to;
  while (digitsEnd > from && b[digitsEnd - 1] === SP) digitsEnd--;
  const dot = byteIndex(b, 46, from, digitsEnd);
  if (digitsEnd === to || dot === -1 || to - dot - 1 !== 6) return undefined;
  const sec = decimalAt(b, from, dot);
  const usec = decimalAt(b, dot + 1, digitsEnd);
  if (sec < 0 || sec > 1e13 || usec < 0) return undefined;
  return sec + usec / 1e6;
}

/** ` [USERSPACE] portid=N [progname=…]` (the part from `[USERSPACE]` on). */
function parseUserspace(
  s: string,
  from: number,
  end: number,
): ConntrackEvent['userspace'] | string {
  let p = from + USERSPACE.length;
  while (p < end && s.charCodeAt(p) === 32) p++;
  // conntrack-tools < 1.4.7 printed a bare ` [USERSPACE]` (with -o userspace); portid 0 is never a
  // userspace socket, so it stands for "not printed"
  if (p >= end) return { portid: 0 };
  if (!s.startsWith('portid=', p)) return 'no portid= after [USERSPACE]';
  let te = s.indexOf(' ', p);
  if (te === -1 || te > end) te = end;
  const portid = parseDec(s, p + 7, te);
  if (portid < 0 || portid > 0xffffffff) return `portid is not a u32: ${quote(s, p + 7, te)}`;
  p = te;
  while (p < end && s.charCodeAt(p) === 32) p++;
  if (p >= end) return { portid };
  // the program name is the rest of the line: a command name may hold spaces
  if (!s.startsWith('progname=', p)) return `unexpected text after portid: ${quote(s, p, end)}`;
  const progname = s.slice(p + 9, end);
  if (progname.length === 0 || progname.length > 256) return 'progname= is empty or too long';
  return { portid, progname };
}

/** Parses one line of `conntrack -E` output, with or without `-o timestamp`. */
export function parseConntrackEventLine(line: string): LineOutcome<ConntrackEvent> {
  if (line.length > CONNTRACK_MAX_LINE) {
    return lineIssue(
      CODE.tooLong,
      `line is ${line.length} characters, more than ${CONNTRACK_MAX_LINE}`,
    );
  }
  const b = lineCodes(line);
  let p = 0;
  let end = line.length;
  while (end > 0 && b[end - 1] === SP) end--;
  let ts: number | undefined;
  if (b[0] === 91 /* [ */ && b[1]! >= 48 && b[1]! <= 57) {
    // the closing ] within the first 33 characters
    const close = byteIndex(b, 93, 1, Math.min(33, line.length));
    if (close === -1) return lineIssue(CODE.badTimestamp, 'timestamp has no closing ]');
    const t = parseTimestamp(b, 1, close);
    ts = Number.isFinite(t) ? t : slowTimestamp(b, 1, close);
    p = close + 1;
    if (b[p] !== 9) return lineIssue(CODE.badTimestamp, 'timestamp is not followed by a tab');
    p++;
  } else {
    const c0 = b[0];
    if (c0 === 99 || c0 === 110) {
      const tool = conntrackToolLine(line);
      if (tool !== undefined) return tool;
    }
  }
  while (p < end && b[p] === SP) p++;
  const tag = tagAt(b, p);
  if (tag === undefined) {
    let te = line.indexOf(' ', p);
    if (te === -1) te = end;
    return lineIssue(
      CODE.badEventType,
      `expected [NEW], [UPDATE] or [DESTROY], got ${quote(line, p, te)}`,
    );
  }
  const type = tag.type;
  p += tag.codes.length;

  let userspace: ConntrackEvent['userspace'];
  const u = line.indexOf(USERSPACE, p);
  let entryEnd = end;
  if (u !== -1 && u < end) {
    const us = parseUserspace(line, u, end);
    if (typeof us === 'string') return lineIssue(CODE.badUserspace, us);
    userspace = us;
    entryEnd = u;
    while (entryEnd > p && b[entryEnd - 1] === SP) entryEnd--;
  }
  // parseUserspace and conntrackToolLine leave the codes alone: b is still this line's
  const entry = scanConntrackCodes(line, b, p, entryEnd);
  if (entry.kind !== 'row') return entry;
  return row<ConntrackEvent>({ type, ts, entry: entry.value, userspace });
}

/** Parses a captured `conntrack -E` stream. */
export function parseConntrackEvents(text: string): ParseResult<ConntrackEvent[]> {
  return parseRows(text, parseConntrackEventLine);
}

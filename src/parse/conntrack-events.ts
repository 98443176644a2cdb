// conntrack -E [-o timestamp][,extended][,id] lines: `[sec.usec]\t` + `%9s ` event type + the -L layout
// + ` [USERSPACE] portid=N [progname=…]` when a netlink request from userspace caused the event.
import type { ConntrackEvent, ConntrackEventType } from '../model/conntrack.js';
import { CONNTRACK_MAX_LINE, conntrackToolLine, parseDec, scanConntrackEntry } from './conntrack-entry.js';
import { lineIssue, parseRows, row, type LineOutcome, type ParseResult } from './result.js';

const CODE = {
  tooLong: 'conntrack.line-too-long',
  badTimestamp: 'conntrack.bad-timestamp',
  badEventType: 'conntrack.bad-event-type',
  badUserspace: 'conntrack.bad-userspace',
} as const;

const USERSPACE = '[USERSPACE]';

function quote(s: string, from: number, to: number): string {
  return JSON.stringify(to - from > 60 ? `${s.slice(from, from + 60)}…` : s.slice(from, to));
}

/** `sec.usec` → seconds; NaN when it is not two digit runs around a dot. */
function parseTimestamp(s: string, from: number, to: number): number {
  const dot = s.indexOf('.', from);
  if (dot === -1 || dot >= to) return Number.NaN;
  const sec = parseDec(s, from, dot);
  const fracLen = to - dot - 1;
  if (sec < 0 || sec > 1e13 || fracLen < 1 || fracLen > 9) return Number.NaN;
  const frac = parseDec(s, dot + 1, to);
  if (frac < 0) return Number.NaN;
  return sec + frac / 10 ** fracLen;
}

/** ` [USERSPACE] portid=N [progname=…]` (the part from `[USERSPACE]` on). */
function parseUserspace(s: string, from: number, end: number): ConntrackEvent['userspace'] | string {
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
    return lineIssue(CODE.tooLong, `line is ${line.length} characters, more than ${CONNTRACK_MAX_LINE}`);
  }
  let p = 0;
  let end = line.length;
  while (end > 0 && line.charCodeAt(end - 1) === 32) end--;
  let ts: number | undefined;
  if (line.charCodeAt(0) === 91 /* [ */ && line.charCodeAt(1) >= 48 && line.charCodeAt(1) <= 57) {
    const close = line.indexOf(']', 1);
    if (close === -1 || close > 32) return lineIssue(CODE.badTimestamp, 'timestamp has no closing ]');
    const t = parseTimestamp(line, 1, close);
    if (!Number.isFinite(t)) return lineIssue(CODE.badTimestamp, `not a sec.usec timestamp: ${quote(line, 1, close)}`);
    ts = t;
    p = close + 1;
    if (line.charCodeAt(p) !== 9) return lineIssue(CODE.badTimestamp, 'timestamp is not followed by a tab');
    p++;
  } else {
    const c0 = line.charCodeAt(0);
    if (c0 === 99 || c0 === 110) {
      const tool = conntrackToolLine(line);
      if (tool !== undefined) return tool;
    }
  }
  while (p < end && line.charCodeAt(p) === 32) p++;
  let type: ConntrackEventType;
  if (line.startsWith('[NEW] ', p)) { type = 'NEW'; p += 6; }
  else if (line.startsWith('[UPDATE] ', p)) { type = 'UPDATE'; p += 9; }
  else if (line.startsWith('[DESTROY] ', p)) { type = 'DESTROY'; p += 10; }
  else {
    let te = line.indexOf(' ', p);
    if (te === -1) te = end;
    return lineIssue(CODE.badEventType, `expected [NEW], [UPDATE] or [DESTROY], got ${quote(line, p, te)}`);
  }

  let userspace: ConntrackEvent['userspace'];
  const u = line.indexOf(USERSPACE, p);
  let entryEnd = end;
  if (u !== -1 && u < end) {
    const us = parseUserspace(line, u, end);
    if (typeof us === 'string') return lineIssue(CODE.badUserspace, us);
    userspace = us;
    entryEnd = u;
    while (entryEnd > p && line.charCodeAt(entryEnd - 1) === 32) entryEnd--;
  }
  const entry = scanConntrackEntry(line, p, entryEnd);
  if (entry.kind !== 'row') return entry;
  return row<ConntrackEvent>({ type, ts, entry: entry.value, userspace });
}

/** Parses a captured `conntrack -E` stream. */
export function parseConntrackEvents(text: string): ParseResult<ConntrackEvent[]> {
  return parseRows(text, parseConntrackEventLine);
}

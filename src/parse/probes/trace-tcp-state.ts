// probes/trace_tcp_state.bt: `state.v1` (sock:inet_sock_set_state) and `ka.v1` (setsockopt of
// keepalive options) lines in bpftrace -f json, with the socket's keepalive settings.
import { lineIssue, row, type LineOutcome } from '../result.js';
import type { ProbeEvent, SocketKeepalive, StateEvent } from '../../model/probe-event.js';
import { addr4End, quadValue } from '../ip-text.js';
import { int, tupleAt, uint } from './envelope.js';
import { tcpStateName, type ProbeContext } from './context.js';
import { fieldCountIssue, parseProbeJsonLine } from './probe-line.js';

export const TCP_STATE_FIELDS = ['t_ns', 'oldstate', 'newstate', 'netns', 'family', 'saddr', 'sport', 'daddr', 'dport', 'keepopen', 'idle_ms', 'intvl_ms', 'probes'] as const;
export const TCP_KEEPALIVE_FIELDS = ['t_ns', 'pid', 'level', 'optname', 'state', 'netns', 'family', 'saddr', 'sport', 'daddr', 'dport', 'keepopen', 'idle_ms', 'intvl_ms', 'probes'] as const;
export const TCP_STATE_TAGS = ['state.v1', 'ka.v1'] as const;

// UAPI socket option numbers (asm-generic/socket.h, linux/tcp.h).
const OPTION_NAMES: Record<string, string> = { '1/9': 'SO_KEEPALIVE', '6/4': 'TCP_KEEPIDLE', '6/5': 'TCP_KEEPINTVL', '6/6': 'TCP_KEEPCNT' };

function keepalive(f: readonly string[], at: number): SocketKeepalive | undefined {
  const open = f[at];
  const idleMs = uint(f[at + 1]);
  const intvlMs = uint(f[at + 2]);
  const probes = uint(f[at + 3], 255);
  if ((open !== '0' && open !== '1') || idleMs === undefined || intvlMs === undefined || probes === undefined) return undefined;
  // The probe converted jiffies with the run's HZ; a socket value is whole seconds (TCP_KEEPIDLE).
  return { enabled: open === '1', idleSec: idleMs / 1000, intervalSec: intvlMs / 1000, probes };
}

/** Parses one line of trace_tcp_state.bt output (state changes and keepalive setsockopt calls). */
export function parseTcpStateLine(line: string, ctx: ProbeContext): LineOutcome<ProbeEvent> {
  return fastStateLine(line, ctx) ?? parseProbeJsonLine(line, ctx, TCP_STATE_TAGS, decodeTcpState);
}

// A `state.v1` line exactly as bpftrace 0.17 prints kdiag's printf, read in one pass without cutting
// it into field strings. Only a line every field of which is good is taken (IPv4, numbers short
// enough to be exact, the final \n); any other goes the general way, which words its issue.
const STATE_HEAD = '{"type": "printf", "data": "state.v1\\t';
const STATE_TAIL = '\\n"}';
let pos = 0;

/** Decimal digits at pos (1..maxDigits, optionally after a '-'), then a \t escape or, when last, the tail. -1 when not so. */
function fieldNum(s: string, last: boolean, signed: boolean): number {
  let p = pos;
  const neg = signed && s.charCodeAt(p) === 45;
  if (neg) p++;
  const from = p;
  let n = 0;
  for (;;) {
    const c = s.charCodeAt(p) - 48; // NaN past the end
    if (!(c >= 0 && c <= 9)) break;
    n = n * 10 + c;
    p++;
  }
  if (p === from || p - from > (signed ? 11 : 15)) return Number.NaN;
  if (!sep(s, p, last)) return Number.NaN;
  return neg ? -n : n;
}

/** A \t escape at p (or the tail, ending the line, when last); moves pos past it. */
function sep(s: string, p: number, last: boolean): boolean {
  if (last) {
    if (p + 4 !== s.length || !s.startsWith(STATE_TAIL, p)) return false;
  } else if (s.charCodeAt(p) !== 92 || s.charCodeAt(p + 1) !== 116) return false;
  pos = p + 2;
  return true;
}

/** The int32 of the address fieldAddr4 last read (see quadValue). */
let addrValue: number | undefined;

/** An IPv4 address as bpftrace prints it, then a \t escape. */
function fieldAddr4(s: string): string | undefined {
  const from = pos;
  const p = addr4End(s, from);
  if (p < 0 || !sep(s, p, false)) return undefined;
  addrValue = quadValue(s, from, p);
  return s.slice(from, p);
}

function fastStateLine(line: string, ctx: ProbeContext): LineOutcome<ProbeEvent> | undefined {
  if (!line.startsWith(STATE_HEAD)) return undefined;
  pos = STATE_HEAD.length;
  const tsNs = fieldNum(line, false, false);
  const oldS = fieldNum(line, false, true);
  const newS = fieldNum(line, false, true);
  const netns = fieldNum(line, false, false);
  const family = fieldNum(line, false, false);
  if (!(tsNs >= 0 && oldS === oldS && newS === newS && netns >= 0 && netns <= 0xffffffff && family === 4)) return undefined;
  const saddr = fieldAddr4(line);
  if (saddr === undefined) return undefined;
  const saddr4 = addrValue;
  const sport = fieldNum(line, false, false);
  if (!(sport <= 65535)) return undefined;
  const daddr = fieldAddr4(line);
  if (daddr === undefined) return undefined;
  const daddr4 = addrValue;
  const dport = fieldNum(line, false, false);
  // keepopen: the one character 0 or 1, as the general path reads it
  const open = line.charCodeAt(pos) - 48;
  if (!(dport <= 65535 && (open === 0 || open === 1) && sep(line, pos + 1, false))) return undefined;
  const idleMs = fieldNum(line, false, false);
  const intvlMs = fieldNum(line, false, false);
  const probes = fieldNum(line, true, false);
  if (!(idleMs >= 0 && intvlMs >= 0 && probes <= 255)) return undefined;
  const ev: StateEvent = {
    kind: 'state',
    tsNs,
    netns,
    oldState: tcpStateName(ctx, oldS),
    newState: tcpStateName(ctx, newS),
    tuple: { proto: 'tcp', saddr, sport, daddr, dport, saddr4, daddr4 },
    keepalive: { enabled: open === 1, idleSec: idleMs / 1000, intervalSec: intvlMs / 1000, probes },
    trigger: 'state-change',
  };
  return { kind: 'row', value: ev };
}

// one function for every line, not a closure per line (a quarter of a replay's records are these)
function decodeTcpState(tag: string, f: readonly string[], ctx: ProbeContext): LineOutcome<ProbeEvent> {
  if (tag === 'state.v1') {
    if (f.length !== TCP_STATE_FIELDS.length) return fieldCountIssue(tag, f.length, TCP_STATE_FIELDS.length);
    const tsNs = uint(f[0]);
    const oldS = int(f[1]);
    const newS = int(f[2]);
    const netns = uint(f[3], 0xffffffff);
    if (tsNs === undefined || oldS === undefined || newS === undefined || netns === undefined) {
      return lineIssue('probe.bad-number', `${tag}: a number field is not a number`);
    }
    const tuple = tupleAt(f, 4, 'tcp');
    if (!tuple) return lineIssue('probe.bad-tuple', `${tag}: bad family, address or port`);
    const ka = keepalive(f, 9);
    if (!ka) return lineIssue('probe.bad-keepalive', `${tag}: bad keepalive fields`);
    const ev: StateEvent = {
      kind: 'state', tsNs, netns, oldState: tcpStateName(ctx, oldS), newState: tcpStateName(ctx, newS), tuple, keepalive: ka, trigger: 'state-change',
    };
    return row(ev);
  }
  if (f.length !== TCP_KEEPALIVE_FIELDS.length) return fieldCountIssue(tag, f.length, TCP_KEEPALIVE_FIELDS.length);
  const tsNs = uint(f[0]);
  const pid = uint(f[1], 0xffffffff);
  const level = uint(f[2], 0xffff);
  const optname = uint(f[3], 0xffff);
  const state = int(f[4]);
  const netns = uint(f[5], 0xffffffff);
  if (tsNs === undefined || pid === undefined || level === undefined || optname === undefined || state === undefined || netns === undefined) {
    return lineIssue('probe.bad-number', `${tag}: a number field is not a number`);
  }
  const tuple = tupleAt(f, 6, 'tcp');
  if (!tuple) return lineIssue('probe.bad-tuple', `${tag}: bad family, address or port`);
  const ka = keepalive(f, 11);
  if (!ka) return lineIssue('probe.bad-keepalive', `${tag}: bad keepalive fields`);
  const st = tcpStateName(ctx, state);
  const ev: StateEvent = {
    kind: 'state', tsNs, netns, oldState: st, newState: st, tuple, keepalive: ka, trigger: 'setsockopt', pid,
    option: OPTION_NAMES[`${level}/${optname}`] ?? `${level}/${optname}`,
  };
  return row(ev);
}

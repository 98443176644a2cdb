// probes/trace_tcp_state.bt: `state.v1` (sock:inet_sock_set_state) and `ka.v1` (setsockopt of
// keepalive options) lines in bpftrace -f json, with the socket's keepalive settings.
import { lineIssue, row, type LineOutcome } from '../result.js';
import type { ProbeEvent, SocketKeepalive, StateEvent } from '../../model/probe-event.js';
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
  return parseProbeJsonLine(line, ctx, TCP_STATE_TAGS, decodeTcpState);
}

// one function for every line, not a closure per line (a quarter of a replay's records are these)
function decodeTcpState(tag: string, f: readonly string[], ctx: ProbeContext): LineOutcome<ProbeEvent> {
  {
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
}

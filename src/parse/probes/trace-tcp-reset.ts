// probes/trace_tcp_reset.bt: `rst.v1` lines (tcp:tcp_send_reset, tcp:tcp_receive_reset) in bpftrace -f json.
import { lineIssue, row, type LineOutcome } from '../result.js';
import type { ProbeEvent, ResetEvent } from '../../model/probe-event.js';
import { int, tupleAt, uint } from './envelope.js';
import { reasonName, tcpStateName, type ProbeContext } from './context.js';
import { fieldCountIssue, parseProbeJsonLine } from './probe-line.js';

export const TCP_RESET_FIELDS = ['t_ns', 'direction', 'mode', 'reason', 'state', 'netns', 'family', 'saddr', 'sport', 'daddr', 'dport'] as const;
export const TCP_RESET_TAGS = ['rst.v1'] as const;

/**
 * Parses one line of trace_tcp_reset.bt output. A received reset is reported by the socket
 * (mode 'active': the tuple is the socket's local → remote); reason -1 = the kernel has none.
 */
export function parseTcpResetLine(line: string, ctx: ProbeContext): LineOutcome<ProbeEvent> {
  return parseProbeJsonLine(line, ctx, TCP_RESET_TAGS, (tag, f) => {
    if (f.length !== TCP_RESET_FIELDS.length) return fieldCountIssue(tag, f.length, TCP_RESET_FIELDS.length);
    const tsNs = uint(f[0]);
    const dir = f[1];
    const mode = f[2];
    const reason = int(f[3]);
    const state = int(f[4]);
    const netns = uint(f[5], 0xffffffff);
    if (dir !== 'sent' && dir !== 'received') return lineIssue('probe.bad-field', `${tag}: direction "${String(dir).slice(0, 20)}"`);
    if (mode !== 'passive' && mode !== 'active') return lineIssue('probe.bad-field', `${tag}: mode "${String(mode).slice(0, 20)}"`);
    if (tsNs === undefined || reason === undefined || state === undefined || netns === undefined) {
      return lineIssue('probe.bad-number', `${tag}: a number field is not a number`);
    }
    const tuple = tupleAt(f, 6, 'tcp');
    if (!tuple) return lineIssue('probe.bad-tuple', `${tag}: bad family, address or port`);
    const ev: ResetEvent = {
      kind: 'reset',
      tsNs,
      netns,
      direction: dir,
      mode,
      ...(reason < 0 ? {} : { reason: reasonName(ctx.rstReasons, reason) }),
      state: tcpStateName(ctx, state),
      tuple,
    };
    return row(ev);
  });
}

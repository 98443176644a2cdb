// probes/trace_tcp_retrans.bt: `retrans.v1` per-flow summaries (tcp:tcp_retransmit_skb) in bpftrace -f json.
import { lineIssue, row, type LineOutcome } from '../result.js';
import type { ProbeEvent, RetransmitEvent } from '../../model/probe-event.js';
import { int, tupleAt, uint } from './envelope.js';
import { tcpStateName, type ProbeContext } from './context.js';
import { fieldCountIssue, parseProbeJsonLine } from './probe-line.js';

export const TCP_RETRANS_FIELDS = ['t_ns', 'count', 'state', 'netns', 'family', 'saddr', 'sport', 'daddr', 'dport', 'final'] as const;
export const TCP_RETRANS_TAGS = ['retrans.v1'] as const;

/** Parses one line of trace_tcp_retrans.bt output: retransmits of a flow since its previous line. */
export function parseTcpRetransLine(line: string, ctx: ProbeContext): LineOutcome<ProbeEvent> {
  return parseProbeJsonLine(line, ctx, TCP_RETRANS_TAGS, (tag, f) => {
    if (f.length !== TCP_RETRANS_FIELDS.length) return fieldCountIssue(tag, f.length, TCP_RETRANS_FIELDS.length);
    const tsNs = uint(f[0]);
    const count = uint(f[1], 0xffffffff);
    const state = int(f[2]);
    const netns = uint(f[3], 0xffffffff);
    const final = f[9];
    if (tsNs === undefined || count === undefined || state === undefined || netns === undefined) {
      return lineIssue('probe.bad-number', `${tag}: a number field is not a number`);
    }
    if (final !== '0' && final !== '1') return lineIssue('probe.bad-field', `${tag}: final must be 0 or 1`);
    const tuple = tupleAt(f, 4, 'tcp');
    if (!tuple) return lineIssue('probe.bad-tuple', `${tag}: bad family, address or port`);
    const ev: RetransmitEvent = { kind: 'retransmit', tsNs, netns, state: tcpStateName(ctx, state), tuple, count, final: final === '1' };
    return row(ev);
  });
}

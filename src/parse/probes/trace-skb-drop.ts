// probes/trace_skb_drop.bt: `drop.v1` lines (tracepoint skb:kfree_skb) inside bpftrace -f json.
import { lineIssue, row, type LineOutcome } from '../result.js';
import type { DropEvent, ProbeEvent } from '../../model/probe-event.js';
import { protoName, tupleAt, uint } from './envelope.js';
import { reasonName, type ProbeContext } from './context.js';
import { fieldCountIssue, parseProbeJsonLine } from './probe-line.js';

/** Field names after the tag, in order: the contract with the probe's printf. */
export const SKB_DROP_FIELDS = ['t_ns', 'reason', 'location', 'netns', 'family', 'proto', 'saddr', 'sport', 'daddr', 'dport', 'tcp_flags', 'seq', 'ack'] as const;
export const SKB_DROP_TAGS = ['drop.v1'] as const;

/** Parses one line of trace_skb_drop.bt output; reasons are named with ctx.dropReasons. */
export function parseSkbDropLine(line: string, ctx: ProbeContext): LineOutcome<ProbeEvent> {
  return parseProbeJsonLine(line, ctx, SKB_DROP_TAGS, (tag, f) => {
    if (f.length !== SKB_DROP_FIELDS.length) return fieldCountIssue(tag, f.length, SKB_DROP_FIELDS.length);
    const tsNs = uint(f[0]);
    const reason = uint(f[1], 0xffffffff);
    const location = f[2] ?? '';
    const netns = uint(f[3], 0xffffffff);
    const proto = uint(f[5], 255);
    if (tsNs === undefined || reason === undefined || netns === undefined || proto === undefined) {
      return lineIssue('probe.bad-number', `${tag}: a number field is not a number`);
    }
    if (location.length === 0 || location.length > 128) return lineIssue('probe.bad-field', `${tag}: bad location`);
    const tuple = tupleAt(f, 4, protoName(proto), 6);
    if (!tuple) return lineIssue('probe.bad-tuple', `${tag}: bad family, address or port`);
    const ev: DropEvent = {
      kind: 'drop',
      tsNs,
      netns,
      reason: reasonName(ctx.dropReasons, reason),
      location,
      tuple,
    };
    if (proto !== 6) return row(ev);
    const tcpFlags = uint(f[10], 255);
    const seq = uint(f[11], 0xffffffff);
    const ack = uint(f[12], 0xffffffff);
    if (tcpFlags === undefined || seq === undefined || ack === undefined) return lineIssue('probe.bad-number', `${tag}: bad TCP flags, seq or ack`);
    return row({ ...ev, tcpFlags, seq, ack });
  });
}

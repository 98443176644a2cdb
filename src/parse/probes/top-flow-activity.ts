// probes/top_flow_activity.bt: `act.v1` per-flow activity summaries (tcp:tcp_probe) in bpftrace -f json.
import { lineIssue, row, type LineOutcome } from '../result.js';
import type { ActivityEvent, ProbeEvent } from '../../model/probe-event.js';
import { tupleAt, uint } from './envelope.js';
import type { ProbeContext } from './context.js';
import { fieldCountIssue, parseProbeJsonLine } from './probe-line.js';

export const FLOW_ACTIVITY_FIELDS = ['t_ns', 'packets', 'netns', 'family', 'saddr', 'sport', 'daddr', 'dport', 'final'] as const;
export const FLOW_ACTIVITY_TAGS = ['act.v1'] as const;

/** Parses one line of top_flow_activity.bt output: a flow's last segment and segments since its previous line. */
export function parseFlowActivityLine(line: string, ctx: ProbeContext): LineOutcome<ProbeEvent> {
  return parseProbeJsonLine(line, ctx, FLOW_ACTIVITY_TAGS, (tag, f) => {
    if (f.length !== FLOW_ACTIVITY_FIELDS.length) return fieldCountIssue(tag, f.length, FLOW_ACTIVITY_FIELDS.length);
    const lastNs = uint(f[0]);
    const packets = uint(f[1], 0xffffffff);
    const netns = uint(f[2], 0xffffffff);
    const final = f[8];
    if (lastNs === undefined || packets === undefined || netns === undefined) return lineIssue('probe.bad-number', `${tag}: a number field is not a number`);
    if (final !== '0' && final !== '1') return lineIssue('probe.bad-field', `${tag}: final must be 0 or 1`);
    const tuple = tupleAt(f, 3, 'tcp');
    if (!tuple) return lineIssue('probe.bad-tuple', `${tag}: bad family, address or port`);
    const ev: ActivityEvent = { kind: 'activity', tsNs: lastNs, netns, tuple, lastNs, packets, final: final === '1' };
    return row(ev);
  });
}

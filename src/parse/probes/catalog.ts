// The probe catalog: probe id → its .bt file, shape, tracepoints and fields it needs, line tags
// and their fields, template inputs, and its parser. The one place probes and TypeScript agree.
import type { LineOutcome } from '../result.js';
import type { ProbeEvent } from '../../model/probe-event.js';
import type { ProbeContext } from './context.js';
import { parseSkbDropLine, SKB_DROP_FIELDS } from './trace-skb-drop.js';
import { parseTcpResetLine, TCP_RESET_FIELDS } from './trace-tcp-reset.js';
import { parseTcpRetransLine, TCP_RETRANS_FIELDS } from './trace-tcp-retrans.js';
import { parseTcpStateLine, TCP_KEEPALIVE_FIELDS, TCP_STATE_FIELDS } from './trace-tcp-state.js';
import { FLOW_ACTIVITY_FIELDS, parseFlowActivityLine } from './top-flow-activity.js';

export type ProbeShape = 'trace' | 'summary';

/** A tracepoint a probe attaches to, with the format-file fields it reads. */
export interface ProbeTracepoint {
  /** `skb:kfree_skb` (group:event, as bpftrace and tracefs name it). */
  readonly name: string;
  /** Fields the program cannot run without. */
  readonly fields: readonly string[];
  /** Fields used when present (templated with FIELD_OR), and what is lost without them. */
  readonly optionalFields?: readonly { readonly name: string; readonly without: string }[];
}

/** What kdiag templates into the program text before running it. */
export type TemplateInput = 'drop-reasons' | 'rst-reasons' | 'hz' | 'interval' | 'netns' | 'fields';

export interface ProbeSpec {
  readonly id: string;
  /** File name under probes/. */
  readonly file: string;
  /** RawRecord source id of its records. */
  readonly sourceId: string;
  readonly summary: string;
  readonly shape: ProbeShape;
  readonly tracepoints: readonly ProbeTracepoint[];
  readonly minKernel: string;
  readonly minBpftrace: string;
  readonly requiresRoot: true;
  readonly requiresBtf: boolean;
  /** printf tag → field names after the tag (must match the header's `Fields:`). */
  readonly tags: Readonly<Record<string, readonly string[]>>;
  readonly templates: readonly TemplateInput[];
  readonly parse: (line: string, ctx: ProbeContext) => LineOutcome<ProbeEvent>;
}

export const PROBES: readonly ProbeSpec[] = [
  {
    id: 'trace_skb_drop',
    file: 'trace_skb_drop.bt',
    sourceId: 'bpftrace:trace_skb_drop',
    summary: 'packets dropped for a reason that breaks TCP flows (NO_SOCKET, NETFILTER_DROP, TCP_*)',
    shape: 'trace',
    tracepoints: [{ name: 'skb:kfree_skb', fields: ['skbaddr', 'location', 'protocol', 'reason'], optionalFields: [{ name: 'rx_sk', without: 'netns of drops after TCP reused skb->dev is 0' }] }],
    minKernel: '5.17',
    minBpftrace: '0.17',
    requiresRoot: true,
    requiresBtf: true,
    tags: { 'drop.v1': SKB_DROP_FIELDS },
    templates: ['drop-reasons', 'netns', 'fields'],
    parse: parseSkbDropLine,
  },
  {
    id: 'trace_tcp_reset',
    file: 'trace_tcp_reset.bt',
    sourceId: 'bpftrace:trace_tcp_reset',
    summary: 'TCP resets sent (passive and active, with reason on >= 6.10) and received',
    shape: 'trace',
    tracepoints: [
      {
        name: 'tcp:tcp_send_reset',
        fields: ['skbaddr', 'skaddr', 'state'],
        optionalFields: [{ name: 'reason', without: 'no reset reason; NO_SOCKET resets seen only as kfree_skb drops' }],
      },
      { name: 'tcp:tcp_receive_reset', fields: ['skaddr', 'sport', 'dport', 'family', 'saddr', 'daddr', 'saddr_v6', 'daddr_v6'] },
    ],
    minKernel: '4.15',
    minBpftrace: '0.17',
    requiresRoot: true,
    requiresBtf: true,
    tags: { 'rst.v1': TCP_RESET_FIELDS },
    templates: ['rst-reasons', 'netns', 'fields'],
    parse: parseTcpResetLine,
  },
  {
    id: 'trace_tcp_retrans',
    file: 'trace_tcp_retrans.bt',
    sourceId: 'bpftrace:trace_tcp_retrans',
    summary: 'TCP retransmits per flow, summarised at most once per interval',
    shape: 'summary',
    tracepoints: [
      { name: 'tcp:tcp_retransmit_skb', fields: ['skaddr', 'state', 'sport', 'dport', 'family', 'saddr', 'daddr', 'saddr_v6', 'daddr_v6'] },
      { name: 'tcp:tcp_destroy_sock', fields: ['skaddr', 'sport', 'dport', 'family', 'saddr', 'daddr', 'saddr_v6', 'daddr_v6'] },
    ],
    minKernel: '4.16',
    minBpftrace: '0.17',
    requiresRoot: true,
    requiresBtf: true,
    tags: { 'retrans.v1': TCP_RETRANS_FIELDS },
    templates: ['interval', 'netns'],
    parse: parseTcpRetransLine,
  },
  {
    id: 'trace_tcp_state',
    file: 'trace_tcp_state.bt',
    sourceId: 'bpftrace:trace_tcp_state',
    summary: 'TCP state changes and keepalive setsockopt calls, with per-socket keepalive',
    shape: 'trace',
    tracepoints: [
      { name: 'sock:inet_sock_set_state', fields: ['skaddr', 'oldstate', 'newstate', 'sport', 'dport', 'family', 'protocol', 'saddr', 'daddr', 'saddr_v6', 'daddr_v6'] },
      { name: 'syscalls:sys_enter_setsockopt', fields: ['fd', 'level', 'optname'] },
      { name: 'syscalls:sys_exit_setsockopt', fields: ['ret'] },
    ],
    minKernel: '4.16',
    minBpftrace: '0.17',
    requiresRoot: true,
    requiresBtf: true,
    tags: { 'state.v1': TCP_STATE_FIELDS, 'ka.v1': TCP_KEEPALIVE_FIELDS },
    templates: ['hz', 'netns'],
    parse: parseTcpStateLine,
  },
  {
    id: 'top_flow_activity',
    file: 'top_flow_activity.bt',
    sourceId: 'bpftrace:top_flow_activity',
    summary: 'last activity of each established TCP flow, at most one line per flow per interval',
    shape: 'summary',
    tracepoints: [
      { name: 'tcp:tcp_probe', fields: ['skaddr'] },
      { name: 'tcp:tcp_destroy_sock', fields: ['skaddr', 'sport', 'dport', 'family', 'saddr', 'daddr', 'saddr_v6', 'daddr_v6'] },
    ],
    minKernel: '4.16',
    minBpftrace: '0.17',
    requiresRoot: true,
    requiresBtf: true,
    tags: { 'act.v1': FLOW_ACTIVITY_FIELDS },
    templates: ['interval', 'netns'],
    parse: parseFlowActivityLine,
  },
];

/** The catalog entry of a probe id (`trace_skb_drop`), or undefined. */
export function probeById(id: string): ProbeSpec | undefined {
  return PROBES.find((p) => p.id === id);
}

/** The catalog entry for a RawRecord source id (`bpftrace:trace_skb_drop[@scope]`), or undefined. */
export function probeBySourceId(src: string): ProbeSpec | undefined {
  const at = src.indexOf('@');
  const kind = at < 0 ? src : src.slice(0, at);
  return PROBES.find((p) => p.sourceId === kind);
}

/** Every tracepoint kdiag's probes use, deduplicated, with the fields each needs. */
export function allTracepoints(): ProbeTracepoint[] {
  const by = new Map<string, { fields: Set<string>; optional: Map<string, string> }>();
  for (const p of PROBES) {
    for (const tp of p.tracepoints) {
      const e = by.get(tp.name) ?? { fields: new Set<string>(), optional: new Map<string, string>() };
      for (const f of tp.fields) e.fields.add(f);
      for (const o of tp.optionalFields ?? []) e.optional.set(o.name, o.without);
      by.set(tp.name, e);
    }
  }
  return [...by].map(([name, e]) => ({
    name,
    fields: [...e.fields],
    optionalFields: [...e.optional].map(([n, without]) => ({ name: n, without })),
  }));
}

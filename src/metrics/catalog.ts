// The metrics kdiag exports (`kdiag trace --metrics`): one entry per family, the single list the
// registry, docs/metrics.md and its test read. Pure: no prom-client, no IO.

export type MetricType = 'gauge' | 'counter' | 'histogram';

export interface MetricDef {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly labelNames: readonly string[];
}

/** Distinct Services kept as label values; the rest are summed under `other`. */
export const SERVICE_CAP = 50;
/** Distinct network namespaces kept as label values; the rest go under `other`. */
export const NETNS_CAP = 50;
/** Distinct sources kept as label values (one per tool and namespace); the rest under `other`. */
export const SOURCE_CAP = 100;
/** The label value for everything past a cap. */
export const OTHER = 'other';

/** Buckets of kdiag_flow_time_to_break_seconds: from "already past" to a day. */
export const TIME_TO_BREAK_BUCKETS = [0, 10, 30, 60, 300, 900, 1800, 3600, 7200, 21600, 86400];

export const METRICS = {
  conntrackTimeout: {
    name: 'kdiag_conntrack_timeout_seconds',
    type: 'gauge',
    help: 'Conntrack idle timeout in force per network namespace and state (nf_conntrack_*_timeout_* sysctls as last read).',
    labelNames: ['netns', 'state'],
  },
  ipvsTimeout: {
    name: 'kdiag_ipvs_timeout_seconds',
    type: 'gauge',
    help: 'IPVS connection timeouts in force (ipvsadm -L --timeout): tcp, tcpfin, udp.',
    labelNames: ['protocol'],
  },
  keepaliveSeconds: {
    name: 'kdiag_tcp_keepalive_seconds',
    type: 'gauge',
    help: 'TCP keepalive defaults per network namespace: time (idle before the first probe) and interval (between probes).',
    labelNames: ['netns', 'param'],
  },
  keepaliveProbes: {
    name: 'kdiag_tcp_keepalive_probes',
    type: 'gauge',
    help: 'TCP keepalive probes sent before a peer is declared dead (net.ipv4.tcp_keepalive_probes) per network namespace.',
    labelNames: ['netns'],
  },
  kubeProxyTimeout: {
    name: 'kdiag_kube_proxy_intended_timeout_seconds',
    type: 'gauge',
    help: "Timeouts kube-proxy's configuration asks for (0: kube-proxy leaves the kernel value alone).",
    labelNames: ['setting', 'mode'],
  },
  flows: {
    name: 'kdiag_flows',
    type: 'gauge',
    help: 'Flows in the latest diagnosis by state (the diagnosis lists at most --max-flows flows, at-risk first).',
    labelNames: ['state'],
  },
  flowsAtRisk: {
    name: 'kdiag_flows_at_risk',
    type: 'gauge',
    help: 'Flows a layer will forget if they stay idle, by the first layer to forget them and by Service.',
    labelNames: ['layer', 'service'],
  },
  timeToBreak: {
    name: 'kdiag_flow_time_to_break_seconds',
    type: 'histogram',
    help: 'Seconds left before a layer forgets a flow, observed once when the flow is first seen at risk (or its breaking layer changes).',
    labelNames: ['layer'],
  },
  packetEvents: {
    name: 'kdiag_packet_events_total',
    type: 'counter',
    help: 'Drops and resets the probes saw, by the finding that explains them (rule and failure mode; rule="unexplained" when none does).',
    labelNames: ['kind', 'rule', 'fm'],
  },
  findings: {
    name: 'kdiag_findings',
    type: 'gauge',
    help: 'Findings in the latest diagnosis by rule and severity.',
    labelNames: ['rule', 'fm', 'severity'],
  },
  eventsLost: {
    name: 'kdiag_source_events_lost_total',
    type: 'counter',
    help: 'Events a source reported lost (conntrack ENOBUFS, bpftrace lost events): what kdiag did not see.',
    labelNames: ['source'],
  },
  sourceRecords: {
    name: 'kdiag_source_records_total',
    type: 'counter',
    help: 'Records read from each source.',
    labelNames: ['source'],
  },
  sourceRate: {
    name: 'kdiag_source_records_per_second',
    type: 'gauge',
    help: 'Records per second from each source over the last few seconds.',
    labelNames: ['source'],
  },
  sourceUp: {
    name: 'kdiag_source_up',
    type: 'gauge',
    help: 'Whether a source is running (1) or not (0: starting, done, failed or unavailable), with its state.',
    labelNames: ['source', 'state'],
  },
  parseIssues: {
    name: 'kdiag_parse_issues_total',
    type: 'counter',
    help: 'Lines kdiag could not parse.',
    labelNames: [],
  },
  diagnosisTime: {
    name: 'kdiag_diagnosis_timestamp_seconds',
    type: 'gauge',
    help: 'Time of the latest record the diagnosis considered (0 before the first analysis).',
    labelNames: [],
  },
} as const satisfies Record<string, MetricDef>;

export type MetricKey = keyof typeof METRICS;

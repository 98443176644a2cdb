// The diagnosis → metrics mapping: what `kdiag trace` knows (the diagnosis, the node's settings as
// read, the sources' health, drops and resets by cause) as metric samples with bounded labels. Pure:
// the registry (registry.ts) only copies these samples into prom-client at scrape time.
import type { Diagnosis } from '../model/diagnosis.js';
import type { IpvsTimeouts } from '../model/ipvs.js';
import type { KubeProxySettings } from '../model/kube-proxy.js';
import { printable } from '../model/printable.js';
import type { SourceHealth } from '../model/session.js';
import { METRICS, NETNS_CAP, OTHER, SERVICE_CAP, SOURCE_CAP, type MetricKey } from './catalog.js';
import type { PacketCauseCount } from './packet-causes.js';

export interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** What the mapping reads of the node's settings (NodeSettings / FlowTable satisfy it). */
export interface SettingsView {
  sysctlScopes(): string[];
  sysctlNum(key: string, scope?: string): number | undefined;
  readonly kubeProxy: { readonly value: KubeProxySettings } | undefined;
  readonly ipvsTimeouts: { readonly value: IpvsTimeouts } | undefined;
}

export interface MetricsInput {
  readonly diagnosis: Diagnosis;
  readonly settings: SettingsView;
  readonly sources: readonly SourceHealth[];
  readonly packetCauses: readonly PacketCauseCount[];
  readonly parseIssues: number;
}

/** Conntrack timeout sysctls by the `state` label they get (nf_conntrack_proto_*.c per-state timers). */
export const CONNTRACK_TIMEOUT_SYSCTLS: readonly (readonly [string, string])[] = [
  'syn_sent',
  'syn_recv',
  'established',
  'fin_wait',
  'close_wait',
  'last_ack',
  'time_wait',
  'close',
  'max_retrans',
  'unacknowledged',
]
  .map((s): readonly [string, string] => [
    `tcp_${s}`,
    `net.netfilter.nf_conntrack_tcp_timeout_${s}`,
  ])
  .concat([
    ['udp', 'net.netfilter.nf_conntrack_udp_timeout'],
    ['udp_stream', 'net.netfilter.nf_conntrack_udp_timeout_stream'],
    ['icmp', 'net.netfilter.nf_conntrack_icmp_timeout'],
    ['generic', 'net.netfilter.nf_conntrack_generic_timeout'],
  ] as (readonly [string, string])[]);

/** The `netns` label of a settings scope: the host netns is `host`. */
export function netnsLabel(scope: string): string {
  return scope === '' ? 'host' : printable(scope);
}

/**
 * Keeps the `cap` values with the largest weight (ties by name) and maps the rest to `other`:
 * labels stay bounded whatever the node runs.
 */
export function capValues(weights: ReadonlyMap<string, number>, cap: number): Map<string, string> {
  const ranked = [...weights.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const out = new Map<string, string>();
  ranked.forEach(([v], i) => out.set(v, i < cap ? v : OTHER));
  return out;
}

function add(m: Map<string, Sample>, labels: Record<string, string>, value: number): void {
  const key = JSON.stringify(labels);
  const prev = m.get(key);
  m.set(key, { labels, value: (prev?.value ?? 0) + value });
}

function minInto(m: Map<string, Sample>, labels: Record<string, string>, value: number): void {
  // Past the netns cap, `other` carries the shortest timeout: the one that forgets flows first.
  const key = JSON.stringify(labels);
  const prev = m.get(key);
  if (prev === undefined || value < prev.value) m.set(key, { labels, value });
}

function timeoutSamples(
  s: SettingsView,
): Pick<Out, 'conntrackTimeout' | 'keepaliveSeconds' | 'keepaliveProbes'> {
  const scopes = s.sysctlScopes().sort((a, b) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1));
  const label = new Map(scopes.map((sc, i) => [sc, i < NETNS_CAP ? netnsLabel(sc) : OTHER]));
  const ct = new Map<string, Sample>();
  const ka = new Map<string, Sample>();
  const kp = new Map<string, Sample>();
  for (const sc of scopes) {
    const netns = label.get(sc)!;
    for (const [state, key] of CONNTRACK_TIMEOUT_SYSCTLS) {
      const v = s.sysctlNum(key, sc === '' ? undefined : sc);
      if (v !== undefined) minInto(ct, { netns, state }, v);
    }
    for (const [param, key] of [
      ['time', 'net.ipv4.tcp_keepalive_time'],
      ['interval', 'net.ipv4.tcp_keepalive_intvl'],
    ] as const) {
      const v = s.sysctlNum(key, sc === '' ? undefined : sc);
      if (v !== undefined) minInto(ka, { netns, param }, v);
    }
    const probes = s.sysctlNum('net.ipv4.tcp_keepalive_probes', sc === '' ? undefined : sc);
    if (probes !== undefined) minInto(kp, { netns }, probes);
  }
  return {
    conntrackTimeout: [...ct.values()],
    keepaliveSeconds: [...ka.values()],
    keepaliveProbes: [...kp.values()],
  };
}

function kubeProxySamples(kp: KubeProxySettings | undefined): Sample[] {
  if (kp === undefined) return [];
  const mode = kp.mode;
  const settings: [string, number][] = [
    ['conntrack_tcp_established', kp.conntrack.tcpEstablishedTimeout],
    ['conntrack_tcp_close_wait', kp.conntrack.tcpCloseWaitTimeout],
    ['conntrack_udp', kp.conntrack.udpTimeout],
    ['conntrack_udp_stream', kp.conntrack.udpStreamTimeout],
  ];
  // IPVS timeouts matter (and are applied by kube-proxy) only in IPVS mode.
  if (mode === 'ipvs')
    settings.push(
      ['ipvs_tcp', kp.ipvs.tcpTimeout],
      ['ipvs_tcpfin', kp.ipvs.tcpFinTimeout],
      ['ipvs_udp', kp.ipvs.udpTimeout],
    );
  return settings
    .filter(([, v]) => Number.isFinite(v))
    .map(([setting, value]) => ({ labels: { setting, mode }, value }));
}

function atRiskSamples(d: Diagnosis): Sample[] {
  // Counted by raw service first, made printable per distinct value: one pass over 10^5 flows.
  const serviceOf = new Map<string, string | undefined>();
  for (const f of d.flows) serviceOf.set(f.id, f.service);
  const byLayer = new Map<string, Map<string, number>>();
  const weights = new Map<string, number>();
  for (const p of d.predictions) {
    // A flow past the diagnosis's flow list (--max-flows) has no view: its Service is unknown.
    const raw = serviceOf.has(p.flow) ? (serviceOf.get(p.flow) ?? '') : undefined;
    const s = raw === undefined ? 'unknown' : raw === '' ? 'none' : raw;
    weights.set(s, (weights.get(s) ?? 0) + 1);
    let m = byLayer.get(p.layer);
    if (!m) byLayer.set(p.layer, (m = new Map()));
    m.set(s, (m.get(s) ?? 0) + 1);
  }
  const capped = capValues(weights, SERVICE_CAP);
  const out = new Map<string, Sample>();
  for (const [layer, m] of byLayer)
    for (const [s, n] of m) add(out, { layer, service: printable(capped.get(s)!) }, n);
  return [...out.values()];
}

type Out = Record<Exclude<MetricKey, 'timeToBreak'>, Sample[]>;

/** Every gauge and counter sample for one scrape (the histogram is fed by TimeToBreak). */
export function diagnosisMetrics(input: MetricsInput): Out {
  const d = input.diagnosis;
  const states = new Map<string, number>();
  for (const f of d.flows) states.set(f.state, (states.get(f.state) ?? 0) + 1);
  const flows = new Map<string, Sample>();
  for (const [state, n] of states) add(flows, { state: printable(state) || 'unknown' }, n);
  const findings = new Map<string, Sample>();
  for (const f of d.findings) add(findings, { rule: f.rule, fm: f.fm, severity: f.severity }, 1);
  const packets = new Map<string, Sample>();
  for (const c of input.packetCauses)
    add(packets, { kind: c.kind, rule: c.rule, fm: c.fm }, c.count);
  const srcWeights = new Map(input.sources.map((s) => [s.id, s.records]));
  const srcLabel = capValues(srcWeights, SOURCE_CAP);
  const lost = new Map<string, Sample>();
  const records = new Map<string, Sample>();
  const rate = new Map<string, Sample>();
  const up = new Map<string, Sample>();
  for (const s of input.sources) {
    const source = printable(srcLabel.get(s.id)!);
    add(lost, { source }, s.lost);
    add(records, { source }, s.records);
    add(rate, { source }, s.rate);
    if (source !== OTHER) add(up, { source, state: s.state }, s.state === 'running' ? 1 : 0);
  }
  const ipvs = input.settings.ipvsTimeouts?.value;
  return {
    ...timeoutSamples(input.settings),
    ipvsTimeout:
      ipvs === undefined
        ? []
        : [
            { labels: { protocol: 'tcp' }, value: ipvs.tcp },
            { labels: { protocol: 'tcpfin' }, value: ipvs.tcpfin },
            { labels: { protocol: 'udp' }, value: ipvs.udp },
          ],
    kubeProxyTimeout: kubeProxySamples(input.settings.kubeProxy?.value),
    flows: [...flows.values()],
    flowsAtRisk: atRiskSamples(d),
    packetEvents: [...packets.values()],
    findings: [...findings.values()],
    eventsLost: [...lost.values()],
    sourceRecords: [...records.values()],
    sourceRate: [...rate.values()],
    sourceUp: [...up.values()],
    parseIssues: [{ labels: {}, value: input.parseIssues }],
    diagnosisTime: [{ labels: {}, value: d.at / 1000 }],
  };
}

/** The metric names this mapping fills, for docs and tests. */
export function metricNames(): string[] {
  return Object.values(METRICS).map((m) => m.name);
}

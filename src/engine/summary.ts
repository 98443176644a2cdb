// What a capture contains, independent of diagnosis: tables, flows, timeouts per layer, sources.
import type { Observation } from '../model/observation.js';
import { dataPlaneMissing, dataPlaneRows } from './data-plane-summary.js';
import { CILIUM_CT_UNIT_NO_D, ciliumReadCount } from '../model/cilium.js';

/** The timeouts in force per layer and scope, as the capture shows them (seconds). */
export interface LayerTimeouts {
  conntrack: Record<string, Record<string, number>>;
  keepalive: Record<string, { time?: number; intvl?: number; probes?: number }>;
  ipvs?: { tcp: number; tcpfin: number; udp: number };
  kubeProxy?: {
    mode: string;
    tcpEstablishedTimeout: number;
    tcpCloseWaitTimeout: number;
    ipvsTcpTimeout: number;
    ipvsTcpFinTimeout: number;
    ignoredFlags: readonly string[];
  };
}

export interface CaptureSummary {
  conntrack: {
    snapshots: number;
    entries: number;
    byState: Record<string, number>;
    byProto: Record<string, number>;
    nat: number;
    unreplied: number;
  };
  conntrackEvents: {
    NEW: number;
    UPDATE: number;
    DESTROY: number;
    userspace: number;
    expired: number;
  };
  conntrackStats?: Record<string, number>;
  ipvs: { services: number; realServers: number; conns: number };
  sockets: { snapshots: number; sockets: number; keepaliveTimers: number; scopes: string[] };
  iptables?: {
    rules: number;
    invalidDropRules: number;
    services: number;
    kubeProxyChains: boolean;
    /** Set (true) when the ruleset holds kube-proxy's nftables table. */
    kubeProxyNftables?: boolean;
  };
  probes: Record<string, number>;
  timeouts: LayerTimeouts;
  scopes: string[];
  first?: number;
  last?: number;
}

const CT_KEYS: Record<string, string> = {
  'net.netfilter.nf_conntrack_tcp_timeout_established': 'established',
  'net.netfilter.nf_conntrack_tcp_timeout_close_wait': 'close_wait',
  'net.netfilter.nf_conntrack_tcp_timeout_fin_wait': 'fin_wait',
  'net.netfilter.nf_conntrack_tcp_timeout_time_wait': 'time_wait',
  'net.netfilter.nf_conntrack_tcp_timeout_unacknowledged': 'unacknowledged',
  'net.netfilter.nf_conntrack_tcp_timeout_max_retrans': 'max_retrans',
  'net.netfilter.nf_conntrack_udp_timeout': 'udp',
  'net.netfilter.nf_conntrack_udp_timeout_stream': 'udp_stream',
  'net.netfilter.nf_conntrack_max': 'max',
  'net.netfilter.nf_conntrack_count': 'count',
  'net.netfilter.nf_conntrack_tcp_loose': 'loose',
  'net.netfilter.nf_conntrack_tcp_be_liberal': 'be_liberal',
};

function bump(rec: Record<string, number>, key: string, by = 1): void {
  rec[key] = (rec[key] ?? 0) + by;
}

/** Collects a CaptureSummary from the observation stream. */
export class SummaryCollector {
  readonly summary: CaptureSummary = {
    conntrack: { snapshots: 0, entries: 0, byState: {}, byProto: {}, nat: 0, unreplied: 0 },
    conntrackEvents: { NEW: 0, UPDATE: 0, DESTROY: 0, userspace: 0, expired: 0 },
    ipvs: { services: 0, realServers: 0, conns: 0 },
    sockets: { snapshots: 0, sockets: 0, keepaliveTimers: 0, scopes: [] },
    probes: {},
    timeouts: { conntrack: {}, keepalive: {} },
    scopes: [],
  };
  private readonly scopes = new Set<string>();
  private readonly socketScopes = new Set<string>();
  private inConntrackSnapshot = false;
  private lastScope: string | undefined;

  observe(o: Observation): void {
    const s = this.summary;
    if (s.first === undefined || o.t < s.first) s.first = o.t;
    if (s.last === undefined || o.t > s.last) s.last = o.t;
    const scope = o.scope ?? 'host';
    // observations come in runs of one scope: the set is asked only when it changes
    if (scope !== this.lastScope) {
      this.scopes.add(scope);
      this.lastScope = scope;
    }
    switch (o.kind) {
      case 'snapshot-begin':
        if (o.what === 'conntrack') {
          // The latest snapshot's counts describe the table; earlier ones are history.
          s.conntrack = {
            snapshots: s.conntrack.snapshots + 1,
            entries: 0,
            byState: {},
            byProto: {},
            nat: 0,
            unreplied: 0,
          };
          this.inConntrackSnapshot = true;
        } else if (o.what === 'sockets') {
          s.sockets.snapshots++;
          this.socketScopes.add(scope);
        } else if (o.what === 'ipvs-conns') s.ipvs.conns = 0;
        break;
      case 'snapshot-end':
        if (o.what === 'conntrack') this.inConntrackSnapshot = false;
        break;
      case 'conntrack-entry': {
        const e = o.entry;
        s.conntrack.entries++;
        bump(s.conntrack.byProto, e.proto);
        if (e.state) bump(s.conntrack.byState, e.state);
        if (e.unreplied) s.conntrack.unreplied++;
        if (e.reply.src !== e.orig.dst || e.reply.sport !== e.orig.dport) s.conntrack.nat++;
        if (!this.inConntrackSnapshot) s.conntrack.snapshots = Math.max(1, s.conntrack.snapshots);
        break;
      }
      case 'conntrack-event':
        s.conntrackEvents[o.event.type]++;
        if (o.event.userspace) s.conntrackEvents.userspace++;
        if (o.event.type === 'DESTROY' && o.event.entry.timeout === null && !o.event.userspace)
          s.conntrackEvents.expired++;
        break;
      case 'conntrack-stats': {
        const totals: Record<string, number> = {};
        for (const c of o.cpus) for (const [k, v] of Object.entries(c.counters)) bump(totals, k, v);
        s.conntrackStats = totals;
        break;
      }
      case 'ipvs-services':
        s.ipvs.services = o.services.length;
        s.ipvs.realServers = o.services.reduce((n, sv) => n + sv.realServers.length, 0);
        break;
      case 'ipvs-conn':
        s.ipvs.conns++;
        break;
      case 'ipvs-timeouts':
        s.timeouts.ipvs = { ...o.timeouts };
        break;
      case 'socket':
        s.sockets.sockets++;
        if (o.socket.timer?.name === 'keepalive') s.sockets.keepaliveTimers++;
        break;
      case 'sysctls': {
        const ct = (s.timeouts.conntrack[scope] ??= {});
        for (const [k, name] of Object.entries(CT_KEYS)) {
          const v = Number(o.values[k]);
          if (o.values[k] !== undefined && Number.isFinite(v)) ct[name] = v;
        }
        if (Object.keys(ct).length === 0) delete s.timeouts.conntrack[scope];
        const ka = { ...(s.timeouts.keepalive[scope] ?? {}) };
        const time = Number(o.values['net.ipv4.tcp_keepalive_time']);
        const intvl = Number(o.values['net.ipv4.tcp_keepalive_intvl']);
        const probes = Number(o.values['net.ipv4.tcp_keepalive_probes']);
        if (o.values['net.ipv4.tcp_keepalive_time'] !== undefined && Number.isFinite(time))
          ka.time = time;
        if (o.values['net.ipv4.tcp_keepalive_intvl'] !== undefined && Number.isFinite(intvl))
          ka.intvl = intvl;
        if (o.values['net.ipv4.tcp_keepalive_probes'] !== undefined && Number.isFinite(probes))
          ka.probes = probes;
        if (Object.keys(ka).length > 0) s.timeouts.keepalive[scope] = ka;
        break;
      }
      case 'iptables':
        s.iptables = {
          rules: o.ruleset.rules.length,
          invalidDropRules: o.ruleset.invalidDropRules.length,
          services: o.ruleset.services.length,
          kubeProxyChains: o.ruleset.kubeProxyChains,
          ...(o.ruleset.kubeProxyNftables === true ? { kubeProxyNftables: true } : {}),
        };
        break;
      case 'kube-proxy': {
        const k = o.settings;
        s.timeouts.kubeProxy = {
          mode: k.mode,
          tcpEstablishedTimeout: k.conntrack.tcpEstablishedTimeout,
          tcpCloseWaitTimeout: k.conntrack.tcpCloseWaitTimeout,
          ipvsTcpTimeout: k.ipvs.tcpTimeout,
          ipvsTcpFinTimeout: k.ipvs.tcpFinTimeout,
          ignoredFlags: k.ignoredFlags,
        };
        break;
      }
      case 'probe':
        bump(s.probes, o.event.kind);
        break;
      default:
        break;
    }
  }

  /** The summary with its scope lists filled in. */
  result(): CaptureSummary {
    this.summary.scopes = [...this.scopes].sort();
    this.summary.sockets.scopes = [...this.socketScopes].sort();
    return this.summary;
  }
}

/** What one source gave, counted by kind of row (`sockets 3`, `keys 56`). */
export type ReadCounts = Record<string, Record<string, number>>;

const UNIT: Partial<Record<Observation['kind'], string>> = {
  'conntrack-entry': 'entries',
  'conntrack-event': 'events',
  'conntrack-stats': 'CPUs',
  'ipvs-conn': 'connections',
  'ipvs-services': 'services',
  'ipvs-timeouts': 'timeouts',
  'ipvs-stats': 'rows',
  socket: 'sockets',
  sysctls: 'keys',
  iptables: 'rules',
  'kube-proxy': 'configurations',
  probe: 'events',
};

/** Counts, per source, the rows each made (what a person reads as "ss.txt: 3 sockets"). */
export class ReadCounter {
  readonly counts: ReadCounts = {};
  /** Sources whose snapshot was opened and closed: read, even when empty. */
  readonly framed = new Set<string>();

  observe(o: Observation): void {
    if (o.kind === 'snapshot-end') {
      this.framed.add(o.src);
      return;
    }
    if (o.kind === 'meta') {
      const r = dataPlaneRows(o.key, o.value);
      if (r) bump((this.counts[o.src] ??= {}), r.unit, r.n);
      const c = ciliumReadCount(o.key, o.value);
      if (c) {
        this.framed.add(o.src);
        if (c.n > 0) bump((this.counts[o.src] ??= {}), c.unit, c.n);
      }
      if (o.key === 'proxy-mode') bump((this.counts[o.src] ??= {}), 'mode', 1);
      else if (o.key === 'kube-proxy-metrics') {
        const samples = (o.value as { samples?: unknown }).samples;
        if (typeof samples === 'number') bump((this.counts[o.src] ??= {}), 'samples', samples);
      }
      return;
    }
    const unit = UNIT[o.kind];
    if (unit === undefined) return;
    const by =
      o.kind === 'conntrack-stats'
        ? o.cpus.length
        : o.kind === 'ipvs-services'
          ? o.services.length
          : o.kind === 'sysctls'
            ? Object.keys(o.values).length
            : o.kind === 'iptables'
              ? o.ruleset.rules.length
              : 1;
    bump((this.counts[o.src] ??= {}), unit, by);
  }
}

/** An input the capture lacks and what its absence hides from the analysis. */
export interface MissingInput {
  readonly input: string;
  readonly hides: string;
}

/**
 * The inputs a diagnosis needs that the capture did not have. A finding can only come from what was
 * read, so "no findings" with any of these missing is not "healthy".
 */
export function missingInputs(
  s: CaptureSummary,
  read: { readonly counts: ReadCounts; readonly framed: ReadonlySet<string> },
): MissingInput[] {
  const kinds = new Set<string>();
  for (const src of [...Object.keys(read.counts), ...read.framed]) kinds.add(src.split('@')[0]!);
  const has = (...ids: string[]): boolean => ids.some((id) => kinds.has(id));
  const out: MissingInput[] = [];
  if (s.sockets.snapshots === 0 && s.sockets.sockets === 0)
    out.push({
      input: 'sockets (ss)',
      hides: 'keepalive unknown: whether and when each connection sends keepalives',
    });
  if (s.conntrack.snapshots === 0 && s.conntrack.entries === 0)
    out.push({
      input: 'conntrack table (conntrack -L or /proc/net/nf_conntrack)',
      hides: 'no per-flow timers: how long each flow has left',
    });
  if (!has('sysctl:all'))
    out.push({ input: 'sysctls (sysctl -a)', hides: 'timeouts are kernel defaults (not read)' });
  const ipvsMode =
    s.timeouts.kubeProxy?.mode === 'ipvs' ||
    s.ipvs.services > 0 ||
    s.ipvs.conns > 0 ||
    s.timeouts.ipvs !== undefined;
  if (ipvsMode) {
    const lack = [
      ...(s.timeouts.ipvs === undefined ? ['ipvsadm -Ln --timeout'] : []),
      ...(!has('ipvsadm:conns', 'procfs:ip_vs_conn') ? ['ipvsadm -Lnc'] : []),
      ...(!has('ipvsadm:services') ? ['ipvsadm -Ln'] : []),
    ];
    if (lack.length > 0)
      out.push({
        input: `${lack.join(', ')} (IPVS mode)`,
        hides: 'IPVS idle timeouts and per-connection expiry unknown',
      });
  }
  if (s.timeouts.kubeProxy === undefined)
    out.push({
      input: 'kube-proxy config',
      hides: 'intended values unknown: no drift check against what kube-proxy sets',
    });
  out.push(...ciliumMissing(has, read.counts));
  const events = s.conntrackEvents.NEW + s.conntrackEvents.UPDATE + s.conntrackEvents.DESTROY;
  if (events === 0 && Object.keys(s.probes).length === 0 && !has('conntrack:events'))
    out.push({
      input: 'conntrack events or probes (kdiag trace)',
      hides: 'no attribution of drops or resets to a layer',
    });
  out.push(...dataPlaneMissing(has));
  return out;
}

/** Cilium inputs that are missing once one of them was given (a Cilium node). */
function ciliumMissing(has: (...ids: string[]) => boolean, counts: ReadCounts): MissingInput[] {
  const ct = has('cilium:ct');
  const cfg = has('cilium:config');
  if (!ct && !cfg) return [];
  const out: MissingInput[] = [];
  if (!cfg)
    out.push({
      input: 'cilium-config (kubectl -n kube-system get cm cilium-config -o yaml)',
      hides: "Cilium CT timeouts taken as the agent's defaults (8000 s established TCP)",
    });
  if (!ct)
    out.push({
      input: 'Cilium CT list (cilium-dbg bpf ct list global -d)',
      hides: 'no per-flow Cilium CT timers: how long each flow has left',
    });
  else if (
    Object.entries(counts).some(
      ([src, c]) => src.startsWith('cilium:ct') && (c[CILIUM_CT_UNIT_NO_D] ?? 0) > 0,
    )
  )
    out.push({
      input: 'Cilium CT list with -d (remaining seconds)',
      hides: 'entry expiry in datapath clock units only: time left per flow unknown',
    });
  return out;
}

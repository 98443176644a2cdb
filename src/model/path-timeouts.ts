// Per flow and per layer: the idle timeout in force, where it came from, and the time left
// (domain.md §1.1, §2.3, §2.7, §2.8). Time is the analysis' `now`, never the wall clock.
import type { Evidence, Layer, LayerTimeout } from './diagnosis.js';
import { endpointKey } from './endpoint.js';
import type { Endpoint } from './endpoint.js';
import { isProbeItem, type Flow, type FlowTable, type SocketSide, type TimelineItem } from './flow-table.js';
import { probeEventText, probeWhere } from './probe-text.js';
import type { ProxyMode } from './kube-proxy.js';
import { CLOUD_PRESETS, isLoopback, isPrivateAddr } from './cloud-presets.js';
import type { CloudPreset } from './cloud-presets.js';

/** Kernel defaults of `tcp_timeouts[]` (nf_conntrack_proto_tcp.c) and their sysctl names. */
export const CT_TCP_TIMEOUTS: Readonly<Record<string, { readonly sysctl: string; readonly kernel: number }>> = {
  SYN_SENT: { sysctl: 'net.netfilter.nf_conntrack_tcp_timeout_syn_sent', kernel: 120 },
  SYN_SENT2: { sysctl: 'net.netfilter.nf_conntrack_tcp_timeout_syn_sent', kernel: 120 },
  SYN_RECV: { sysctl: 'net.netfilter.nf_conntrack_tcp_timeout_syn_recv', kernel: 60 },
  ESTABLISHED: { sysctl: 'net.netfilter.nf_conntrack_tcp_timeout_established', kernel: 432000 },
  FIN_WAIT: { sysctl: 'net.netfilter.nf_conntrack_tcp_timeout_fin_wait', kernel: 120 },
  CLOSE_WAIT: { sysctl: 'net.netfilter.nf_conntrack_tcp_timeout_close_wait', kernel: 60 },
  LAST_ACK: { sysctl: 'net.netfilter.nf_conntrack_tcp_timeout_last_ack', kernel: 30 },
  TIME_WAIT: { sysctl: 'net.netfilter.nf_conntrack_tcp_timeout_time_wait', kernel: 120 },
  CLOSE: { sysctl: 'net.netfilter.nf_conntrack_tcp_timeout_close', kernel: 10 },
};
export const CT_UNACK = { sysctl: 'net.netfilter.nf_conntrack_tcp_timeout_unacknowledged', kernel: 300 };
export const CT_MAX_RETRANS_TIMEOUT = { sysctl: 'net.netfilter.nf_conntrack_tcp_timeout_max_retrans', kernel: 300 };
export const CT_MAX_RETRANS = { sysctl: 'net.netfilter.nf_conntrack_tcp_max_retrans', kernel: 3 };
export const CT_UDP = { sysctl: 'net.netfilter.nf_conntrack_udp_timeout', kernel: 30 };
export const CT_UDP_STREAM = { sysctl: 'net.netfilter.nf_conntrack_udp_timeout_stream', kernel: 120 };
export const KA_TIME = { sysctl: 'net.ipv4.tcp_keepalive_time', kernel: 7200 };
export const KA_INTVL = { sysctl: 'net.ipv4.tcp_keepalive_intvl', kernel: 75 };
export const KA_PROBES = { sysctl: 'net.ipv4.tcp_keepalive_probes', kernel: 9 };
/** IPVS `tcp_timeouts[]` (ip_vs_proto_tcp.c): only ESTABLISHED, FIN_WAIT and UDP are settable. */
export const IPVS_KERNEL = { tcp: 900, tcpfin: 120, udp: 300 } as const;
const IPVS_FIXED: Readonly<Record<string, number>> = {
  NONE: 2, SYN_SENT: 120, SYN_RECV: 60, TIME_WAIT: 120, CLOSE: 10, CLOSE_WAIT: 60, LAST_ACK: 30, LISTEN: 120, SYNACK: 120,
};

export interface AnalyzeClock {
  /** ms since the epoch. */
  readonly now: number;
}

/** A value in force with where it came from. */
export interface Sourced {
  readonly value: number;
  readonly source: string;
  readonly evidence?: Evidence;
}

/** The external idle timer the user declared or picked from a preset. */
export interface PathLayerSpec {
  readonly layer: 'path' | 'cloud';
  readonly timeoutSec: number;
  readonly source: string;
  readonly reach: 'all' | 'external';
  readonly preset?: CloudPreset;
}

export interface PathContextOptions {
  readonly now?: number;
  readonly pathIdleTimeoutSec?: number;
  readonly cloud?: CloudPreset;
}

/** Node-wide facts computed once per analysis. */
export interface PathContext {
  readonly table: FlowTable;
  readonly now: number;
  readonly mode: ProxyMode | undefined;
  readonly modeSource: string;
  readonly ipvsVips: ReadonlySet<string>;
  readonly pathLayers: readonly PathLayerSpec[];
  readonly kubeProxyVersion: string | undefined;
  /** Memo of sysctlInForce per sysctl, then per scope (`scope ?? ''`): no key string built per lookup. */
  readonly memo: Map<string, Map<string, Sourced>>;
  /** Memo of the IPVS timeouts in force (computed once per analysis). */
  ipvsMemo?: IpvsTimeoutsInForce;
  /** Memo of the VIP test per protocol, then target (address id × 65536 + port). */
  readonly vipMemo: Map<string, Map<number, boolean>>;
}

export interface IpvsTimeoutsInForce {
  readonly tcp: Sourced;
  readonly tcpfin: Sourced;
  readonly udp: Sourced;
}

export type KeepaliveState = 'on' | 'off' | 'unknown';

export interface SocketKeepaliveView {
  readonly side: 'client' | 'server';
  readonly scope: string | undefined;
  readonly state: KeepaliveState;
  readonly idleSec: number | null;
  readonly intervalSec: number;
  readonly probes: number;
  readonly source: string;
  readonly evidence: readonly Evidence[];
  /** The netns tcp_keepalive_time, when a sysctl observation gave it (it applies only with SO_KEEPALIVE). */
  readonly netnsIdleSec?: number;
  readonly netnsEvidence?: Evidence;
}

export interface KeepaliveView {
  readonly state: KeepaliveState;
  /** Smallest idle of the sockets that have keepalive on. */
  readonly idleSec: number | null;
  readonly intervalSec: number;
  readonly probes: number;
  readonly source: string;
  readonly sockets: readonly SocketKeepaliveView[];
}

export interface LayerView extends LayerTimeout {
  readonly evidence: readonly Evidence[];
  /** Why the timeout is shorter than the state's normal one (§2.3 clamps). */
  readonly clamp?: 'unacknowledged' | 'zero-window' | 'retransmits' | 'mid-stream-pickup' | 'suspicious';
  readonly note?: string;
}

export interface PathTimeouts {
  readonly flow: Flow;
  readonly id: string;
  readonly live: boolean;
  /** The path as it was when the flow's conntrack entry expired (post-mortem), not a live one. */
  readonly expired?: boolean;
  /** State word used for reasoning: conntrack state, else ss/IPVS state mapped to conntrack names. */
  readonly state: string;
  readonly idleSec: number | null;
  readonly idleSource: string;
  readonly lastActivity: number | null;
  readonly keepalive: KeepaliveView;
  readonly layers: readonly LayerView[];
  /** The layer with the smallest timeout (the one that forgets the flow first if it stays idle). */
  readonly first: LayerView | undefined;
  /** Keepalive is on and fires before every layer forgets the flow. */
  readonly safe: boolean;
}

/** Evidence record helper. */
export function evidence(t: number, src: string, text: string, note?: string): Evidence {
  return note === undefined ? { t, src, text } : { t, src, text, note };
}

/**
 * Evidence from a timeline item: its line, except a probe event, which is quoted in words (the probe's
 * line is bpftrace JSON with tab-separated fields; `t` and `src` still find it in the recording).
 */
export function itemEvidence(i: TimelineItem, note?: string): Evidence {
  const p = isProbeItem(i) ? i.probe : undefined;
  return evidence(i.t, i.src, p !== undefined ? probeEventText(p, probeWhere(p, i.scope)) : i.text, note);
}

/** Builds the node-wide context: proxy mode, IPVS VIPs, the external path timers. */
export function buildPathContext(table: FlowTable, opts: PathContextOptions): PathContext {
  const now = opts.now ?? table.latestT;
  let mode: ProxyMode | undefined;
  let modeSource = 'unknown';
  const kp = table.kubeProxy;
  const metaMode = table.meta('proxy-mode');
  if (typeof metaMode?.value === 'string' && ['iptables', 'ipvs', 'nftables', 'kernelspace'].includes(metaMode.value)) {
    mode = metaMode.value as ProxyMode;
    modeSource = `${metaMode.src} (/proxyMode)`;
  } else if (kp) {
    mode = kp.value.mode;
    modeSource = `kube-proxy ${kp.value.origin}`;
  } else if ((table.ipvsServices?.value.length ?? 0) > 0) {
    mode = 'ipvs';
    modeSource = 'ipvsadm -Ln shows services';
  } else if (table.iptables()?.value.kubeProxyChains) {
    mode = 'iptables';
    modeSource = 'iptables-save shows KUBE-* chains';
  }
  const ipvsVips = new Set<string>();
  for (const s of table.ipvsServices?.value ?? []) ipvsVips.add(`${s.proto.toLowerCase()} ${endpointKey({ addr: s.addr, port: s.port })}`);
  const pathLayers: PathLayerSpec[] = [];
  const metaPath = table.meta('path-idle-timeout');
  const userPath = opts.pathIdleTimeoutSec ?? parseSeconds(metaPath?.value);
  if (userPath !== undefined && userPath > 0) {
    pathLayers.push({
      layer: 'path',
      timeoutSec: userPath,
      source: opts.pathIdleTimeoutSec !== undefined ? '--path-idle-timeout' : `${metaPath?.src ?? 'meta'} path-idle-timeout`,
      reach: 'all',
    });
  }
  const cloud = opts.cloud ?? (typeof table.meta('cloud')?.value === 'string' ? (table.meta('cloud')?.value as CloudPreset) : undefined);
  if (cloud !== undefined && cloud in CLOUD_PRESETS) {
    const p = CLOUD_PRESETS[cloud];
    pathLayers.push({ layer: 'cloud', timeoutSec: p.timeoutSec, source: `--cloud ${cloud} (${p.label})`, reach: p.reach, preset: cloud });
  }
  const v = table.meta('kube-proxy-version')?.value;
  return { table, now, mode, modeSource, ipvsVips, pathLayers, kubeProxyVersion: typeof v === 'string' ? v : undefined, memo: new Map(), vipMemo: new Map() };
}

/** Seconds from a number or a `350s`/`6m`/`1h` string. */
export function parseSeconds(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?\s*$/.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const mult = unit === 'ms' ? 0.001 : unit === 's' ? 1 : unit === 'h' ? 3600 : 60;
  return n * mult;
}

/** A conntrack/keepalive sysctl in force in a scope, with the kernel default when kdiag never read it. */
export function sysctlInForce(ctx: PathContext, spec: { sysctl: string; kernel: number }, scope: string | undefined): Sourced {
  let byScope = ctx.memo.get(spec.sysctl);
  if (byScope === undefined) {
    byScope = new Map();
    ctx.memo.set(spec.sysctl, byScope);
  }
  const sk = scope ?? '';
  const hit = byScope.get(sk);
  if (hit) return hit;
  const v = sysctlLookup(ctx, spec, scope);
  byScope.set(sk, v);
  return v;
}

/** Evidence whose text is built only when read (a million flows need no summary strings). */
export function lazyEvidence(t: number, src: string, make: () => string): Evidence {
  let text: string | undefined;
  return {
    t,
    src,
    get text(): string {
      return (text ??= make());
    },
  };
}

function sysctlLookup(ctx: PathContext, spec: { sysctl: string; kernel: number }, scope: string | undefined): Sourced {
  const t = ctx.table;
  const v = t.sysctl(spec.sysctl, scope);
  const n = v ? Number(v.value) : NaN;
  if (v && Number.isFinite(n)) {
    return { value: n, source: `sysctl ${spec.sysctl}${scope ? ` (netns ${scope})` : ''}`, evidence: evidence(v.t, v.src, `${spec.sysctl} = ${v.value}`) };
  }
  if (scope === undefined) {
    const kp = kubeProxyWrites(ctx, spec.sysctl);
    if (kp !== undefined) return kp;
  }
  return { value: spec.kernel, source: `kernel default of ${spec.sysctl} (not read)` };
}

/** What kube-proxy would have left in a host sysctl it manages, when the sysctl itself was not read. */
function kubeProxyWrites(ctx: PathContext, key: string): Sourced | undefined {
  const kp = ctx.table.kubeProxy;
  if (!kp) return undefined;
  const c = kp.value.conntrack;
  const intended =
    key === 'net.netfilter.nf_conntrack_tcp_timeout_established' ? c.tcpEstablishedTimeout
    : key === 'net.netfilter.nf_conntrack_tcp_timeout_close_wait' ? c.tcpCloseWaitTimeout
    : key === 'net.netfilter.nf_conntrack_udp_timeout' ? c.udpTimeout
    : key === 'net.netfilter.nf_conntrack_udp_timeout_stream' ? c.udpStreamTimeout
    : 0;
  if (!(intended > 0)) return undefined;
  const kernel = key === CT_UDP.sysctl ? CT_UDP.kernel : key === CT_UDP_STREAM.sysctl ? CT_UDP_STREAM.kernel
    : Object.values(CT_TCP_TIMEOUTS).find((s) => s.sysctl === key)?.kernel ?? intended;
  // kube-proxy 1.22–1.28 only raise a value (set only if current < desired).
  const raiseOnly = isRaiseOnlyKubeProxy(ctx.kubeProxyVersion);
  const value = raiseOnly && intended < kernel ? kernel : intended;
  return {
    value,
    source: raiseOnly && intended < kernel
      ? `kernel default of ${key}: kube-proxy ${ctx.kubeProxyVersion} only raises it`
      : `kube-proxy ${kp.value.origin} (sysctl not read)`,
    evidence: evidence(kp.t, kp.src, `kube-proxy intends ${key} = ${intended}`),
  };
}

/** kube-proxy 1.22–1.28 write a conntrack sysctl only when the current value is lower (PR #103174). */
export function isRaiseOnlyKubeProxy(version: string | undefined): boolean {
  if (!version) return false;
  const m = /^v?1\.(\d+)/.exec(version);
  if (!m) return false;
  const minor = Number(m[1]);
  return minor >= 22 && minor <= 28;
}

/** Proxy mode facts for IPVS: true when IPVS handles this flow. */
function ipvsApplies(ctx: PathContext, f: Flow): boolean {
  if (ctx.mode !== undefined && ctx.mode !== 'ipvs') return false;
  if (f.ipvs && f.ipvs.goneT < 0) return true;
  if (ctx.ipvsVips.size === 0) return false;
  // Address ids are stable within a table: one key string per distinct target, not per flow.
  const proto = f.proto;
  let m = ctx.vipMemo.get(proto);
  if (m === undefined) {
    m = new Map();
    ctx.vipMemo.set(proto, m);
  }
  const k = f.tg * 65536 + f.tp;
  let hit = m.get(k);
  if (hit === undefined) {
    hit = ctx.ipvsVips.has(`${proto} ${endpointKey(ctx.table.target(f))}`);
    m.set(k, hit);
  }
  return hit;
}

/** The IPVS timeout (tcp, tcpfin, udp) in force, from `ipvsadm -Ln --timeout` or the kernel default. */
export function ipvsTimeoutsInForce(ctx: PathContext): IpvsTimeoutsInForce {
  return (ctx.ipvsMemo ??= ipvsTimeoutsLookup(ctx));
}

function ipvsTimeoutsLookup(ctx: PathContext): IpvsTimeoutsInForce {
  const it = ctx.table.ipvsTimeouts;
  if (it) {
    const e = evidence(it.t, it.src, it.raw ?? `Timeout (tcp tcpfin udp): ${it.value.tcp} ${it.value.tcpfin} ${it.value.udp}`);
    const src = 'ipvsadm -Ln --timeout';
    return { tcp: { value: it.value.tcp, source: src, evidence: e }, tcpfin: { value: it.value.tcpfin, source: src, evidence: e }, udp: { value: it.value.udp, source: src, evidence: e } };
  }
  const kp = ctx.table.kubeProxy;
  const pick = (k: 'tcpTimeout' | 'tcpFinTimeout' | 'udpTimeout', kernel: number): Sourced => {
    const v = kp?.value.ipvs[k] ?? 0;
    if (kp && v > 0) return { value: v, source: `kube-proxy ipvs.${k} (ipvsadm not read)`, evidence: evidence(kp.t, kp.src, `kube-proxy ipvs.${k} = ${v}s`) };
    return { value: kernel, source: 'IPVS kernel default (ipvsadm --timeout not read)' };
  };
  return { tcp: pick('tcpTimeout', IPVS_KERNEL.tcp), tcpfin: pick('tcpFinTimeout', IPVS_KERNEL.tcpfin), udp: pick('udpTimeout', IPVS_KERNEL.udp) };
}

const SS_TO_CT: Readonly<Record<string, string>> = {
  ESTAB: 'ESTABLISHED', 'CLOSE-WAIT': 'CLOSE_WAIT', 'FIN-WAIT-1': 'FIN_WAIT', 'FIN-WAIT-2': 'FIN_WAIT',
  'LAST-ACK': 'LAST_ACK', 'TIME-WAIT': 'TIME_WAIT', 'SYN-SENT': 'SYN_SENT', 'SYN-RECV': 'SYN_RECV', CLOSING: 'CLOSE',
};

function liveSide(s: SocketSide | undefined): SocketSide | undefined {
  return s && s.goneT < 0 && s.fromSs ? s : undefined;
}

/** The state word to reason with: conntrack's, else the socket's or IPVS's in conntrack names. */
export function flowState(f: Flow): string {
  if (f.ctPresent && f.ctState) return f.ctState;
  const s = liveSide(f.client) ?? liveSide(f.server);
  if (s) return SS_TO_CT[s.state] ?? s.state;
  if (f.ipvs && f.ipvs.goneT < 0) return f.ipvs.state;
  if (f.ctState) return f.ctState;
  return f.proto === 'udp' ? 'UDP' : 'UNKNOWN';
}

/** Keepalive of one socket: from the probe, else the ss timer, else unknown. */
export function socketKeepalive(ctx: PathContext, side: 'client' | 'server', s: SocketSide): SocketKeepaliveView {
  const scope = s.scope;
  const kt = sysctlInForce(ctx, KA_TIME, scope);
  const ki = sysctlInForce(ctx, KA_INTVL, scope);
  const kn = sysctlInForce(ctx, KA_PROBES, scope);
  const netns = kt.evidence && ctx.table.sysctl(KA_TIME.sysctl, scope) ? { netnsIdleSec: kt.value, netnsEvidence: kt.evidence } : {};
  const base = { side, scope, ...netns };
  if (s.probeKa) {
    const k = s.probeKa;
    const kaEv = s.probeKaEvent;
    const e = [evidence(s.probeKaT, s.probeKaSrc, kaEv ? probeEventText(kaEv, probeWhere(kaEv, s.probeKaScope)) : 'keepalive read from the socket by the probe')];
    if (!k.enabled) {
      return { ...base, state: 'off', idleSec: null, intervalSec: ki.value, probes: kn.value, source: 'probe: SO_KEEPALIVE not set on the socket', evidence: e };
    }
    const idle = k.idleSec > 0 ? k.idleSec : kt.value;
    const ev = k.idleSec > 0 || !kt.evidence ? e : [...e, kt.evidence];
    return {
      ...base,
      state: 'on',
      idleSec: idle,
      intervalSec: k.intervalSec > 0 ? k.intervalSec : ki.value,
      probes: k.probes > 0 ? k.probes : kn.value,
      source: k.idleSec > 0 ? 'probe: per-socket TCP_KEEPIDLE' : `probe: SO_KEEPALIVE on, ${kt.source}`,
      evidence: ev,
    };
  }
  if (s.fromSs) {
    const e = [evidence(s.t, s.src, s.raw)];
    if (s.kaEstimateMs >= 0) {
      const est = Math.ceil(s.kaEstimateMs / 1000);
      // The timer only shows the time to the next check; its maximum ≈ TCP_KEEPIDLE.
      const useSysctl = est <= kt.value && est >= 0.9 * kt.value;
      const idle = useSysctl ? kt.value : est;
      return {
        ...base,
        state: 'on',
        idleSec: idle,
        intervalSec: ki.value,
        probes: kn.value,
        source: useSysctl ? `ss keepalive timer, ${kt.source}` : 'ss keepalive timer (largest remaining seen)',
        evidence: useSysctl && kt.evidence ? [...e, kt.evidence] : e,
      };
    }
    if (s.noTimerSamples > 0 && s.noTimerSamples === s.samples) {
      return { ...base, state: 'off', idleSec: null, intervalSec: ki.value, probes: kn.value, source: 'ss: no keepalive timer (SO_KEEPALIVE not set)', evidence: e };
    }
  }
  return { ...base, state: 'unknown', idleSec: null, intervalSec: ki.value, probes: kn.value, source: 'not observed', evidence: [] };
}

/** Keepalive in force on a flow: either socket's keepalive refreshes every layer on the path. */
export function flowKeepalive(ctx: PathContext, f: Flow): KeepaliveView {
  const sockets: SocketKeepaliveView[] = [];
  if (f.client) sockets.push(socketKeepalive(ctx, 'client', f.client));
  if (f.server) sockets.push(socketKeepalive(ctx, 'server', f.server));
  const on = sockets.filter((s) => s.state === 'on' && s.idleSec !== null).sort((a, b) => (a.idleSec ?? 0) - (b.idleSec ?? 0));
  const best = on[0];
  if (best) return { state: 'on', idleSec: best.idleSec, intervalSec: best.intervalSec, probes: best.probes, source: `${best.side} socket: ${best.source}`, sockets };
  const off = sockets.find((s) => s.state === 'off');
  if (off) return { state: 'off', idleSec: null, intervalSec: off.intervalSec, probes: off.probes, source: `${off.side} socket: ${off.source}`, sockets };
  return { state: 'unknown', idleSec: null, intervalSec: KA_INTVL.kernel, probes: KA_PROBES.kernel, source: 'no socket observed', sockets };
}

/** Computes every layer's timeout, the idle time and the first layer to forget one flow. */
export function pathTimeouts(ctx: PathContext, f: Flow): PathTimeouts {
  const t = ctx.table;
  const now = ctx.now;
  const state = flowState(f);
  const layers: LayerView[] = [];
  let lastAct = f.lastAct >= 0 ? f.lastAct : -1;
  let idleSource = f.lastAct >= 0 ? f.lastActSrc : '';

  // conntrack
  if (f.ctPresent) {
    const ct = conntrackLayer(ctx, f);
    if (ct) {
      layers.push(ct.layer);
      if (ct.activity !== undefined && ct.activity > lastAct) {
        lastAct = ct.activity;
        idleSource = 'conntrack remaining timeout';
      }
    }
  }
  // IPVS
  if (ipvsApplies(ctx, f)) {
    const iv = ipvsLayer(ctx, f, state);
    if (iv) {
      layers.push(iv.layer);
      if (iv.activity !== undefined && iv.activity > lastAct) {
        lastAct = iv.activity;
        idleSource = 'IPVS expire timer';
      }
    }
  }
  const idleSec = lastAct >= 0 ? Math.max(0, Math.round((now - lastAct) / 1000)) : null;
  // external path
  const c = t.addr(f.c);
  const tg = t.addr(f.tg);
  const loop = isLoopback(c) || isLoopback(tg);
  for (const p of ctx.pathLayers) {
    if (loop) continue;
    if (p.reach === 'external' && isPrivateAddr(tg) && isPrivateAddr(c)) continue;
    layers.push({
      layer: p.layer,
      timeoutSec: p.timeoutSec,
      source: p.source,
      leftSec: idleSec === null ? null : p.timeoutSec - idleSec,
      evidence: [],
    });
  }
  // Recompute leftSec of conntrack/IPVS from the final idle when activity is newer than their reading.
  const fixed = layers.map((l) => {
    if ((l.layer === 'conntrack' || l.layer === 'ipvs') && idleSec !== null && l.timeoutSec !== null) {
      const readAt = l.layer === 'conntrack' ? f.ctT : (f.ipvs?.t ?? -1);
      if (lastAct > readAt || l.leftSec === null) return { ...l, leftSec: l.timeoutSec - idleSec };
    }
    return l;
  });
  const keepalive = flowKeepalive(ctx, f);
  const withTimeout = fixed.filter((l) => l.timeoutSec !== null);
  const order: Record<Layer, number> = { conntrack: 0, ipvs: 1, path: 2, cloud: 3, keepalive: 4 };
  withTimeout.sort((a, b) => (a.timeoutSec ?? 0) - (b.timeoutSec ?? 0) || order[a.layer] - order[b.layer]);
  const first = withTimeout[0];
  const safe = keepalive.state === 'on' && keepalive.idleSec !== null && (first === undefined || keepalive.idleSec < (first.timeoutSec ?? Infinity));
  const kaLayer: LayerView = {
    layer: 'keepalive',
    timeoutSec: null,
    source: keepalive.state === 'on' ? `keepalive every ${keepalive.idleSec} s idle (${keepalive.source})` : `keepalive ${keepalive.state} (${keepalive.source})`,
    leftSec: keepalive.state === 'on' && keepalive.idleSec !== null && idleSec !== null ? keepalive.idleSec - idleSec : null,
    evidence: keepalive.sockets.flatMap((s) => s.evidence),
  };
  let id: string | undefined;
  return {
    flow: f,
    get id(): string {
      return (id ??= t.flowId(f));
    },
    live: t.isLive(f),
    state,
    idleSec,
    idleSource: idleSource || 'unknown',
    lastActivity: lastAct >= 0 ? lastAct : null,
    keepalive,
    layers: [kaLayer, ...fixed],
    first,
    safe,
  };
}

/**
 * The numbers of pathTimeouts(ctx, f) that decide whether a live flow matters to the rules, computed
 * without building the path (no layer objects, evidence, source strings or id): `NOT_AT_RISK` when
 * the path is neither at risk for a prediction (`predictable`: not safe, a first layer with a timeout,
 * ESTABLISHED, keepalive on or idle long enough) nor clamped, else its time to break (`breaksIn`).
 * It mirrors pathTimeouts step by step, with the same arithmetic; test/analysis/screen.test.ts checks
 * that the two agree on every flow of the fixtures.
 */
export function screenPath(ctx: PathContext, f: Flow): number {
  const now = ctx.now;
  const state = flowState(f);
  let lastAct = f.lastAct >= 0 ? f.lastAct : -1;
  // Layers with a timeout, in pathTimeouts' order (conntrack, IPVS, path, cloud): the first to
  // forget is the earliest of the smallest timeout. NaN = no such layer.
  let ctTo = NaN;
  let ctLeft: number | null = null;
  let clamped = false;
  const ctT = f.ctT;
  if (f.ctPresent) {
    const remaining = f.ctTimeout >= 0 ? f.ctTimeout : null;
    const leftFromReading = remaining === null ? null : remaining - (now - ctT) / 1000;
    let activity: number | undefined;
    const scope = f.ctScope;
    if (f.proto === 'udp') {
      const full = sysctlInForce(ctx, f.ctAssured ? CT_UDP_STREAM : CT_UDP, scope).value;
      ctTo = full;
      ctLeft = leftFromReading;
      if (remaining !== null && remaining <= full) activity = ctT - (full - remaining) * 1000;
    } else if (f.proto === 'tcp') {
      const stateSpec = CT_TCP_TIMEOUTS[f.ctState ?? ''];
      if (stateSpec) {
        const full = sysctlInForce(ctx, stateSpec, scope).value;
        if (f.ctState !== 'ESTABLISHED') {
          ctTo = full;
          ctLeft = leftFromReading;
          if (remaining !== null && remaining <= full) activity = ctT - (full - remaining) * 1000;
        } else {
          const own = entryTimeoutItem(f, 'ESTABLISHED')?.ctTimeout;
          const fullT = own !== undefined && own !== null && own < full ? own : full;
          const clamp = conntrackClamp(ctx, f, fullT);
          ctLeft = leftFromReading;
          if (clamp) {
            ctTo = Math.min(fullT, clamp.timeout.value);
            clamped = true;
          } else {
            ctTo = fullT;
            const inserted = f.ctUnreplied && f.ctAssured;
            if (remaining !== null && remaining <= fullT && !inserted) activity = ctT - (fullT - remaining) * 1000;
          }
        }
      }
    }
    if (activity !== undefined && activity > lastAct) lastAct = activity;
  }
  let ivTo = NaN;
  let ivLeft: number | null = null;
  if (ipvsApplies(ctx, f)) {
    const it = ipvsTimeoutsInForce(ctx);
    const v = f.ipvs && f.ipvs.goneT < 0 ? f.ipvs : undefined;
    const st = v?.state ?? state;
    let to = NaN;
    if (f.proto === 'udp') to = it.udp.value;
    else if (st === 'ESTABLISHED') to = it.tcp.value;
    else if (st === 'FIN_WAIT') to = it.tcpfin.value;
    else if (IPVS_FIXED[st] !== undefined) to = IPVS_FIXED[st] ?? 0;
    if (to === to) {
      ivTo = to;
      ivLeft = v ? v.expiresSec - (now - v.t) / 1000 : null;
      if (v && v.expiresSec <= to && (st === 'ESTABLISHED' || st === 'FIN_WAIT' || st === 'UDP')) {
        const activity = v.t - (to - v.expiresSec) * 1000;
        if (activity > lastAct) lastAct = activity;
      }
    }
  }
  const idleSec = lastAct >= 0 ? Math.max(0, Math.round((now - lastAct) / 1000)) : null;
  // The first layer: conntrack, then IPVS, then the external timers; a later one only on a smaller timeout.
  let firstTo = NaN;
  let firstLeft: number | null = null;
  if (ctTo === ctTo) {
    firstTo = ctTo;
    firstLeft = idleSec !== null && (lastAct > ctT || ctLeft === null) ? ctTo - idleSec : ctLeft;
  }
  if (ivTo === ivTo && !(firstTo <= ivTo)) {
    firstTo = ivTo;
    firstLeft = idleSec !== null && (lastAct > (f.ipvs?.t ?? -1) || ivLeft === null) ? ivTo - idleSec : ivLeft;
  }
  const pl = ctx.pathLayers;
  if (pl.length > 0) {
    const t = ctx.table;
    const c = t.addr(f.c);
    const tg = t.addr(f.tg);
    if (!(isLoopback(c) || isLoopback(tg))) {
      for (const p of pl) {
        if (p.reach === 'external' && isPrivateAddr(tg) && isPrivateAddr(c)) continue;
        if (!(firstTo <= p.timeoutSec)) {
          firstTo = p.timeoutSec;
          firstLeft = idleSec === null ? null : p.timeoutSec - idleSec;
        }
      }
    }
  }
  const hasFirst = firstTo === firstTo;
  // Keepalive on: the smallest idle of the sockets that have it on (client first on a tie). Off and
  // unknown count alike here.
  let kaOn = false;
  let kaIdle = Infinity;
  for (let side = 0; side < 2; side++) {
    const s = side === 0 ? f.client : f.server;
    if (!s) continue;
    let on = false;
    let idle = 0;
    if (s.probeKa) {
      const k = s.probeKa;
      if (k.enabled) {
        on = true;
        idle = k.idleSec > 0 ? k.idleSec : sysctlInForce(ctx, KA_TIME, s.scope).value;
      }
    } else if (s.fromSs) {
      if (s.kaEstimateMs >= 0) {
        const kt = sysctlInForce(ctx, KA_TIME, s.scope).value;
        const est = Math.ceil(s.kaEstimateMs / 1000);
        on = true;
        idle = est <= kt && est >= 0.9 * kt ? kt : est;
      }
    }
    if (on && (!kaOn || idle < kaIdle)) {
      kaOn = true;
      kaIdle = idle;
    }
  }
  const safe = kaOn && (!hasFirst || kaIdle < firstTo);
  // predictable(p): live (the caller's test) and diedAtRisk(p, {ESTABLISHED}).
  let hit = clamped;
  if (!hit && !safe && hasFirst && state === 'ESTABLISHED') {
    hit = kaOn || (idleSec !== null && idleSec >= Math.max(Math.min(30, 0.5 * firstTo), 0.25 * firstTo));
  }
  if (!hit) return NOT_AT_RISK;
  if (!hasFirst) return Infinity;
  const left = firstLeft ?? (idleSec !== null ? firstTo - idleSec : firstTo);
  return Math.max(0, Math.round(left));
}

/** screenPath's answer for a flow no rule lists as live. */
export const NOT_AT_RISK = -1;

function conntrackLayer(ctx: PathContext, f: Flow): { layer: LayerView; activity?: number } | undefined {
  const t = ctx.table;
  const scope = f.ctScope;
  const ctEv = lazyEvidence(f.ctT, f.ctSrc, () => t.conntrackSummary(f));
  const remaining = f.ctTimeout >= 0 ? f.ctTimeout : null;
  const leftFromReading = remaining === null ? null : remaining - (ctx.now - f.ctT) / 1000;
  if (f.proto === 'udp') {
    const spec = f.ctAssured ? CT_UDP_STREAM : CT_UDP;
    const full = sysctlInForce(ctx, spec, scope);
    const activity = remaining !== null && remaining <= full.value ? f.ctT - (full.value - remaining) * 1000 : undefined;
    return {
      layer: { layer: 'conntrack', timeoutSec: full.value, source: full.source, leftSec: leftFromReading, evidence: full.evidence ? [ctEv, full.evidence] : [ctEv] },
      ...(activity !== undefined ? { activity } : {}),
    };
  }
  if (f.proto !== 'tcp') return undefined;
  const stateSpec = CT_TCP_TIMEOUTS[f.ctState ?? ''];
  if (!stateSpec) return undefined;
  const full = sysctlInForce(ctx, stateSpec, scope);
  const evs = full.evidence ? [ctEv, full.evidence] : [ctEv];
  if (f.ctState !== 'ESTABLISHED') {
    const activity = remaining !== null && remaining <= full.value ? f.ctT - (full.value - remaining) * 1000 : undefined;
    return { layer: { layer: 'conntrack', timeoutSec: full.value, source: full.source, leftSec: leftFromReading, evidence: evs }, ...(activity !== undefined ? { activity } : {}) };
  }
  const own = entryTimeout(f, 'ESTABLISHED');
  // The timeout conntrack itself set on the entry beats a sysctl reading that may lag a change.
  const fullT: Sourced = own && own.value < full.value ? own : full;
  const evsT = fullT === full ? evs : [ctEv, ...(own?.evidence ? [own.evidence] : [])];
  const clamp = conntrackClamp(ctx, f, fullT.value);
  if (clamp) {
    return {
      layer: {
        layer: 'conntrack',
        timeoutSec: Math.min(fullT.value, clamp.timeout.value),
        source: `${clamp.timeout.source} (clamped: ${clamp.why})`,
        leftSec: leftFromReading,
        evidence: [...evsT, ...clamp.evidence, ...(clamp.timeout.evidence ? [clamp.timeout.evidence] : [])],
        clamp: clamp.why,
        note: clamp.note,
      },
    };
  }
  // ASSURED with [UNREPLIED] never comes from the kernel's TCP tracker (ASSURED needs a reply):
  // the entry was loaded from userspace (`conntrack -I`, a state sync) with a timeout of its own.
  const inserted = f.ctUnreplied && f.ctAssured;
  const activity = remaining !== null && remaining <= fullT.value && !inserted ? f.ctT - (fullT.value - remaining) * 1000 : undefined;
  return { layer: { layer: 'conntrack', timeoutSec: fullT.value, source: fullT.source, leftSec: leftFromReading, evidence: evsT }, ...(activity !== undefined ? { activity } : {}) };
}

/**
 * The timeout conntrack set when the entry last entered `state` (the event's remaining timeout is the
 * fresh one), when the flow's timeline still has that event.
 */
export function entryTimeout(f: Flow, state: string): Sourced | undefined {
  const it = entryTimeoutItem(f, state);
  const to = it?.ctTimeout;
  if (!it || it.ctType === undefined || to === null || to === undefined) return undefined;
  return {
    value: to,
    source: `the timeout conntrack set on the entry ([${it.ctType}] … ${to} ${state})`,
    evidence: evidence(it.t, it.src, it.text, `conntrack set the ${state} timeout to ${to} s`),
  };
}

/** The timeline item entryTimeout reads (its `ct.entry.timeout` is the value), if any. */
function entryTimeoutItem(f: Flow, state: string): TimelineItem | undefined {
  const tl = f.timeline;
  if (!tl) return undefined;
  for (let i = tl.length - 1; i >= 0; i--) {
    const it = tl[i];
    if (!it || it.ctType === undefined || it.dir === 'reply') continue;
    if (it.ctType === 'DESTROY') return undefined;
    if (it.ctState !== state || it.ctUnreplied || it.ctTimeout === null) return undefined;
    return it;
  }
  return undefined;
}

export interface ClampInfo {
  readonly why: NonNullable<LayerView['clamp']>;
  readonly timeout: Sourced;
  readonly note: string;
  readonly evidence: readonly Evidence[];
}

/** Why an ESTABLISHED entry runs on a 300 s timeout (§2.3), if it does. */
export function conntrackClamp(ctx: PathContext, f: Flow, full: number): ClampInfo | undefined {
  const unack = sysctlInForce(ctx, CT_UNACK, f.ctScope);
  const remaining = f.ctTimeout;
  if (f.ctUnreplied && !f.ctAssured && (remaining < 0 || remaining <= unack.value + 1)) {
    // A real pickup is neither ASSURED nor above the unacknowledged timeout (entries loaded with
    // `conntrack -I` can be both, and are not pickups).
    return { why: 'mid-stream-pickup', timeout: unack, note: 'entry picked up mid-stream ([UNREPLIED] ESTABLISHED): timeout min(established, unacknowledged) until a reply is seen', evidence: [] };
  }
  if (full <= unack.value) return undefined;
  const client = liveSide(f.client);
  const server = liveSide(f.server);
  // Socket queues and timers, and retransmissions on the timeline: only a flow with either can show them.
  if (client || server || f.timeline) {
    const retransT = sysctlInForce(ctx, CT_MAX_RETRANS_TIMEOUT, f.ctScope);
    const maxRetrans = sysctlInForce(ctx, CT_MAX_RETRANS, f.ctScope);
    const sc = socketClamp(client, retransT, unack, maxRetrans.value) ?? socketClamp(server, retransT, unack, maxRetrans.value);
    if (sc) return sc;
    // Retransmissions seen by the probe since the entry's last event: data is in flight, unacknowledged.
    const rtx = f.timeline ? recentRetransmits(f, ctx.now, unack.value) : NO_ITEMS;
    const last = rtx[rtx.length - 1];
    // Only while nothing newer than the retransmissions was seen (an answer would have ended the clamp).
    if (last && f.lastAct <= last.t + 1500) {
      const many = rtx.length >= maxRetrans.value;
      return {
        why: many ? 'retransmits' : 'unacknowledged',
        timeout: many ? retransT : unack,
        note: `${rtx.length} retransmission${rtx.length > 1 ? 's' : ''} seen: data sent and not acknowledged`,
        evidence: [itemEvidence(last, 'retransmission: data not acknowledged')],
      };
    }
  }
  // FM-6: an ESTABLISHED, ASSURED entry running on the unacknowledged timeout. It counts down from the
  // clamp, so its remaining time plus the flow's idle time at the reading is about that timeout; an
  // entry counting down from a shorter state timeout (a sysctl kdiag read late) is not clamped.
  if (f.ctAssured && remaining >= 0 && remaining <= unack.value && full > CT_UNACK.kernel && remaining < 0.5 * full) {
    const idleAtReading = f.lastAct >= 0 && f.lastAct <= f.ctT ? (f.ctT - f.lastAct) / 1000 : undefined;
    const tol = Math.max(15, 0.05 * unack.value);
    const consistent = idleAtReading !== undefined ? Math.abs(remaining + idleAtReading - unack.value) <= tol : remaining >= unack.value - 15;
    if (consistent) {
      return { why: 'suspicious', timeout: unack, note: 'ESTABLISHED entry refreshed to the 300 s unacknowledged timeout (unacked data, zero window, retransmits or out-of-window FIN/RST)', evidence: [] };
    }
  }
  return undefined;
}

const NO_ITEMS: NonNullable<Flow['timeline']> = [];

/** The clamp a live socket's queue or timer shows, if any. */
function socketClamp(s: SocketSide | undefined, retransT: Sourced, unack: Sourced, maxRetrans: number): ClampInfo | undefined {
  if (!s) return undefined;
  const timer = s.timer;
  if (timer?.name === 'persist') return { why: 'zero-window', timeout: retransT, note: 'the peer advertises a zero window (persist timer)', evidence: [evidence(s.t, s.src, s.raw)] };
  if (timer?.name === 'on' && timer.count >= maxRetrans) return { why: 'retransmits', timeout: retransT, note: `${timer.count} retransmits pending (≥ nf_conntrack_tcp_max_retrans ${maxRetrans})`, evidence: [evidence(s.t, s.src, s.raw)] };
  if (s.sendQ > 0 && (timer?.name === 'on' || timer === undefined)) return { why: 'unacknowledged', timeout: unack, note: `${s.sendQ} bytes sent and not acknowledged`, evidence: [evidence(s.t, s.src, s.raw)] };
  return undefined;
}

/** Retransmit items after the entry's latest conntrack event and within the clamp window before `now`. */
function recentRetransmits(f: Flow, now: number, windowSec: number): NonNullable<Flow['timeline']> {
  const tl = f.timeline;
  if (!tl) return [];
  let from = -Infinity;
  for (let i = tl.length - 1; i >= 0; i--) {
    const it = tl[i];
    if (it && it.ctType !== undefined && it.dir !== 'reply') {
      from = it.t;
      break;
    }
  }
  const since = now - (windowSec + 60) * 1000;
  return tl.filter((i) => i.kind === 'retransmit' && i.t >= from && i.t >= since);
}

function ipvsLayer(ctx: PathContext, f: Flow, state: string): { layer: LayerView; activity?: number } | undefined {
  const it = ipvsTimeoutsInForce(ctx);
  const v = f.ipvs && f.ipvs.goneT < 0 ? f.ipvs : undefined;
  const st = v?.state ?? state;
  let to: Sourced;
  if (f.proto === 'udp') to = it.udp;
  else if (st === 'ESTABLISHED') to = it.tcp;
  else if (st === 'FIN_WAIT') to = it.tcpfin;
  else if (IPVS_FIXED[st] !== undefined) to = { value: IPVS_FIXED[st] ?? 0, source: `IPVS ${st} timeout (not settable)` };
  else return undefined;
  const evs: Evidence[] = [];
  if (v) evs.push(evidence(v.t, v.src, ctx.table.ipvsSummary(f)));
  if (to.evidence) evs.push(to.evidence);
  const vsCt = ctx.table.sysctl('net.ipv4.vs.conntrack');
  const killsCt = vsCt ? vsCt.value === '1' : ctx.mode === 'ipvs';
  const note = killsCt ? 'IPVS expiry also deletes the conntrack entry (net.ipv4.vs.conntrack=1)' : undefined;
  const leftSec = v ? v.expiresSec - (ctx.now - v.t) / 1000 : null;
  const activity = v && v.expiresSec <= to.value && (st === 'ESTABLISHED' || st === 'FIN_WAIT' || st === 'UDP') ? v.t - (to.value - v.expiresSec) * 1000 : undefined;
  const layer: LayerView = { layer: 'ipvs', timeoutSec: to.value, source: to.source, leftSec, evidence: evs, ...(note ? { note } : {}) };
  return activity !== undefined ? { layer, activity } : { layer };
}

/** `600 s`, `900 s (15 min)`, `86400 s (24 h)`: numbers the way findings state them. */
export function fmtSec(n: number): string {
  const s = Math.round(n);
  if (s >= 3600 && s % 3600 === 0) return `${s} s (${s / 3600} h)`;
  if (s >= 120 && s % 60 === 0) return `${s} s (${s / 60} min)`;
  return `${s} s`;
}

/** Human label of an endpoint for text. */
export function epText(e: Endpoint): string {
  return endpointKey(e);
}

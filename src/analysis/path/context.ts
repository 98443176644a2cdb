// The node-wide facts a path's timeouts depend on, computed once per analysis: proxy mode, IPVS
// VIPs, the external idle timers, and the sysctls and IPVS timeouts in force (memoised).
import { CLOUD_PRESETS } from '../../model/cloud-presets.js';
import type { CloudPreset, ExpiryBehaviour } from '../../model/cloud-presets.js';
import { parseCloudSpec, type CloudScope } from '../../model/cloud-scope.js';
import type { Evidence } from '../../model/diagnosis.js';
import { endpointKey } from '../../model/endpoint.js';
import type { Flow } from '../../model/flow.js';
import type { FlowTable } from '../../model/flow-table.js';
import {
  CT_TCP_TIMEOUTS,
  CT_UDP,
  CT_UDP_STREAM,
  IPVS_KERNEL,
} from '../../model/kernel-defaults.js';
import type { ProxyMode } from '../../model/kube-proxy.js';
import { evidence } from './evidence.js';

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
  /** The flows that cross it (cloud-reach.ts decides per flow). */
  readonly scope: CloudScope;
  readonly preset?: CloudPreset;
  /** What it does at expiry; undefined for a --path-idle-timeout (not known). */
  readonly behaviour?: ExpiryBehaviour;
  /** False for an L7 proxy: TCP keepalive probes never reach it. */
  readonly keepaliveRefreshes: boolean;
}

export interface PathContextOptions {
  readonly now?: number;
  readonly pathIdleTimeoutSec?: number;
  /** `--cloud` values (`aws-nat`, `aws-nlb:500s@svc=ns/web`), validated by the CLI. */
  readonly cloud?: string | readonly string[];
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

/** Builds the node-wide context: proxy mode, IPVS VIPs, the external path timers. */
export function buildPathContext(table: FlowTable, opts: PathContextOptions): PathContext {
  const now = opts.now ?? table.latestT;
  let mode: ProxyMode | undefined;
  let modeSource = 'unknown';
  const kp = table.kubeProxy;
  const metaMode = table.meta('proxy-mode');
  if (
    typeof metaMode?.value === 'string' &&
    ['iptables', 'ipvs', 'nftables', 'kernelspace'].includes(metaMode.value)
  ) {
    mode = metaMode.value as ProxyMode;
    modeSource = `${metaMode.src} (/proxyMode)`;
  } else if (kp) {
    mode = kp.value.mode;
    modeSource = `kube-proxy ${kp.value.origin}`;
  } else if ((table.ipvsServices?.value.length ?? 0) > 0) {
    mode = 'ipvs';
    modeSource = 'ipvsadm -Ln shows services';
  } else if (table.iptables()?.value.kubeProxyNftables) {
    mode = 'nftables';
    modeSource = 'nft list ruleset shows table kube-proxy';
  } else if (table.iptables()?.value.kubeProxyChains) {
    mode = 'iptables';
    modeSource = 'iptables-save shows KUBE-* chains';
  }
  const ipvsVips = new Set<string>();
  for (const s of table.ipvsServices?.value ?? [])
    ipvsVips.add(`${s.proto.toLowerCase()} ${endpointKey({ addr: s.addr, port: s.port })}`);
  const pathLayers: PathLayerSpec[] = [];
  const metaPath = table.meta('path-idle-timeout');
  const userPath = opts.pathIdleTimeoutSec ?? parseSeconds(metaPath?.value);
  if (userPath !== undefined && userPath > 0) {
    pathLayers.push({
      layer: 'path',
      timeoutSec: userPath,
      source:
        opts.pathIdleTimeoutSec !== undefined
          ? '--path-idle-timeout'
          : `${metaPath?.src ?? 'meta'} path-idle-timeout`,
      scope: { kind: 'all' },
      keepaliveRefreshes: true,
    });
  }
  const metaCloud = table.meta('cloud')?.value;
  const cloud = opts.cloud ?? (typeof metaCloud === 'string' ? metaCloud : undefined);
  for (const text of typeof cloud === 'string' ? [cloud] : (cloud ?? [])) {
    const r = parseCloudSpec(text);
    // The CLI refuses a bad value; one from a recording's header or meta is left out.
    if (!r.ok) continue;
    const c = r.value;
    const p = CLOUD_PRESETS[c.preset];
    const detail = [
      ...(c.timeoutGiven ? [`${c.timeoutSec} s given`] : []),
      ...(c.scopeGiven ? [`flows ${scopeText(c.scope)}`] : []),
    ];
    pathLayers.push({
      layer: 'cloud',
      timeoutSec: c.timeoutSec,
      source: `--cloud ${c.preset} (${p.label}${detail.length > 0 ? `, ${detail.join(', ')}` : ''})`,
      scope: c.scope,
      preset: c.preset,
      behaviour: p.behaviour,
      keepaliveRefreshes: p.keepaliveRefreshes,
    });
  }
  const v = table.meta('kube-proxy-version')?.value;
  return {
    table,
    now,
    mode,
    modeSource,
    ipvsVips,
    pathLayers,
    kubeProxyVersion: typeof v === 'string' ? v : undefined,
    memo: new Map(),
    vipMemo: new Map(),
  };
}

/** How a scope reads in a source: `to 10.0.0.0/8`, `of Service ns/web`. */
export function scopeText(s: CloudScope): string {
  switch (s.kind) {
    case 'all':
      return 'all';
    case 'external':
      return 'leaving the private ranges';
    case 'ingress':
      return 'arriving from outside or at a NodePort';
    case 'dst':
      return `to ${s.cidrs.map((c) => c.text).join(', ')}`;
    case 'svc':
      return `of Service ${s.namespace}/${s.name}`;
  }
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
export function sysctlInForce(
  ctx: PathContext,
  spec: { sysctl: string; kernel: number },
  scope: string | undefined,
): Sourced {
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

function sysctlLookup(
  ctx: PathContext,
  spec: { sysctl: string; kernel: number },
  scope: string | undefined,
): Sourced {
  const t = ctx.table;
  const v = t.sysctl(spec.sysctl, scope);
  const n = v ? Number(v.value) : NaN;
  if (v && Number.isFinite(n)) {
    return {
      value: n,
      source: `sysctl ${spec.sysctl}${scope ? ` (netns ${scope})` : ''}`,
      evidence: evidence(v.t, v.src, `${spec.sysctl} = ${v.value}`),
    };
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
    key === 'net.netfilter.nf_conntrack_tcp_timeout_established'
      ? c.tcpEstablishedTimeout
      : key === 'net.netfilter.nf_conntrack_tcp_timeout_close_wait'
        ? c.tcpCloseWaitTimeout
        : key === 'net.netfilter.nf_conntrack_udp_timeout'
          ? c.udpTimeout
          : key === 'net.netfilter.nf_conntrack_udp_timeout_stream'
            ? c.udpStreamTimeout
            : 0;
  if (!(intended > 0)) return undefined;
  const kernel =
    key === CT_UDP.sysctl
      ? CT_UDP.kernel
      : key === CT_UDP_STREAM.sysctl
        ? CT_UDP_STREAM.kernel
        : (Object.values(CT_TCP_TIMEOUTS).find((s) => s.sysctl === key)?.kernel ?? intended);
  // kube-proxy 1.22–1.28 only raise a value (set only if current < desired).
  const raiseOnly = isRaiseOnlyKubeProxy(ctx.kubeProxyVersion);
  const value = raiseOnly && intended < kernel ? kernel : intended;
  return {
    value,
    source:
      raiseOnly && intended < kernel
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
export function ipvsApplies(ctx: PathContext, f: Flow): boolean {
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
  const k = f.targetAddrId * 65536 + f.targetPort;
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
    const e = evidence(
      it.t,
      it.src,
      it.raw ?? `Timeout (tcp tcpfin udp): ${it.value.tcp} ${it.value.tcpfin} ${it.value.udp}`,
    );
    const src = 'ipvsadm -Ln --timeout';
    return {
      tcp: { value: it.value.tcp, source: src, evidence: e },
      tcpfin: { value: it.value.tcpfin, source: src, evidence: e },
      udp: { value: it.value.udp, source: src, evidence: e },
    };
  }
  const kp = ctx.table.kubeProxy;
  const pick = (k: 'tcpTimeout' | 'tcpFinTimeout' | 'udpTimeout', kernel: number): Sourced => {
    const v = kp?.value.ipvs[k] ?? 0;
    if (kp && v > 0)
      return {
        value: v,
        source: `kube-proxy ipvs.${k} (ipvsadm not read)`,
        evidence: evidence(kp.t, kp.src, `kube-proxy ipvs.${k} = ${v}s`),
      };
    return { value: kernel, source: 'IPVS kernel default (ipvsadm --timeout not read)' };
  };
  return {
    tcp: pick('tcpTimeout', IPVS_KERNEL.tcp),
    tcpfin: pick('tcpFinTimeout', IPVS_KERNEL.tcpfin),
    udp: pick('udpTimeout', IPVS_KERNEL.udp),
  };
}

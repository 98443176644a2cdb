// Calico's eBPF conntrack as a layer of a flow's path: the entry that tracks the flow in the last
// `calico-node -bpf conntrack dump`, and the bpfConntrackTimeouts value Felix's cleanup holds it to
// (felix/bpf/conntrack/timeouts/timeouts.go: GetTimeouts, DefaultTimeouts; `Auto` copies the node's
// nf_conntrack sysctl of the same meaning, linuxSysctls).
import {
  CALICO_CT_META,
  CALICO_CT_TIMEOUT_FIELDS,
  CALICO_FELIX_META,
  calicoFlowEntries,
  type CalicoCtEntry,
  type CalicoCtSnapshot,
  type CalicoTimeoutField,
  type FelixConfig,
} from '../../model/calico.js';
import type { Evidence } from '../../model/diagnosis.js';
import type { Flow } from '../../model/flow.js';
import { sysctlInForce, type PathContext, type Sourced } from './context.js';
import { evidence } from './evidence.js';

/** Kernel defaults of the sysctls `Auto` copies (nf_conntrack_proto_*.c), for when none was read. */
const AUTO_KERNEL: Readonly<Record<string, number>> = {
  nf_conntrack_tcp_timeout_syn_sent: 120,
  nf_conntrack_tcp_timeout_established: 432000,
  nf_conntrack_tcp_timeout_time_wait: 120,
  nf_conntrack_generic_timeout: 600,
  nf_conntrack_icmp_timeout: 30,
};

export interface CalicoDump {
  readonly snapshot: CalicoCtSnapshot;
  readonly t: number;
  readonly src: string;
}

/** The last dump of Calico's conntrack map kdiag read, if any. */
export function calicoDump(ctx: PathContext): CalicoDump | undefined {
  const m = ctx.table.meta(CALICO_CT_META);
  const v = m?.value as CalicoCtSnapshot | undefined;
  return m && v && Array.isArray(v.entries) ? { snapshot: v, t: m.t, src: m.src } : undefined;
}

/** The FelixConfiguration read, with where it came from. */
export function felixConfig(
  ctx: PathContext,
): { value: FelixConfig; t: number; src: string } | undefined {
  const m = ctx.table.meta(CALICO_FELIX_META);
  const v = m?.value as FelixConfig | undefined;
  return m && v && typeof v.timeouts === 'object' ? { value: v, t: m.t, src: m.src } : undefined;
}

/** The bpfConntrackTimeouts field Felix's cleanup applies to an entry (by protocol and TCP state). */
export function calicoTimeoutField(e: CalicoCtEntry): CalicoTimeoutField {
  if (e.proto === 6) {
    switch (e.tcpState) {
      case 'SYN-SENT':
        return 'tcpSynSent';
      case 'CLOSED':
        return 'tcpFinsSeen';
      case 'RESET':
        return 'tcpResetSeen';
      default:
        // A forward entry prints no state: its reverse entry (the one that ages) is established.
        return 'tcpEstablished';
    }
  }
  if (e.proto === 17) return 'udpTimeout';
  if (e.proto === 1 || e.proto === 58) return 'icmpTimeout';
  return 'genericTimeout';
}

/** The value Felix holds a field to: the FelixConfiguration's, `Auto` resolved, or Felix's default. */
export function calicoTimeoutInForce(ctx: PathContext, field: CalicoTimeoutField): Sourced {
  let memo = ctx.memo.get(CALICO_CT_META);
  if (memo === undefined) {
    memo = new Map();
    ctx.memo.set(CALICO_CT_META, memo);
  }
  const hit = memo.get(field);
  if (hit) return hit;
  const v = lookup(ctx, field);
  memo.set(field, v);
  return v;
}

function lookup(ctx: PathContext, field: CalicoTimeoutField): Sourced {
  const spec = CALICO_CT_TIMEOUT_FIELDS.find((f) => f.yaml === field)!;
  const fc = felixConfig(ctx);
  const text = fc?.value.timeouts[field];
  const name = `bpfConntrackTimeouts.${field}`;
  const ev = (s: string): Evidence | undefined =>
    fc ? evidence(fc.t, fc.src, `FelixConfiguration ${fc.value.name}: ${s}`) : undefined;
  const sec = fc?.value.seconds[field];
  if (text !== undefined && sec !== undefined) {
    return withEv(sec, `FelixConfiguration ${name} = ${text}`, ev(`${name}: ${text}`));
  }
  const sysctl = 'sysctl' in spec ? spec.sysctl : undefined;
  const auto = text === 'Auto' || (text === undefined && 'defaultAuto' in spec);
  if (auto && sysctl !== undefined) {
    const s = sysctlInForce(
      ctx,
      { sysctl: `net.netfilter.${sysctl}`, kernel: AUTO_KERNEL[sysctl] ?? spec.defaultSec },
      undefined,
    );
    const said = text === 'Auto' ? `${name} = Auto` : `${name} unset (Felix's default Auto)`;
    return {
      value: s.value,
      source: `${said}: ${s.source}`,
      ...(s.evidence ? { evidence: s.evidence } : {}),
    };
  }
  if (!fc)
    return {
      value: spec.defaultSec,
      source: `Felix's default ${name} (FelixConfiguration not read)`,
    };
  return withEv(
    spec.defaultSec,
    `Felix's default ${name} (${text === undefined ? 'unset' : `${text} has no sysctl to copy`})`,
    ev(`${name} ${text === undefined ? 'not set' : `: ${text}`}`),
  );
}

function withEv(value: number, source: string, e: Evidence | undefined): Sourced {
  return e ? { value, source, evidence: e } : { value, source };
}

const PROTO_NUM: Readonly<Record<string, number>> = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58 };

/** The Calico entry that tracks a flow in the last dump (with the dump), or undefined. */
export function calicoEntryOf(
  ctx: PathContext,
  f: Flow,
): { entry: CalicoCtEntry; forward?: CalicoCtEntry; dump: CalicoDump } | undefined {
  const dump = calicoDump(ctx);
  if (!dump) return undefined;
  const proto = PROTO_NUM[f.proto];
  if (proto === undefined) return undefined;
  const t = ctx.table;
  const hit = calicoFlowEntries(
    dump.snapshot,
    proto,
    t.client(f),
    t.target(f),
    t.backend(f) ?? undefined,
  );
  if (!hit) return undefined;
  return { entry: hit.tracking, ...(hit.forward ? { forward: hit.forward } : {}), dump };
}

/** An entry as a person reads it, for evidence. */
export function calicoEntryText(e: CalicoCtEntry): string {
  const hop = e.origDst ? ` -> ${e.origDst.addr}:${e.origDst.port}` : '';
  const proto = e.proto === 6 ? 'TCP' : e.proto === 17 ? 'UDP' : `proto ${e.proto}`;
  return `Calico CT ${e.type}: ${proto} ${e.src.addr}:${e.src.port}${hop} -> ${e.dst.addr}:${e.dst.port}, active ${fmtAgo(e.activeAgoSec)} ago${e.tcpState ? ` ${e.tcpState}` : ''}`;
}

function fmtAgo(sec: number): string {
  if (sec < 60) return `${Math.round(sec * 10) / 10}s`;
  const m = Math.floor(sec / 60);
  const s = Math.round(sec - m * 60);
  return m < 60 ? `${m}m${s}s` : `${Math.floor(m / 60)}h${m % 60}m${s}s`;
}

// The conntrack and IPVS layers of a path: the timeout in force, the time left at the reading, and
// the latest activity the reading implies.
import type { ExpiryBehaviour } from '../../model/cloud-presets.js';
import type { Evidence, LayerTimeout } from '../../model/diagnosis.js';
import type { Flow } from '../../model/flow.js';
import { CT_TCP_TIMEOUTS, CT_UDP, CT_UDP_STREAM, IPVS_FIXED } from '../../model/kernel-defaults.js';
import { conntrackClamp, entryTimeout } from './clamp.js';
import { ipvsTimeoutsInForce, sysctlInForce, type PathContext, type Sourced } from './context.js';
import { evidence, lazyEvidence } from './evidence.js';
import {
  calicoEntryOf,
  calicoEntryText,
  calicoTimeoutField,
  calicoTimeoutInForce,
} from './calico-ct.js';
import { ciliumEntryEvidence, ciliumGcSlack, ciliumNumbers } from './cilium-context.js';

export interface LayerView extends LayerTimeout {
  readonly evidence: readonly Evidence[];
  /** Why the timeout is shorter than the state's normal one (§2.3 clamps). */
  readonly clamp?:
    'unacknowledged' | 'zero-window' | 'retransmits' | 'mid-stream-pickup' | 'suspicious';
  readonly note?: string;
  /** Where leftSec came from (the layer's own timer at its reading, or its timeout minus the idle time). */
  readonly leftSource?: string;
  /** What an external layer does at expiry (cloud presets). */
  readonly behaviour?: ExpiryBehaviour;
  /** An L7 proxy's timer: TCP keepalive probes never reach it, so they never re-arm it. */
  readonly noKeepaliveRefresh?: true;
}

/** The conntrack layer of a flow's path, and the activity its remaining timeout implies. */
export function conntrackLayer(
  ctx: PathContext,
  f: Flow,
): { layer: LayerView; activity?: number } | undefined {
  const t = ctx.table;
  const scope = f.ctScope;
  const ctEv = lazyEvidence(f.ctT, f.ctSrc, () => t.conntrackSummary(f));
  const remaining = f.ctTimeout >= 0 ? f.ctTimeout : null;
  const leftFromReading = remaining === null ? null : remaining - (ctx.now - f.ctT) / 1000;
  if (f.proto === 'udp') {
    const spec = f.ctAssured ? CT_UDP_STREAM : CT_UDP;
    const full = sysctlInForce(ctx, spec, scope);
    const activity =
      remaining !== null && remaining <= full.value
        ? f.ctT - (full.value - remaining) * 1000
        : undefined;
    return {
      layer: {
        layer: 'conntrack',
        timeoutSec: full.value,
        source: full.source,
        leftSec: leftFromReading,
        ...ctLeft(leftFromReading),
        evidence: full.evidence ? [ctEv, full.evidence] : [ctEv],
      },
      ...(activity !== undefined ? { activity } : {}),
    };
  }
  if (f.proto !== 'tcp') return undefined;
  const stateSpec = CT_TCP_TIMEOUTS[f.ctState ?? ''];
  if (!stateSpec) return undefined;
  const full = sysctlInForce(ctx, stateSpec, scope);
  const evs = full.evidence ? [ctEv, full.evidence] : [ctEv];
  if (f.ctState !== 'ESTABLISHED') {
    const activity =
      remaining !== null && remaining <= full.value
        ? f.ctT - (full.value - remaining) * 1000
        : undefined;
    return {
      layer: {
        layer: 'conntrack',
        timeoutSec: full.value,
        source: full.source,
        leftSec: leftFromReading,
        ...ctLeft(leftFromReading),
        evidence: evs,
      },
      ...(activity !== undefined ? { activity } : {}),
    };
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
        ...ctLeft(leftFromReading),
        evidence: [
          ...evsT,
          ...clamp.evidence,
          ...(clamp.timeout.evidence ? [clamp.timeout.evidence] : []),
        ],
        clamp: clamp.why,
        note: clamp.note,
      },
    };
  }
  // ASSURED with [UNREPLIED] never comes from the kernel's TCP tracker (ASSURED needs a reply):
  // the entry was loaded from userspace (`conntrack -I`, a state sync) with a timeout of its own.
  const inserted = f.ctUnreplied && f.ctAssured;
  const activity =
    remaining !== null && remaining <= fullT.value && !inserted
      ? f.ctT - (fullT.value - remaining) * 1000
      : undefined;
  return {
    layer: {
      layer: 'conntrack',
      timeoutSec: fullT.value,
      source: fullT.source,
      leftSec: leftFromReading,
      ...ctLeft(leftFromReading),
      evidence: evsT,
    },
    ...(activity !== undefined ? { activity } : {}),
  };
}

/** The IPVS layer of a flow's path, and the activity its expire timer implies. */
export function ipvsLayer(
  ctx: PathContext,
  f: Flow,
  state: string,
): { layer: LayerView; activity?: number } | undefined {
  const it = ipvsTimeoutsInForce(ctx);
  const v = f.ipvs && f.ipvs.goneT < 0 ? f.ipvs : undefined;
  const st = v?.state ?? state;
  let to: Sourced;
  if (f.proto === 'udp') to = it.udp;
  else if (st === 'ESTABLISHED') to = it.tcp;
  else if (st === 'FIN_WAIT') to = it.tcpfin;
  else if (IPVS_FIXED[st] !== undefined)
    to = { value: IPVS_FIXED[st] ?? 0, source: `IPVS ${st} timeout (not settable)` };
  else return undefined;
  const evs: Evidence[] = [];
  if (v) evs.push(evidence(v.t, v.src, ctx.table.ipvsSummary(f)));
  if (to.evidence) evs.push(to.evidence);
  const vsCt = ctx.table.sysctl('net.ipv4.vs.conntrack');
  const killsCt = vsCt ? vsCt.value === '1' : ctx.mode === 'ipvs';
  const note = killsCt
    ? 'IPVS expiry also deletes the conntrack entry (net.ipv4.vs.conntrack=1)'
    : undefined;
  const leftSec = v ? v.expiresSec - (ctx.now - v.t) / 1000 : null;
  const activity =
    v && v.expiresSec <= to.value && (st === 'ESTABLISHED' || st === 'FIN_WAIT' || st === 'UDP')
      ? v.t - (to.value - v.expiresSec) * 1000
      : undefined;
  const layer: LayerView = {
    layer: 'ipvs',
    timeoutSec: to.value,
    source: to.source,
    leftSec,
    ...(v ? { leftSource: 'IPVS expire at its last reading' } : {}),
    evidence: evs,
    ...(note ? { note } : {}),
  };
  return activity !== undefined ? { layer, activity } : { layer };
}

function ctLeft(left: number | null): { leftSource?: string } {
  return left === null ? {} : { leftSource: "the conntrack entry's own timer at its last reading" };
}

// Calico eBPF data plane (issue 22): the entry in Calico's own conntrack map ages from its last
// packet (LastSeen) against the bpfConntrackTimeouts value of its state.

/** The Calico eBPF conntrack layer of a flow's path, and the activity its entry's age implies. */
export function calicoLayer(
  ctx: PathContext,
  f: Flow,
): { layer: LayerView; activity: number; readAt: number } | undefined {
  const hit = calicoEntryOf(ctx, f);
  if (!hit) return undefined;
  const { entry, dump } = hit;
  const to = calicoTimeoutInForce(ctx, calicoTimeoutField(entry));
  const activity = dump.t - entry.activeAgoSec * 1000;
  const evs = [evidence(dump.t, dump.src, calicoEntryText(entry))];
  if (to.evidence) evs.push(to.evidence);
  return {
    layer: {
      layer: 'calico',
      timeoutSec: to.value,
      source: to.source,
      leftSec: to.value - (ctx.now - activity) / 1000,
      leftSource: "the Calico entry's timeout minus its age (Active ago) at the dump",
      evidence: evs,
    },
    activity,
    readAt: dump.t,
  };
}

/** The Cilium BPF conntrack layer of a flow's path (cilium-context.ts), and the activity its timer implies. */
export function ciliumLayer(
  ctx: PathContext,
  f: Flow,
): { layer: LayerView; activity?: number; readT: number } | undefined {
  const n = ciliumNumbers(ctx, f);
  if (!n) return undefined;
  const gc = ciliumGcSlack(n.view);
  const evs: Evidence[] = [];
  if (n.hit) evs.push(ciliumEntryEvidence(n.view, n.hit));
  if (n.timeout.evidence) evs.push(n.timeout.evidence);
  const layer: LayerView = {
    layer: 'cilium',
    timeoutSec: n.timeoutSec,
    source: n.timeout.source,
    leftSec: n.leftSec,
    ...(n.leftSec !== null
      ? { leftSource: "the Cilium CT entry's remaining time at its listing" }
      : {}),
    evidence: evs,
    note: `an expired entry is deleted by the agent's CT GC ${gc.text} later`,
  };
  return n.activity !== undefined
    ? { layer, activity: n.activity, readT: n.readT }
    : { layer, readT: n.readT };
}

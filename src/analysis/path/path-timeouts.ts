// Per flow and per layer: the idle timeout in force, where it came from, and the time left
// (domain.md §1.1, §2.3, §2.7, §2.8). Time is the analysis' `now`, never the wall clock.
import type { Layer } from '../../model/diagnosis.js';
import type { Flow } from '../../model/flow.js';
import { crossesLayer } from './cloud-reach.js';
import { ipvsApplies, type PathContext } from './context.js';
import { RACE_LAYER_NAME, flowRace, type FlowRace } from './flow-race.js';
import { flowState } from './flow-state.js';
import { flowKeepalive, type KeepaliveView } from './keepalive.js';
import { calicoLayer, ciliumLayer, conntrackLayer, ipvsLayer, type LayerView } from './layers.js';

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
  /** The timer race (flowRace): which layer forgets the flow before a keepalive re-arms it, and when. */
  readonly race?: FlowRace;
  /** The layer the race names (the one that forgets the flow, or races the keepalive). */
  readonly racing?: LayerView;
  /** The race says a keepalive re-arms every layer in time. */
  readonly safe: boolean;
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
        idleSource = `conntrack entry timer against the ${ct.layer.timeoutSec ?? '?'} s timeout that set it`;
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
        idleSource = `IPVS expire timer against its ${iv.layer.timeoutSec ?? '?'} s timeout`;
      }
    }
  }
  // Calico eBPF conntrack
  const cal = calicoLayer(ctx, f);
  if (cal) {
    layers.push(cal.layer);
    if (cal.activity > lastAct) {
      lastAct = cal.activity;
      idleSource = "Calico conntrack entry's age (Active ago)";
    }
  }
  // Cilium's BPF conntrack (kube-proxy replacement): raced after the external timers (screenPath's order)
  const ci = ciliumLayer(ctx, f);
  if (ci?.activity !== undefined && ci.activity > lastAct) {
    lastAct = ci.activity;
    idleSource = `Cilium CT entry timer against its ${ci.layer.timeoutSec ?? '?'} s timeout`;
  }
  const idleSec = lastAct >= 0 ? Math.max(0, Math.round((now - lastAct) / 1000)) : null;
  // external path: the layers this flow crosses
  for (const p of ctx.pathLayers) {
    if (!crossesLayer(t, p, f)) continue;
    layers.push({
      layer: p.layer,
      timeoutSec: p.timeoutSec,
      source: p.source,
      leftSec: idleSec === null ? null : p.timeoutSec - idleSec,
      ...(idleSec === null
        ? {}
        : { leftSource: `${p.timeoutSec} s minus idle (${idleSource || 'unknown'})` }),
      evidence: [],
      ...(p.behaviour ? { behaviour: p.behaviour } : {}),
      ...(p.keepaliveRefreshes ? {} : { noKeepaliveRefresh: true as const }),
    });
  }
  if (ci) layers.push(ci.layer);
  // Recompute leftSec of conntrack/IPVS/Cilium from the final idle when activity is newer than their reading.
  const fixed = layers.map((l) => {
    if (
      (l.layer === 'conntrack' ||
        l.layer === 'ipvs' ||
        l.layer === 'calico' ||
        l.layer === 'cilium') &&
      idleSec !== null &&
      l.timeoutSec !== null
    ) {
      const readAt =
        l.layer === 'conntrack'
          ? f.ctT
          : l.layer === 'calico'
            ? (cal?.readAt ?? -1)
            : l.layer === 'ipvs'
              ? (f.ipvs?.t ?? -1)
              : (ci?.readT ?? -1);
      if (lastAct > readAt || l.leftSec === null)
        return {
          ...l,
          leftSec: l.timeoutSec - idleSec,
          leftSource: `${l.timeoutSec} s minus idle (${idleSource || 'unknown'})`,
        };
    }
    return l;
  });
  const keepalive = flowKeepalive(ctx, f);
  const withTimeout = fixed.filter((l) => l.timeoutSec !== null);
  const order: Record<Layer, number> = {
    conntrack: 0,
    ipvs: 1,
    path: 2,
    cloud: 3,
    keepalive: 4,
    calico: 5,
    cilium: 6,
  };
  withTimeout.sort(
    (a, b) => (a.timeoutSec ?? 0) - (b.timeoutSec ?? 0) || order[a.layer] - order[b.layer],
  );
  const first = withTimeout[0];
  const race = flowRace(ctx, f, fixed, keepalive, {
    sec: idleSec,
    lastAct,
    source: idleSource || 'unknown',
  });
  const v = race.result.verdict;
  const racing =
    v.kind === 'safe' ? undefined : fixed.find((l) => RACE_LAYER_NAME[l.layer] === v.layer);
  const safe = v.kind === 'safe';
  const kaLayer: LayerView = {
    layer: 'keepalive',
    timeoutSec: null,
    source:
      keepalive.state === 'on'
        ? `keepalive every ${keepalive.idleSec} s idle (${keepalive.source})`
        : `keepalive ${keepalive.state} (${keepalive.source})`,
    leftSec:
      keepalive.state === 'on' && keepalive.idleSec !== null && idleSec !== null
        ? keepalive.idleSec - idleSec
        : null,
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
    race,
    ...(racing ? { racing } : {}),
    safe,
  };
}

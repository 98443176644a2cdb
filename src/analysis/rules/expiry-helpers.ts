// What a flow's timeline says about a conntrack expiry (FM-1, FM-4, FM-7): the DESTROY, the idle gap
// the flow really had, the timeout that was in force (from the events first, never one the
// observed gap contradicts), the mid-stream pickup and the resets that followed.
import type { Evidence } from '../../model/diagnosis.js';
import { endpointKey } from '../../model/endpoint.js';
import type { Flow } from '../../model/flow.js';
import { isProbeItem, TIMELINE_KIND_BIT, type TimelineItem } from '../../model/timeline.js';
import { sysctlInForce } from '../path/context.js';
import { evidence } from '../path/evidence.js';
import type { LayerView } from '../path/layers.js';
import type { PathTimeouts } from '../path/path-timeouts.js';
import { raceTimers, type RaceInput } from '../path/timer-race.js';
import type { FlowRace } from '../path/flow-race.js';
import { CT_MAX_RETRANS_TIMEOUT, CT_TCP_TIMEOUTS, CT_UNACK } from '../../model/kernel-defaults.js';
import type { RuleContext } from '../rule.js';
import { atRisk, diedAtRisk, fmtSec, itemEvidence } from '../rule.js';

/** An entry removed by its timer: DESTROY carries no remaining timeout (§2.6). */
export function isTimerDestroy(i: TimelineItem, state?: string): boolean {
  return (
    i.ctType === 'DESTROY' &&
    i.dir !== 'reply' &&
    i.ctTimeout === null &&
    !i.ctUserspace &&
    (state === undefined || i.ctState === state)
  );
}

/** A mid-stream pickup of the client's packet: `[NEW] … ESTABLISHED … [UNREPLIED]` (§2.3). */
export function isPickup(i: TimelineItem): boolean {
  return (
    i.ctType === 'NEW' && i.ctUnreplied === true && i.ctState === 'ESTABLISHED' && i.dir !== 'reply'
  );
}

/** The backend's packet picked up as a flow of its own (orig = backend → client): it left without reverse NAT. */
export function isReversePickup(i: TimelineItem): boolean {
  return i.ctType === 'NEW' && i.dir === 'reply';
}

/** A packet (or a kernel reaction to one) of the flow. */
function isPacket(i: TimelineItem): boolean {
  return i.kind === 'ct-new' || i.kind === 'drop' || i.kind === 'retransmit' || i.kind === 'reset';
}

/** The timeout conntrack applied, where the number came from, and whether observation contradicts it. */
export interface TimeoutFact {
  readonly value: number;
  readonly source: string;
  readonly evidence?: Evidence;
  /** True when only an upper bound from the observed idle gap is known. */
  readonly bound?: boolean;
}

export interface ExpiryFacts {
  readonly destroy: TimelineItem;
  readonly state: string;
  /** The flow's latest activity before the expiry (ms), -1 when unknown. */
  readonly lastAct: number;
  /** The first packet after the expiry, if any. */
  readonly next?: TimelineItem;
  /** Idle seconds the flow really had: last activity → next packet (or → DESTROY when none came). */
  readonly gapSec?: number;
  /** Upper bound of the timeout: the entry was gone by the DESTROY. */
  readonly maxSec?: number;
  readonly timeout: TimeoutFact;
  /** Set when data in flight clamped the timeout (FM-7): unacknowledged or retransmits. */
  readonly clamp?: 'unacknowledged' | 'retransmits';
  readonly retransmits: readonly TimelineItem[];
  readonly oldBackend: string;
  readonly pickup?: TimelineItem;
  readonly newBackend?: string;
  readonly repicked: boolean;
  readonly reversePickup?: TimelineItem;
  /** Passive resets answering the flow's packets after the expiry (any reason: NO_SOCKET, TCP_FLAGS at a listener). */
  readonly resets: readonly TimelineItem[];
  /** Resets the client received after the expiry. */
  readonly clientResets: readonly TimelineItem[];
  /** Drops after the expiry (INVALID with tcp_loose=0, un-NAT'ed packets…). */
  readonly dropsAfter: readonly TimelineItem[];
  readonly retransmitsAfter: readonly TimelineItem[];
}

function backendOf(i: TimelineItem): string {
  const r = i.ct?.entry.reply;
  return r ? endpointKey({ addr: r.src, port: r.sport ?? 0 }) : '?';
}

/**
 * The flow's last activity before an expiry. An expired entry is often destroyed only when the next
 * packet looks it up, and that packet may reach kdiag first: activity within 100 ms of the DESTROY is
 * that packet, not the last one before the idle gap.
 */
function lastActivityBefore(before: readonly TimelineItem[], destroy: TimelineItem): number {
  const edge = destroy.t - 100;
  let t =
    destroy.prevAct !== undefined && destroy.prevAct >= 0 && destroy.prevAct < edge
      ? destroy.prevAct
      : -1;
  for (const i of before) {
    if (i.t >= edge) continue;
    // Probe items are drops, resets, retransmits and state changes (isProbeItem): never status or activity.
    const packet = (i.ctType !== undefined && i.ctType !== 'DESTROY') || isProbeItem(i);
    if (packet && i.t > t) t = i.t;
  }
  return t;
}

/** Slack for comparing a timeout with an idle gap measured from sampled activity (ms clocks, snapshot lag). */
function slack(sec: number): number {
  return sec + 2 + 0.1 * sec;
}

/** The first timer expiry of the flow's entry in `state` and what followed it, or undefined. */
export function expiryFacts(
  ctx: RuleContext,
  f: Flow,
  state = 'ESTABLISHED',
): ExpiryFacts | undefined {
  // Most event flows never expired on a timer in this state: one scan per analysis tells, not one per rule.
  if (!timerDestroyed(ctx).get(state)?.has(f)) return undefined;
  const tl = f.timeline ?? [];
  let di = -1;
  for (let k = 0; k < tl.length; k++) {
    if (isTimerDestroy(tl[k] as TimelineItem, state)) {
      di = k;
      break;
    }
  }
  if (di < 0) return undefined;
  const destroy = tl[di] as TimelineItem;
  const before = tl.slice(0, di);
  const after = tl.slice(di + 1);
  const lastAct = lastActivityBefore(before, destroy);
  const next = after.find(isPacket);
  const gapEnd = next?.t ?? destroy.t;
  const gapSec = lastAct >= 0 ? (gapEnd - lastAct) / 1000 : undefined;
  const maxSec = lastAct >= 0 ? (destroy.t - lastAct) / 1000 : undefined;
  const scope = f.ctScope ?? destroy.scope;
  const pickup = after.find(isPickup);
  const oldBackend = backendOf(destroy);
  const newBackend = pickup ? backendOf(pickup) : undefined;
  const reversePickup = after.find(isReversePickup);
  const resets = after.filter(
    (i) =>
      i.kind === 'reset' &&
      i.probe?.kind === 'reset' &&
      i.probe.direction === 'sent' &&
      i.probe.mode === 'passive',
  );
  const clientResets = after.filter(
    (i) =>
      i.kind === 'reset' &&
      i.probe?.kind === 'reset' &&
      i.probe.direction === 'received' &&
      i.dir === 'orig',
  );
  const dropsAfter = after.filter((i) => i.kind === 'drop');
  const retransmitsAfter = after.filter((i) => i.kind === 'retransmit');
  // Data in flight just before the expiry: the sender was retransmitting.
  const lastEst = [...before]
    .reverse()
    .find((i) => i.ctType !== undefined && i.dir !== 'reply' && i.ctType !== 'DESTROY');
  const retransmits = before.filter(
    (i) => i.kind === 'retransmit' && (!lastEst || i.t >= lastEst.t),
  );

  const candidates = timeoutCandidates(ctx, tl, di, state, scope);
  const fits = (v: number) => maxSec === undefined || v <= slack(maxSec);
  let timeout = candidates.find((c) => fits(c.value));
  let clamp: ExpiryFacts['clamp'];
  if (state === 'ESTABLISHED' && retransmits.length > 0) {
    // §2.3: with unacknowledged data (or ≥ max_retrans retransmits) the ESTABLISHED timeout is clamped.
    const full = candidates[0]?.value;
    const unack = sysctlAt(ctx, CT_UNACK, scope, destroy.t);
    const rtx = sysctlAt(ctx, CT_MAX_RETRANS_TIMEOUT, scope, destroy.t);
    const clamped = Math.min(unack.value, rtx.value);
    if (full !== undefined && clamped < full && !fits(full) && fits(clamped)) {
      clamp =
        retransmits.length >= 3 && rtx.value <= unack.value ? 'retransmits' : 'unacknowledged';
      const c = clamp === 'retransmits' ? rtx : unack;
      timeout = {
        value: c.value,
        source: `${c.source} (clamp: ${clamp === 'retransmits' ? 'retransmitted data' : 'unacknowledged data'})`,
        ...(c.evidence ? { evidence: c.evidence } : {}),
      };
    }
  }
  if (!timeout) {
    const ub = Math.max(1, Math.floor(maxSec ?? 0));
    timeout = {
      value: ub,
      source: `observed: idle ${fmtSec(ub)} before the DESTROY; ${candidates.map((c) => `${c.source} = ${c.value}`).join(', ')} contradicted by it`,
      bound: true,
    };
  }
  return {
    destroy,
    state,
    lastAct,
    ...(next ? { next } : {}),
    ...(gapSec !== undefined ? { gapSec } : {}),
    ...(maxSec !== undefined ? { maxSec } : {}),
    timeout,
    ...(clamp ? { clamp } : {}),
    retransmits,
    oldBackend,
    ...(pickup ? { pickup } : {}),
    ...(newBackend ? { newBackend } : {}),
    repicked: newBackend !== undefined && newBackend !== oldBackend,
    ...(reversePickup ? { reversePickup } : {}),
    resets,
    clientResets,
    dropsAfter,
    retransmitsAfter,
  };
}

const TIMER_DESTROYED = new WeakMap<RuleContext, Map<string | null, Set<Flow>>>();

/** Per state, the event flows whose timeline has a timer DESTROY of an entry in that state; once per analysis. */
function timerDestroyed(ctx: RuleContext): Map<string | null, Set<Flow>> {
  let m = TIMER_DESTROYED.get(ctx);
  if (!m) {
    m = new Map();
    for (const f of ctx.eventFlows()) {
      if ((f.timelineKinds & TIMELINE_KIND_BIT['ct-destroy']) === 0) continue;
      for (const i of f.timeline ?? []) {
        // The kind first: a plain field, where isTimerDestroy reads getters.
        if (i.kind !== 'ct-destroy' || !isTimerDestroy(i)) continue;
        const st = i.ctState as string | null;
        let s = m.get(st);
        if (!s) {
          s = new Set();
          m.set(st, s);
        }
        s.add(f);
      }
    }
    TIMER_DESTROYED.set(ctx, m);
  }
  return m;
}

/** A sysctl as read at (or before) time t, with the kernel default when never read. */
function sysctlAt(
  ctx: RuleContext,
  spec: { sysctl: string; kernel: number },
  scope: string | undefined,
  t: number,
): TimeoutFact {
  const v = ctx.table.sysctlAt(spec.sysctl, scope, t);
  const n = v ? Number(v.value) : NaN;
  if (v && Number.isFinite(n))
    return {
      value: n,
      source: `sysctl ${spec.sysctl}${scope ? ` (netns ${scope})` : ''}`,
      evidence: evidence(v.t, v.src, `${spec.sysctl} = ${v.value}`),
    };
  const s = sysctlInForce(ctx.path, spec, scope);
  return { value: s.value, source: s.source, ...(s.evidence ? { evidence: s.evidence } : {}) };
}

/** Timeout candidates, best first: the entry's own events, the pickup's, the sysctl read at the time. */
function timeoutCandidates(
  ctx: RuleContext,
  tl: readonly TimelineItem[],
  di: number,
  state: string,
  scope: string | undefined,
): TimeoutFact[] {
  const out: TimeoutFact[] = [];
  const destroy = tl[di] as TimelineItem;
  // The last event that put the entry into the state carries the timeout conntrack set then.
  const set = tl
    .slice(0, di)
    .reverse()
    .find(
      (i) =>
        i.ctType !== undefined &&
        i.ctType !== 'DESTROY' &&
        i.dir !== 'reply' &&
        i.ctState === state &&
        !i.ctUnreplied &&
        i.ctTimeout !== null,
    );
  if (set?.ct && set.ct.entry.timeout !== null) {
    out.push({
      value: set.ct.entry.timeout,
      source: `the timeout conntrack set on the entry ([${set.ct.type}] … ${set.ct.entry.timeout} ${state})`,
      evidence: itemEvidence(
        set,
        `conntrack set the ${state} timeout to ${set.ct.entry.timeout} s`,
      ),
    });
  }
  const spec = CT_TCP_TIMEOUTS[state];
  if (state === 'ESTABLISHED') {
    // A loose pickup gets min(established, unacknowledged): below the unacknowledged timeout it is the established one.
    const pk = tl.slice(di + 1).find((i) => isPickup(i) && i.ctTimeout !== null);
    const unack = sysctlAt(ctx, CT_UNACK, scope, destroy.t);
    const v = pk?.ct?.entry.timeout;
    if (pk && v !== null && v !== undefined && v < unack.value) {
      out.push({
        value: v,
        source: `the pickup's timeout min(established, unacknowledged) ([NEW] … ${v} ESTABLISHED [UNREPLIED])`,
        evidence: itemEvidence(
          pk,
          `picked up with timeout ${v} s: the ESTABLISHED timeout in force`,
        ),
      });
    }
  }
  if (spec) out.push(sysctlAt(ctx, spec, scope, destroy.t));
  return out;
}

/** Seconds, to one decimal under 10 s. */
export function fmtGap(sec: number): string {
  return sec < 10 ? `${(Math.round(sec * 10) / 10).toFixed(1)} s` : fmtSec(sec);
}

const RISK_CACHE = new WeakMap<RuleContext, PathTimeouts[]>();

/**
 * Flows at risk now, plus flows that already died the way they were at risk of: their ESTABLISHED
 * entry expired while nothing refreshed it. The latter keep the configuration findings that
 * predicted their death (a recording then replays to the findings a live run showed).
 */
export function riskPaths(ctx: RuleContext): PathTimeouts[] {
  const hit = RISK_CACHE.get(ctx);
  if (hit) return hit;
  const live = ctx.livePaths().filter(atRisk);
  // A live path on a clamp is left to the clamp rules: its death before the clamp still counts here.
  const ids = new Set(live.filter((p) => p.first?.clamp === undefined).map((p) => p.flow));
  const dead: PathTimeouts[] = [];
  for (const f of ctx.eventFlows()) {
    if (ids.has(f)) continue;
    const x = expiryFacts(ctx, f, 'ESTABLISHED');
    if (!x || x.clamp) continue;
    const p = expiredPath(ctx.pathOf(f), x);
    if (diedAtRisk(p)) dead.push(p);
  }
  const out = [...live, ...dead];
  RISK_CACHE.set(ctx, out);
  return out;
}

/** The flow's path as it was when its conntrack entry expired. */
export function expiredPath(base: PathTimeouts, x: ExpiryFacts): PathTimeouts {
  const layer: LayerView = {
    layer: 'conntrack',
    timeoutSec: x.timeout.value,
    source: x.timeout.source,
    leftSec: 0,
    evidence: [
      itemEvidence(x.destroy, 'the entry expired'),
      ...(x.timeout.evidence ? [x.timeout.evidence] : []),
    ],
  };
  const k = base.keepalive;
  const idle = x.gapSec ?? x.maxSec;
  const ka = base.layers.find((l) => l.layer === 'keepalive');
  const race = expiredRace(base, x.timeout);
  return {
    flow: base.flow,
    id: base.id,
    live: false,
    expired: true,
    state: 'ESTABLISHED',
    idleSec: idle === undefined ? null : Math.round(idle),
    idleSource: 'idle gap before the expiry',
    lastActivity: x.lastAct >= 0 ? x.lastAct : null,
    keepalive: k,
    layers: ka ? [ka, layer] : [layer],
    first: layer,
    // The same race a live flow is judged by, so post-mortem and prediction cannot disagree.
    safe: race.result.verdict.kind === 'safe',
  };
}

/**
 * The race the flow ran from its last packet before the expiry: every layer freshly re-armed, its
 * conntrack layer to the timeout that was in force then, each socket just heard from. Its verdict is
 * what a live flow with the same timers would have been told.
 */
export function expiredRace(base: PathTimeouts, timeout: TimeoutFact): FlowRace {
  const from = base.race?.input;
  const others = (from?.layers ?? []).filter((l) => l.name !== 'conntrack');
  const input: RaceInput = {
    layers: [
      {
        name: 'conntrack',
        deadlineS: { value: timeout.value, source: 'freshly re-armed by the last packet' },
        rearmS: { value: timeout.value, source: timeout.source },
      },
      ...others.map((l) => ({
        name: l.name,
        deadlineS: { value: l.rearmS.value, source: 'freshly re-armed by the last packet' },
        rearmS: l.rearmS,
      })),
    ],
    sockets: (from?.sockets ?? []).map((s) => ({
      ...s,
      idleS: { value: 0, source: 'the last packet before the expiry' },
    })),
  };
  return { input, result: raceTimers(input) };
}

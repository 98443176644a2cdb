// A cheap first pass over every live flow: whether it can be at risk, from plain numbers.
import type { Flow } from '../../model/flow.js';
import {
  CT_TCP_TIMEOUTS,
  CT_UDP,
  CT_UDP_STREAM,
  IPVS_FIXED,
  KA_INTVL,
  KA_TIME,
} from '../../model/kernel-defaults.js';
import { conntrackClamp, entryTimeoutItem } from './clamp.js';
import { ciliumNumbers } from './cilium-context.js';
import { crossesLayer } from './cloud-reach.js';
import { ipvsApplies, ipvsTimeoutsInForce, sysctlInForce, type PathContext } from './context.js';
import { keepSeconds, raceDeadline, raceRearm, socketIdleS } from './flow-race.js';
import { flowState } from './flow-state.js';
import { calicoLayer } from './layers.js';
import { firstProbeAt, raceCore } from './timer-race.js';

// Scratch for the race (conntrack, IPVS, Calico, Cilium and the path and cloud timers; 2 sockets): no allocation per flow.
const DEADLINES = new Float64Array(8);
const REARMS = new Float64Array(8);
const STARTS = new Float64Array(2);
const STEPS = new Float64Array(2);
const WORK = new Float64Array(10);
const OUT = new Float64Array(3);

/**
 * The numbers of pathTimeouts(ctx, f) that decide whether a live flow matters to the rules, computed
 * without building the path (no layer objects, evidence, source strings or id): `NOT_AT_RISK` when
 * the path is neither at risk for a prediction (`predictable`: a first layer with a timeout,
 * ESTABLISHED, and the timer race (raceCore, as flowRace runs it) says a layer forgets the flow)
 * nor clamped, else its time to break (`breaksIn`).
 * It mirrors pathTimeouts step by step, with the same arithmetic; test/analysis/screen.test.ts checks
 * that the two agree on every flow of the fixtures. `flags[0]`, when given, is set to 1 when the
 * flow is at risk for a prediction (predictable), 0 otherwise.
 */
export function screenPath(ctx: PathContext, f: Flow, flags?: Uint8Array): number {
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
            if (remaining !== null && remaining <= fullT && !inserted)
              activity = ctT - (fullT - remaining) * 1000;
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
  // Calico eBPF conntrack, as calicoLayer gives it to pathTimeouts.
  let calTo = NaN;
  let calLeft: number | null = null;
  let calT = -1;
  const cal = calicoLayer(ctx, f);
  if (cal && cal.layer.timeoutSec !== null) {
    calTo = cal.layer.timeoutSec;
    calLeft = cal.layer.leftSec;
    calT = cal.readAt;
    if (cal.activity > lastAct) lastAct = cal.activity;
  }
  // Cilium's BPF conntrack, as ciliumLayer reads it (undefined without Cilium input: no cost).
  const ci = ciliumNumbers(ctx, f);
  if (ci?.activity !== undefined && ci.activity > lastAct) lastAct = ci.activity;
  const idleSec = lastAct >= 0 ? Math.max(0, Math.round((now - lastAct) / 1000)) : null;
  const ciLeft =
    ci === undefined
      ? null
      : idleSec !== null && (lastAct > ci.readT || ci.leftSec === null)
        ? ci.timeoutSec - idleSec
        : ci.leftSec;
  // The first layer: conntrack, then IPVS, then the external timers; a later one only on a smaller timeout.
  let firstTo = NaN;
  let firstLeft: number | null = null;
  if (ctTo === ctTo) {
    firstTo = ctTo;
    firstLeft = idleSec !== null && (lastAct > ctT || ctLeft === null) ? ctTo - idleSec : ctLeft;
  }
  if (ivTo === ivTo && !(firstTo <= ivTo)) {
    firstTo = ivTo;
    firstLeft =
      idleSec !== null && (lastAct > (f.ipvs?.t ?? -1) || ivLeft === null)
        ? ivTo - idleSec
        : ivLeft;
  }
  const pl = ctx.pathLayers;
  for (const p of pl) {
    if (!crossesLayer(ctx.table, p, f)) continue;
    if (!(firstTo <= p.timeoutSec)) {
      firstTo = p.timeoutSec;
      firstLeft = idleSec === null ? null : p.timeoutSec - idleSec;
    }
  }
  if (calTo === calTo && !(firstTo <= calTo)) {
    firstTo = calTo;
    firstLeft =
      idleSec !== null && (lastAct > calT || calLeft === null) ? calTo - idleSec : calLeft;
  }
  // Cilium sorts after the others on a tie (pathTimeouts' order), so only a smaller timeout wins.
  if (ci !== undefined && !(firstTo <= ci.timeoutSec)) {
    firstTo = ci.timeoutSec;
    firstLeft = ciLeft;
  }
  const hasFirst = firstTo === firstTo;
  // The race's layers, as flowRace builds them: each layer's deadline now and its re-arm timeout.
  let nl = 0;
  if (ctTo === ctTo)
    nl = addLayer(
      nl,
      idleSec,
      ctTo,
      idleSec !== null && (lastAct > ctT || ctLeft === null) ? ctTo - idleSec : ctLeft,
    );
  if (ivTo === ivTo)
    nl = addLayer(
      nl,
      idleSec,
      ivTo,
      idleSec !== null && (lastAct > (f.ipvs?.t ?? -1) || ivLeft === null)
        ? ivTo - idleSec
        : ivLeft,
    );
  if (calTo === calTo)
    nl = addLayer(
      nl,
      idleSec,
      calTo,
      idleSec !== null && (lastAct > calT || calLeft === null) ? calTo - idleSec : calLeft,
    );
  // A proxy's timer keepalive never re-arms: its deadline stands whatever the probes do.
  let fixedAt = NaN;
  for (const p of pl) {
    if (!crossesLayer(ctx.table, p, f)) continue;
    const left = idleSec === null ? null : p.timeoutSec - idleSec;
    if (p.keepaliveRefreshes) nl = addLayer(nl, idleSec, p.timeoutSec, left);
    else {
      const rearm = raceRearm(p.timeoutSec);
      if (rearm === rearm) {
        const at = raceDeadline(rearm, left, idleSec);
        if (!(fixedAt <= at)) fixedAt = at;
      }
    }
  }
  if (ci !== undefined) nl = addLayer(nl, idleSec, ci.timeoutSec, ciLeft);
  // The sockets that probe, with their keepalive as socketKeepalive reads it (probe, else ss timer).
  let ns = 0;
  for (let side = 0; side < 2; side++) {
    const s = side === 0 ? f.client : f.server;
    if (!s) continue;
    let keepIdle = NaN;
    let intvl = NaN;
    if (s.probeKa) {
      const k = s.probeKa;
      if (k.enabled) {
        keepIdle = k.idleSec > 0 ? k.idleSec : sysctlInForce(ctx, KA_TIME, s.scope).value;
        intvl = k.intervalSec > 0 ? k.intervalSec : sysctlInForce(ctx, KA_INTVL, s.scope).value;
      }
    } else if (s.fromSs && s.kaEstimateMs >= 0) {
      const kt = sysctlInForce(ctx, KA_TIME, s.scope).value;
      const est = Math.ceil(s.kaEstimateMs / 1000);
      keepIdle = est <= kt && est >= 0.9 * kt ? kt : est;
      intvl = sysctlInForce(ctx, KA_INTVL, s.scope).value;
    }
    if (keepIdle !== keepIdle) continue;
    keepIdle = keepSeconds(keepIdle);
    intvl = keepSeconds(intvl);
    const idle = socketIdleS(now, s, lastAct);
    STARTS[ns] = firstProbeAt(idle === idle ? idle : 0, keepIdle, intvl);
    STEPS[ns++] = Math.max(keepIdle, intvl);
  }
  // breaks/at-risk: the time the race says a layer forgets the flow; NaN: safe or fragile.
  let raceIn = NaN;
  if (nl > 0) {
    if (ns === 0) {
      raceIn = DEADLINES[0]!;
      for (let i = 1; i < nl; i++) if (DEADLINES[i]! < raceIn) raceIn = DEADLINES[i]!;
    } else if (raceCore(DEADLINES, REARMS, nl, STARTS, STEPS, ns, WORK, OUT) >= 0) {
      raceIn = OUT[0]!;
    }
  }
  if (fixedAt === fixedAt && !(raceIn <= fixedAt)) raceIn = fixedAt;
  // predictable(p): live (the caller's test) and diedAtRisk(p, {ESTABLISHED}).
  const predicts = hasFirst && state === 'ESTABLISHED' && raceIn === raceIn;
  // flags[0]: predictable(p) alone, without the clamp (what the at-risk count counts).
  if (flags) flags[0] = predicts ? 1 : 0;
  const hit = clamped || predicts;
  if (!hit) return NOT_AT_RISK;
  if (!hasFirst) return Infinity;
  if (raceIn === raceIn) return Math.max(0, Math.round(raceIn));
  const left = firstLeft ?? (idleSec !== null ? firstTo - idleSec : firstTo);
  return Math.max(0, Math.round(left));
}

/** Puts a layer in the race scratch as flowRace would (none without a usable timeout); the new count. */
function addLayer(nl: number, idleSec: number | null, to: number, left: number | null): number {
  const rearm = raceRearm(to);
  if (rearm !== rearm) return nl;
  DEADLINES[nl] = raceDeadline(rearm, left, idleSec);
  REARMS[nl] = rearm;
  return nl + 1;
}

/** screenPath's answer for a flow no rule lists as live. */
export const NOT_AT_RISK = -1;

// A cheap first pass over every live flow: whether it can be at risk, from plain numbers.
import { isLoopback, isPrivateAddr } from '../../model/cloud-presets.js';
import type { Flow } from '../../model/flow.js';
import { CT_TCP_TIMEOUTS, CT_UDP, CT_UDP_STREAM, IPVS_FIXED, KA_TIME } from '../../model/kernel-defaults.js';
import { conntrackClamp, entryTimeoutItem } from './clamp.js';
import { ipvsApplies, ipvsTimeoutsInForce, sysctlInForce, type PathContext } from './context.js';
import { flowState } from './flow-state.js';

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
    const c = t.addr(f.clientAddrId);
    const tg = t.addr(f.targetAddrId);
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

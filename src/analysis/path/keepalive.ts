// Keepalive of a flow's sockets: from the probe, else the ss timer, with the netns sysctls in force.
import type { Evidence } from '../../model/diagnosis.js';
import type { Flow, SocketSide } from '../../model/flow.js';
import { KA_INTVL, KA_PROBES, KA_TIME } from '../../model/kernel-defaults.js';
import { probeEventText, probeWhere } from '../../model/probe-text.js';
import { sysctlInForce, type PathContext } from './context.js';
import { evidence } from './evidence.js';

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

/** Keepalive of one socket: from the probe, else the ss timer, else unknown. */
export function socketKeepalive(
  ctx: PathContext,
  side: 'client' | 'server',
  s: SocketSide,
): SocketKeepaliveView {
  const scope = s.scope;
  const kt = sysctlInForce(ctx, KA_TIME, scope);
  const ki = sysctlInForce(ctx, KA_INTVL, scope);
  const kn = sysctlInForce(ctx, KA_PROBES, scope);
  const netns =
    kt.evidence && ctx.table.sysctl(KA_TIME.sysctl, scope)
      ? { netnsIdleSec: kt.value, netnsEvidence: kt.evidence }
      : {};
  const base = { side, scope, ...netns };
  if (s.probeKa) {
    const k = s.probeKa;
    const kaEv = s.probeKaEvent;
    const e = [
      evidence(
        s.probeKaT,
        s.probeKaSrc,
        kaEv
          ? probeEventText(kaEv, probeWhere(kaEv, s.probeKaScope))
          : 'keepalive read from the socket by the probe',
      ),
    ];
    if (!k.enabled) {
      return {
        ...base,
        state: 'off',
        idleSec: null,
        intervalSec: ki.value,
        probes: kn.value,
        source: 'probe: SO_KEEPALIVE not set on the socket',
        evidence: e,
      };
    }
    const common = {
      ...base,
      state: 'on' as const,
      intervalSec: k.intervalSec > 0 ? k.intervalSec : ki.value,
      probes: k.probes > 0 ? k.probes : kn.value,
    };
    if (k.idleSec > 0)
      return {
        ...common,
        idleSec: k.idleSec,
        source: 'probe: per-socket TCP_KEEPIDLE',
        evidence: e,
      };
    // 0 = the netns sysctl; when kdiag never read it, the ss timer it did read says more than the kernel default.
    const est = ssKeepaliveSec(s);
    if (!kt.evidence && est !== undefined)
      return {
        ...common,
        idleSec: est,
        source: 'probe: SO_KEEPALIVE on, ss keepalive timer (largest remaining seen)',
        evidence: [...e, evidence(s.t, s.src, s.raw)],
      };
    return {
      ...common,
      idleSec: kt.value,
      source: `probe: SO_KEEPALIVE on, ${kt.source}`,
      evidence: kt.evidence ? [...e, kt.evidence] : e,
    };
  }
  if (s.fromSs) {
    const e = [evidence(s.t, s.src, s.raw)];
    const est = ssKeepaliveSec(s);
    if (est !== undefined) {
      // The timer only shows the time to the next check; its maximum ≈ TCP_KEEPIDLE. A sysctl kdiag
      // did not read (the kernel default) never replaces what the timer showed.
      const useSysctl = kt.evidence !== undefined && est <= kt.value && est >= 0.9 * kt.value;
      const idle = useSysctl ? kt.value : est;
      return {
        ...base,
        state: 'on',
        idleSec: idle,
        intervalSec: ki.value,
        probes: kn.value,
        source: useSysctl
          ? `ss keepalive timer, ${kt.source}`
          : 'ss keepalive timer (largest remaining seen)',
        evidence: useSysctl && kt.evidence ? [...e, kt.evidence] : e,
      };
    }
    if (s.noTimerSamples > 0 && s.noTimerSamples === s.samples) {
      return {
        ...base,
        state: 'off',
        idleSec: null,
        intervalSec: ki.value,
        probes: kn.value,
        source: 'ss: no keepalive timer (SO_KEEPALIVE not set)',
        evidence: e,
      };
    }
  }
  return {
    ...base,
    state: 'unknown',
    idleSec: null,
    intervalSec: ki.value,
    probes: kn.value,
    source: 'not observed',
    evidence: [],
  };
}

/** The largest keepalive idle the ss timer showed on the socket, s; undefined when it never showed one. */
function ssKeepaliveSec(s: SocketSide): number | undefined {
  return s.fromSs && s.kaEstimateMs >= 0 ? Math.ceil(s.kaEstimateMs / 1000) : undefined;
}

/** Keepalive in force on a flow: either socket's keepalive refreshes every layer on the path. */
export function flowKeepalive(ctx: PathContext, f: Flow): KeepaliveView {
  const sockets: SocketKeepaliveView[] = [];
  if (f.client) sockets.push(socketKeepalive(ctx, 'client', f.client));
  if (f.server) sockets.push(socketKeepalive(ctx, 'server', f.server));
  const on = sockets
    .filter((s) => s.state === 'on' && s.idleSec !== null)
    .sort((a, b) => (a.idleSec ?? 0) - (b.idleSec ?? 0));
  const best = on[0];
  if (best)
    return {
      state: 'on',
      idleSec: best.idleSec,
      intervalSec: best.intervalSec,
      probes: best.probes,
      source: `${best.side} socket: ${best.source}`,
      sockets,
    };
  const off = sockets.find((s) => s.state === 'off');
  if (off)
    return {
      state: 'off',
      idleSec: null,
      intervalSec: off.intervalSec,
      probes: off.probes,
      source: `${off.side} socket: ${off.source}`,
      sockets,
    };
  return {
    state: 'unknown',
    idleSec: null,
    intervalSec: KA_INTVL.kernel,
    probes: KA_PROBES.kernel,
    source: 'no socket observed',
    sockets,
  };
}

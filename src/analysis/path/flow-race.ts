// The one place a flow's fate is decided (issue 19): the race input built from what the kernel
// holds for this flow, run through raceTimers. pathTimeouts calls flowRace; screenPath decides with
// the same numbers (raceDeadline, raceRearm, socketIdleS) and the same raceCore.
import type { Flow, SocketSide } from '../../model/flow.js';
import type { PathContext } from './context.js';
import type { KeepaliveView } from './keepalive.js';
import type { LayerView } from './layers.js';
import {
  raceTimers,
  type RaceInput,
  type RaceLayer,
  type RaceResult,
  type RaceSocket,
} from './timer-race.js';

/** A flow's race: its input (what each layer and socket holds now) and the verdict. */
export interface FlowRace {
  readonly input: RaceInput;
  readonly result: RaceResult;
}

/** What the race calls each layer (its verdict's reason quotes it). */
export const RACE_LAYER_NAME: Readonly<Record<LayerView['layer'], string>> = {
  conntrack: 'conntrack',
  ipvs: 'IPVS',
  path: 'the path idle timer',
  cloud: 'the cloud idle timer',
  keepalive: 'keepalive',
  calico: "Calico's eBPF conntrack",
  cilium: 'Cilium conntrack',
};

/** The timeout a layer re-arms to, when it races at all (a layer with no usable timeout does not). */
export function raceRearm(timeoutSec: number | null): number {
  return timeoutSec !== null && timeoutSec > 0 && Number.isFinite(timeoutSec) ? timeoutSec : NaN;
}

/**
 * Seconds the layer still holds the flow: its own timer left from the last reading, or (activity
 * newer than the reading, or no reading) the timeout minus the flow's idle time. An existing entry
 * keeps its deadline until its next packet (docs/kernel-timers.md §b).
 */
export function raceDeadline(
  timeoutSec: number,
  leftSec: number | null,
  idleSec: number | null,
): number {
  const left = leftSec ?? (idleSec !== null ? timeoutSec - idleSec : timeoutSec);
  return left > 0 ? left : 0;
}

/**
 * Seconds since the socket last received anything, what its keepalive timer measures
 * (keepalive_time_elapsed: the smaller of ss lastrcv and lastack), moved on to `now`; activity of the
 * flow seen after that reading (`lastAct`, ms; any packet is answered) when newer; without an ss
 * reading, the flow's last activity; NaN when nothing is known.
 */
export function socketIdleS(now: number, s: SocketSide, lastAct: number): number {
  let idle = NaN;
  if (s.fromSs) {
    const r = Math.min(s.lastrcvMs ?? Infinity, s.lastackMs ?? Infinity);
    if (r !== Infinity) idle = (r + now - s.t) / 1000;
  }
  if (lastAct >= 0 && (idle !== idle || lastAct > s.t)) {
    const since = (now - lastAct) / 1000;
    if (!(idle <= since)) idle = since;
  }
  return idle > 0 ? idle : idle === idle ? 0 : NaN;
}

/** The kernel refuses TCP_KEEPIDLE/TCP_KEEPINTVL below 1 s; an estimate below that is read as 1 s. */
export function keepSeconds(n: number): number {
  return n >= 1 ? n : 1;
}

/** Builds the race from a flow's path (its layers, idle time and keepalive) and runs it. */
export function flowRace(
  ctx: PathContext,
  f: Flow,
  layers: readonly LayerView[],
  keepalive: KeepaliveView,
  idle: { sec: number | null; lastAct: number; source: string },
): FlowRace {
  const idleSec = idle.sec;
  const idleSource = idle.source;
  const raceLayers: RaceLayer[] = [];
  // A proxy's timer that keepalive never re-arms: it closes the flow at its deadline whatever
  // the probes do, unless the race already breaks the flow sooner.
  let fixed: { name: string; atS: number; rearm: number; source: string } | undefined;
  for (const l of layers) {
    if (l.layer === 'keepalive') continue;
    const rearm = raceRearm(l.timeoutSec);
    if (rearm !== rearm) continue;
    if (l.noKeepaliveRefresh) {
      const atS = raceDeadline(rearm, l.leftSec, idleSec);
      if (fixed === undefined || atS < fixed.atS)
        fixed = { name: RACE_LAYER_NAME[l.layer], atS, rearm, source: l.source };
      continue;
    }
    const fromTimer = l.leftSec !== null;
    raceLayers.push({
      name: RACE_LAYER_NAME[l.layer],
      deadlineS: {
        value: raceDeadline(rearm, l.leftSec, idleSec),
        source: fromTimer
          ? (l.leftSource ?? `${l.layer} timer`)
          : idleSec !== null
            ? `${rearm} s minus idle (${idleSource})`
            : 'no reading: a full timeout',
      },
      rearmS: { value: rearm, source: l.source },
    });
  }
  const sockets: RaceSocket[] = [];
  for (const k of keepalive.sockets) {
    if (k.state === 'unknown') continue;
    const s = k.side === 'client' ? f.client : f.server;
    if (!s) continue;
    const sIdle = socketIdleS(ctx.now, s, idle.lastAct);
    const rcv =
      s.fromSs && (s.lastrcvMs !== undefined || s.lastackMs !== undefined) && !(idle.lastAct > s.t);
    sockets.push({
      side: k.side,
      keepalive: k.state === 'on',
      keepIdleS: { value: keepSeconds(k.idleSec ?? 0), source: k.source },
      keepIntvlS: { value: keepSeconds(k.intervalSec), source: k.source },
      probes: { value: k.probes > 0 ? k.probes : 1, source: k.source },
      idleS: {
        value: sIdle === sIdle ? sIdle : 0,
        source: sIdle !== sIdle ? 'not known: taken as 0' : rcv ? 'ss lastrcv/lastack' : idleSource,
      },
    });
  }
  const input: RaceInput = { layers: raceLayers, sockets };
  const result = raceTimers(input);
  return { input, result: fixed ? withFixedDeadline(result, fixed) : result };
}

/** The race's verdict once a timer keepalive cannot re-arm is counted: it wins when it comes first. */
function withFixedDeadline(
  r: RaceResult,
  x: { name: string; atS: number; rearm: number; source: string },
): RaceResult {
  const v = r.verdict;
  if ((v.kind === 'breaks' || v.kind === 'at-risk') && v.inS <= x.atS) return r;
  return {
    ...r,
    verdict: {
      kind: 'breaks',
      layer: x.name,
      inS: x.atS,
      lateRefreshS: undefined,
      socketsGiveUp: [],
      reason: `${x.name} closes the flow in ${Math.round(x.atS * 10) / 10} s (${x.source}): its ${x.rearm} s idle timeout counts application data only, so TCP keepalive does not re-arm it`,
    },
  };
}

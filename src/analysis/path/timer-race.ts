// A flow's fate is a race of timers: each layer on the path forgets the flow when its deadline
// passes, each keepalive probe (and its ACK) re-arms every layer. The first layer whose deadline
// comes at or before the next refresh decides when the flow breaks. Pure: time is "seconds from
// now", given by the caller.
import { InputError } from '../../errors.js';
import type {
  RaceChange,
  RaceInput,
  RaceLayer,
  RaceResult,
  RaceSocket,
  Refresh,
} from './timer-race-types.js';

export type {
  RaceChange,
  RaceInput,
  RaceLayer,
  RaceResult,
  RaceSocket,
  RaceVerdict,
  Refresh,
  Sourced,
} from './timer-race-types.js';

/**
 * tcp_keepalive_timer() re-arms for keepintvl after a probe; when the timer fires the probe was
 * answered (rcv_tstamp moved), so keepalive_time_elapsed() is below keepidle and the timer waits
 * out the rest of keepidle. Measured in docs/kernel-timers.md: probes every 5 s with idle 2/intvl 5,
 * every 4 s with idle 4/intvl 1. The round trip it adds when intvl < idle is left out (veth: ~0).
 */
export const KEEPALIVE_RULE =
  'answered probes repeat every max(keepidle, keepintvl) (tcp_keepalive_timer, docs/kernel-timers.md)';

// Two sides' schedules interleave; enough events to see each side's steady gap several times.
const MAX_EVENTS = 4096;

/** Seconds from now of a socket's next keepalive probe, given how long it has received nothing. */
export function firstProbeS(s: RaceSocket): number {
  return firstProbeAt(s.idleS.value, s.keepIdleS.value, s.keepIntvlS.value);
}

/** firstProbeS on plain numbers (screenPath runs it per flow without building a RaceSocket). */
export function firstProbeAt(idle: number, keepIdle: number, intvl: number): number {
  if (idle < keepIdle) return keepIdle - idle;
  // Idle past keepidle means probes are going out unanswered: they come every keepintvl.
  return (intvl - ((idle - keepIdle) % intvl)) % intvl;
}

/** The period between a socket's probes once they are answered (the measured kernel rule). */
export function answeredPeriodS(s: RaceSocket): number {
  return Math.max(s.keepIdleS.value, s.keepIntvlS.value);
}

/** raceCore's answer when no layer breaks and one side alone keeps every layer. */
export const RACE_SAFE = -1;
/** raceCore's answer when no layer breaks but no side alone probes inside every layer's timeout. */
export const RACE_FRAGILE = -2;

/**
 * The race on plain numbers, without allocating: layer i holds `deadlines[i]` seconds now and re-arms
 * to `rearms[i]`; socket j probes first at `starts[j]` and then every `steps[j]`. Returns the index
 * of the layer that forgets the flow (out[0] = when, out[1] = the refresh that came too late, out[2] =
 * its socket), else RACE_SAFE or RACE_FRAGILE. `work` holds nl + ns numbers. raceTimers and
 * screenPath both decide with it, so the cheap screen and the full path cannot disagree.
 */
export function raceCore(
  deadlines: ArrayLike<number>,
  rearms: ArrayLike<number>,
  nl: number,
  starts: ArrayLike<number>,
  steps: ArrayLike<number>,
  ns: number,
  work: Float64Array,
  out: Float64Array,
): number {
  let maxRearm = -Infinity;
  let minRearm = Infinity;
  let maxDeadline = -Infinity;
  for (let i = 0; i < nl; i++) {
    work[i] = deadlines[i]!;
    if (rearms[i]! > maxRearm) maxRearm = rearms[i]!;
    if (rearms[i]! < minRearm) minRearm = rearms[i]!;
    if (deadlines[i]! > maxDeadline) maxDeadline = deadlines[i]!;
  }
  let maxStart = -Infinity;
  let maxStep = -Infinity;
  let minStep = Infinity;
  for (let j = 0; j < ns; j++) {
    work[nl + j] = 0;
    if (starts[j]! > maxStart) maxStart = starts[j]!;
    if (steps[j]! > maxStep) maxStep = steps[j]!;
    if (steps[j]! < minStep) minStep = steps[j]!;
  }
  // Far enough that every side has probed twice after every layer's current deadline and re-arm.
  const end = maxStart + 2 * maxStep + Math.max(maxRearm, maxDeadline);
  for (let events = 0; events < MAX_EVENTS; events++) {
    let next = -1;
    let at = 0;
    for (let j = 0; j < ns; j++) {
      const t = starts[j]! + work[nl + j]! * steps[j]!;
      if (t <= end && (next < 0 || t < at)) {
        next = j;
        at = t;
      }
    }
    if (next < 0) break;
    let worst = -1;
    for (let i = 0; i < nl; i++) {
      // A deadline equal to the refresh is a race the flow may lose: it counts as lost.
      if (work[i]! <= at && (worst < 0 || work[i]! < work[worst]!)) worst = i;
    }
    if (worst >= 0) {
      out[0] = work[worst]!;
      out[1] = at;
      out[2] = next;
      return worst;
    }
    for (let i = 0; i < nl; i++) work[i] = at + rearms[i]!;
    work[nl + next]!++;
  }
  // Each side's own period is what is guaranteed: the two schedules drift against each other.
  return minStep >= minRearm ? RACE_FRAGILE : RACE_SAFE;
}

/** Runs the race: which layer, if any, forgets the flow before a keepalive re-arms it, and when. */
export function raceTimers(input: RaceInput): RaceResult {
  check(input);
  const probing = input.sockets.filter((s) => s.keepalive);
  const periods = probing.map((s) => ({
    side: s.side,
    periodS: answeredPeriodS(s),
    source: `max(keepidle ${fmt(s.keepIdleS.value)} s from ${s.keepIdleS.source}, keepintvl ${fmt(s.keepIntvlS.value)} s from ${s.keepIntvlS.source})`,
  }));
  if (input.layers.length === 0) {
    return {
      verdict: { kind: 'safe', longestGapS: 0, reason: 'no layer on the path holds a timer' },
      refreshes: [],
      periods,
    };
  }
  if (probing.length === 0) return { verdict: noKeepalive(input), refreshes: [], periods };

  const refreshes = schedule(probing, input.layers);
  const nl = input.layers.length;
  const out = new Float64Array(3);
  const hit = raceCore(
    input.layers.map((l) => l.deadlineS.value),
    input.layers.map((l) => l.rearmS.value),
    nl,
    probing.map(firstProbeS),
    probing.map(answeredPeriodS),
    probing.length,
    new Float64Array(nl + probing.length),
    out,
  );
  if (hit >= 0)
    return {
      verdict: broken(input, probing, hit, out[0]!, { atS: out[1]!, side: probing[out[2]!]!.side }),
      refreshes,
      periods,
    };

  const best = periods.reduce((a, b) => (b.periodS < a.periodS ? b : a));
  if (hit === RACE_FRAGILE) {
    const l = input.layers.find((x) => best.periodS >= x.rearmS.value)!;
    return {
      verdict: {
        kind: 'fragile',
        layer: l.name,
        reason: `${l.name} re-arms to ${fmt(l.rearmS.value)} s (${l.rearmS.source}); each side alone probes only every ${fmt(best.periodS)} s or slower, so the flow lives only while the two sides' probes interleave`,
      },
      refreshes,
      periods,
    };
  }
  const tightest = input.layers.reduce((a, b) => (b.rearmS.value < a.rearmS.value ? b : a));
  return {
    verdict: {
      kind: 'safe',
      longestGapS: best.periodS,
      reason: `${best.side} probes every ${fmt(best.periodS)} s (${best.source}), inside ${tightest.name}'s ${fmt(tightest.rearmS.value)} s (${tightest.rearmS.source})`,
    },
    refreshes,
    periods,
  };
}

/** Re-runs the race with one parameter changed, so a suggestion can be checked before it is made. */
export function whatIf(input: RaceInput, change: RaceChange): RaceResult {
  return raceTimers(applyChange(input, change));
}

/** The race input after a change: what the socket or layer would hold. Unknown names are an error. */
export function applyChange(input: RaceInput, change: RaceChange): RaceInput {
  if (change.kind === 'socket') {
    if (!input.sockets.some((s) => s.side === change.side))
      throw bad(`no socket on side "${change.side}"`);
    const src = 'what-if';
    return {
      layers: input.layers,
      sockets: input.sockets.map((s) =>
        s.side !== change.side
          ? s
          : {
              ...s,
              keepalive: change.keepalive ?? s.keepalive,
              keepIdleS:
                change.keepIdleS === undefined
                  ? s.keepIdleS
                  : { value: change.keepIdleS, source: src },
              keepIntvlS:
                change.keepIntvlS === undefined
                  ? s.keepIntvlS
                  : { value: change.keepIntvlS, source: src },
              probes:
                change.probes === undefined ? s.probes : { value: change.probes, source: src },
            },
      ),
    };
  }
  if (!input.layers.some((l) => l.name === change.name))
    throw bad(`no layer named "${change.name}"`);
  return {
    sockets: input.sockets,
    layers: input.layers.map((l) =>
      l.name !== change.name
        ? l
        : {
            name: l.name,
            rearmS: { value: change.rearmS, source: 'what-if' },
            deadlineS:
              change.appliesToExisting === true
                ? { value: change.rearmS, source: 'what-if (set on the entry now)' }
                : l.deadlineS,
          },
    ),
  };
}

function schedule(probing: readonly RaceSocket[], layers: readonly RaceLayer[]): Refresh[] {
  const starts = probing.map(firstProbeS);
  const steps = probing.map(answeredPeriodS);
  const maxRearm = Math.max(...layers.map((l) => l.rearmS.value));
  const maxDeadline = Math.max(...layers.map((l) => l.deadlineS.value));
  // Far enough that every side has probed twice after every layer's current deadline and re-arm.
  const end = Math.max(...starts) + 2 * Math.max(...steps) + Math.max(maxRearm, maxDeadline);
  const out: Refresh[] = [];
  const k = probing.map(() => 0);
  while (out.length < MAX_EVENTS) {
    let next = -1;
    for (let i = 0; i < probing.length; i++) {
      const t = starts[i]! + k[i]! * steps[i]!;
      if (t <= end && (next < 0 || t < starts[next]! + k[next]! * steps[next]!)) next = i;
    }
    if (next < 0) break;
    out.push({ atS: starts[next]! + k[next]! * steps[next]!, side: probing[next]!.side });
    k[next]!++;
  }
  return out;
}

function broken(
  input: RaceInput,
  probing: readonly RaceSocket[],
  i: number,
  atS: number,
  late: Refresh,
) {
  const l = input.layers[i]!;
  const first = late.atS === firstOf(probing);
  const why =
    first && atS === l.deadlineS.value
      ? `${l.name} forgets the flow in ${fmt(atS)} s (${l.deadlineS.source}); the first keepalive probe comes at ${fmt(late.atS)} s`
      : `${l.name} re-arms to ${fmt(l.rearmS.value)} s (${l.rearmS.source}) but the keepalive probes come every ${fmt(Math.min(...probing.map(answeredPeriodS)))} s or slower (${KEEPALIVE_RULE})`;
  return {
    kind: 'breaks' as const,
    layer: l.name,
    inS: atS,
    lateRefreshS: late.atS,
    socketsGiveUp: probing.map((s) => ({ side: s.side, inS: giveUpS(s, atS) })),
    reason: why,
  };
}

function firstOf(probing: readonly RaceSocket[]): number {
  return Math.min(...probing.map(firstProbeS));
}

// tcp_keepalive_timer() resets the socket when it fires with probes_out >= keepcnt: keepcnt
// unanswered probes keepintvl apart, then one more keepintvl.
function giveUpS(s: RaceSocket, forgottenAtS: number): number {
  const first = firstProbeS(s);
  const step = answeredPeriodS(s);
  const probe =
    forgottenAtS <= first ? first : first + Math.ceil((forgottenAtS - first) / step) * step;
  return probe + s.probes.value * s.keepIntvlS.value;
}

function noKeepalive(input: RaceInput) {
  const l = input.layers.reduce((a, b) => (b.deadlineS.value < a.deadlineS.value ? b : a));
  const idle =
    input.sockets.length > 0
      ? Math.min(...input.sockets.map((s) => s.idleS.value))
      : Math.max(0, l.rearmS.value - l.deadlineS.value);
  return {
    kind: 'at-risk' as const,
    layer: l.name,
    forgottenAfterIdleS: l.rearmS.value,
    idleS: idle,
    inS: l.deadlineS.value,
    reason: `no keepalive on either side: ${l.name} forgets it after ${fmt(l.rearmS.value)} s idle unless it sends; idle ${fmt(idle)} s so far`,
  };
}

function check(input: RaceInput): void {
  for (const l of input.layers) {
    nonNegative(l.deadlineS.value, `${l.name} deadline`);
    positive(l.rearmS.value, `${l.name} timeout`);
  }
  const sides = new Set<string>();
  for (const s of input.sockets) {
    if (sides.has(s.side)) throw bad(`two sockets on side "${s.side}"`);
    sides.add(s.side);
    nonNegative(s.idleS.value, `${s.side} idle time`);
    if (!s.keepalive) continue;
    // The kernel refuses TCP_KEEPIDLE/TCP_KEEPINTVL below 1 s (tcp_sock_set_keepidle_locked).
    if (!(s.keepIdleS.value >= 1))
      throw bad(`${s.side} keepidle ${s.keepIdleS.value} is below 1 s`);
    if (!(s.keepIntvlS.value >= 1))
      throw bad(`${s.side} keepintvl ${s.keepIntvlS.value} is below 1 s`);
    if (!Number.isFinite(s.keepIdleS.value) || !Number.isFinite(s.keepIntvlS.value))
      throw bad(`${s.side} keepalive is not finite`);
    positive(s.probes.value, `${s.side} keepalive probes`);
  }
}

function nonNegative(n: number, what: string): void {
  if (!Number.isFinite(n) || n < 0) throw bad(`${what} ${n} is not a number of seconds`);
}

function positive(n: number, what: string): void {
  if (!Number.isFinite(n) || n <= 0) throw bad(`${what} ${n} is not a positive number`);
}

function bad(message: string): InputError {
  return new InputError('timer race', undefined, message);
}

function fmt(n: number): string {
  return String(Math.round(n * 10) / 10);
}

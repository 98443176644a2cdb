// Point 9 of issue 19: a suggestion is checked against the timer race before it is printed. The
// change is applied to the race of every flow the suggestion targets (whatIf), and only changes that
// make those flows safe are kept; each says which flows it saves and which stay at risk, and why.
import type { Flow } from '../model/flow.js';
import type { SuggestionCheck } from '../model/diagnosis.js';
import type { PathContext } from '../analysis/path/context.js';
import { fmtSec } from '../analysis/path/evidence.js';
import type { SocketKeepaliveView } from '../analysis/path/keepalive.js';
import { type PathTimeouts, pathTimeouts } from '../analysis/path/path-timeouts.js';
import {
  type RaceInput,
  type RaceResult,
  type RaceSocket,
  applyChange,
  raceTimers,
} from '../analysis/path/timer-race.js';

/** The change a suggestion makes, as the race sees it. */
export type Trial =
  /** The application sets SO_KEEPALIVE and TCP_KEEPIDLE/INTVL/CNT on its socket (setsockopt). */
  | {
      readonly kind: 'socket-keepalive';
      readonly idleS: number;
      readonly intvlS: number;
      readonly probes: number;
    }
  /** A netns keepalive sysctl: it reaches only sockets with SO_KEEPALIVE and no value of their own. */
  | {
      readonly kind: 'sysctl-keepalive';
      /** The netns (undefined = the host's). */
      readonly scope: string | undefined;
      readonly what: 'time' | 'intvl';
      readonly valueS: number;
      /** The netns's value now, when known: "lowering" to it or above changes nothing. */
      readonly inForceS?: number;
    }
  /** A layer re-arms to a new timeout; `appliesToExisting`: the deadline entries hold moves too. */
  | {
      readonly kind: 'layer';
      readonly layer: 'conntrack' | 'IPVS' | 'the path idle timer' | 'the cloud idle timer';
      readonly rearmS: number;
      readonly appliesToExisting: boolean;
      /** The value in force now, when known: a "raise" to it or below changes nothing. */
      readonly inForceS?: number;
    };

/** One flow a suggestion targets, with its race. */
export interface Target {
  readonly id: string;
  readonly path: PathTimeouts;
}

type Outcome =
  { readonly kind: 'saved' } | { readonly kind: 'later' | 'no'; readonly reason: string };

/** Flow ids listed in text; JSON carries them all. */
export const SAVES_IN_TEXT = 3;

/** Whether a trial could do anything at all, before any flow is looked at (null = it could). */
export function trialRefused(t: Trial): string | null {
  if (t.kind === 'layer' && t.inForceS !== undefined && t.rearmS <= t.inForceS)
    return `${t.layer} already re-arms to ${fmtSec(t.inForceS)}: ${fmtSec(t.rearmS)} is no raise`;
  // Refused before any flow is tried: flows that already died have no live race to refuse it.
  if (t.kind === 'sysctl-keepalive' && t.inForceS !== undefined && t.valueS >= t.inForceS)
    return `tcp_keepalive_${t.what} is already ${fmtSec(t.inForceS)}: ${fmtSec(t.valueS)} is no lower`;
  return null;
}

// Outcomes by path, then by trial: the app-keepalive plan is chosen by checkTrial (keepalive
// suggestions) and its suggestion checked again on the same flows (checked.ts), each time two races
// per flow on up to 10,000 flows. A path is immutable, so its outcome for one trial never changes.
const OUTCOMES = new WeakMap<PathTimeouts, Map<string, Outcome>>();

/** Runs the trial on every target: which flows it saves, and which stay at risk and why. */
export function checkTrial(t: Trial, targets: readonly Target[]): SuggestionCheck {
  const saves: string[] = [];
  const atRisk: { flow: string; reason: string }[] = [];
  let later = 0;
  const key = JSON.stringify(t);
  for (const x of targets) {
    let seen = OUTCOMES.get(x.path);
    if (!seen) OUTCOMES.set(x.path, (seen = new Map()));
    let o = seen.get(key);
    if (!o) seen.set(key, (o = tryOn(t, x.path)));
    if (o.kind === 'saved') saves.push(x.id);
    else {
      if (o.kind === 'later') later++;
      atRisk.push({ flow: x.id, reason: o.reason });
    }
  }
  return { targets: targets.length, saves, savesLater: later, atRisk };
}

/** A trial helps when it saves a flow now, or fixes the path so the flow is safe after its next packet. */
export function helps(c: SuggestionCheck): boolean {
  return c.targets === 0 || c.saves.length > 0 || c.savesLater > 0;
}

/**
 * A keepalive plan on a fresh flow whose smallest layer forgets it after `budgetS` idle: a netns
 * keepalive change checked when no flow is in the input (node budget findings).
 */
export function budgetRace(
  budgetS: number,
  keep: { idleS: number; intvlS: number; probes: number },
): RaceResult {
  return raceTimers({
    layers: [
      {
        name: 'the smallest idle timer',
        deadlineS: { value: budgetS, source: 'budget' },
        rearmS: { value: budgetS, source: 'budget' },
      },
    ],
    sockets: [
      {
        side: 'socket',
        keepalive: true,
        keepIdleS: { value: keep.idleS, source: 'suggested' },
        keepIntvlS: { value: keep.intvlS, source: 'suggested' },
        probes: { value: keep.probes, source: 'suggested' },
        idleS: { value: 0, source: 'a fresh flow' },
      },
    ],
  });
}

/** The live paths of flows named by id, in one pass over the table (a client-port screen first). */
export function lookupPaths(ctx: PathContext, ids: ReadonlySet<string>): Map<string, PathTimeouts> {
  const out = new Map<string, PathTimeouts>();
  if (ids.size === 0) return out;
  const ports = new Set<number>();
  for (const id of ids) {
    const gt = id.indexOf('>');
    ports.add(Number(id.slice(id.lastIndexOf(':', gt) + 1, gt)));
  }
  for (const f of ctx.table.flows() as Iterable<Flow>) {
    if (!ports.has(f.clientPort) || !ctx.table.isLive(f)) continue;
    const id = ctx.table.flowId(f);
    if (ids.has(id) && !out.has(id)) out.set(id, pathTimeouts(ctx, f));
  }
  return out;
}

/**
 * The live flows a suggestion targets: the paths its findings' keepalive needs carry, then the flows
 * its findings name that no need carried (from lookupPaths). Flows already gone are not targets.
 */
export function targetsOf(
  paths: readonly PathTimeouts[],
  flowIds: readonly string[],
  found: ReadonlyMap<string, PathTimeouts>,
): Target[] {
  const out = new Map<string, Target>();
  for (const p of paths) if (racing(p) && !out.has(p.id)) out.set(p.id, { id: p.id, path: p });
  for (const id of flowIds) {
    const p = found.get(id);
    if (p && racing(p) && !out.has(id)) out.set(id, { id, path: p });
  }
  return [...out.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

// Keepalive refreshes what an idle ESTABLISHED flow races; a half-closed or stalled flow waits on its
// application or peer instead, so the race does not judge the fixes of those.
function racing(p: PathTimeouts): boolean {
  return p.live && p.race !== undefined && p.state === 'ESTABLISHED';
}

function tryOn(t: Trial, p: PathTimeouts): Outcome {
  const input = p.race!.input;
  const changed = changedInput(t, p, input);
  if (typeof changed === 'string') return { kind: 'no', reason: changed };
  const now = raceTimers(changed);
  if (now.verdict.kind === 'safe') return { kind: 'saved' };
  const fresh = raceTimers(fresh_(changed));
  if (fresh.verdict.kind === 'safe') {
    const reason =
      t.kind === 'layer' && !t.appliesToExisting
        ? `a timeout change reaches an existing entry only at its next packet, and until then ${now.verdict.reason}`
        : `too late for the deadline it holds now (${now.verdict.reason}); safe once it sends again`;
    return { kind: 'later', reason };
  }
  return { kind: 'no', reason: fresh.verdict.reason };
}

/** Every layer freshly re-armed and every socket just heard from: the flow after its next packet. */
function fresh_(input: RaceInput): RaceInput {
  return {
    layers: input.layers.map((l) => ({
      ...l,
      deadlineS: { value: l.rearmS.value, source: 'after the next packet' },
    })),
    sockets: input.sockets.map((s) => ({
      ...s,
      idleS: { value: 0, source: 'after the next packet' },
    })),
  };
}

/** The race input with the trial's change, or why the change does not reach this flow. */
function changedInput(t: Trial, p: PathTimeouts, input: RaceInput): RaceInput | string {
  if (t.kind === 'socket-keepalive') {
    const keep = { keepalive: true, keepIdleS: t.idleS, keepIntvlS: t.intvlS, probes: t.probes };
    const side =
      input.sockets.find((s) => s.side === 'client') ??
      input.sockets.find((s) => s.side === 'server');
    if (side) return applyChange(input, { kind: 'socket', side: side.side, ...keep });
    // No socket was read: the application's socket is the flow's client.
    const sock: RaceSocket = {
      side: 'client',
      keepalive: true,
      keepIdleS: { value: t.idleS, source: 'suggested' },
      keepIntvlS: { value: t.intvlS, source: 'suggested' },
      probes: { value: t.probes, source: 'suggested' },
      idleS: { value: p.idleSec ?? 0, source: p.idleSource },
    };
    return { layers: input.layers, sockets: [sock] };
  }
  if (t.kind === 'sysctl-keepalive') {
    const reached = p.keepalive.sockets.filter(
      (s) => sysctlDriven(s) && (s.scope ?? '') === (t.scope ?? ''),
    );
    const sides = reached.filter((s) => input.sockets.some((r) => r.side === s.side));
    if (sides.length === 0) return sysctlMisses(p.keepalive.sockets, t.scope);
    const held = sides.map((s) => (t.what === 'time' ? (s.idleSec ?? Infinity) : s.intervalSec));
    if (held.every((v) => v <= t.valueS))
      return `its keepalive ${t.what === 'time' ? 'time' : 'interval'} is already ${fmtSec(Math.max(...held))}: ${fmtSec(t.valueS)} is no lower`;
    let out = input;
    for (const s of sides)
      out = applyChange(out, {
        kind: 'socket',
        side: s.side,
        ...(t.what === 'time' ? { keepIdleS: t.valueS } : { keepIntvlS: t.valueS }),
      });
    return out;
  }
  const l = input.layers.find((x) => x.name === t.layer);
  if (!l) return `no ${t.layer} timer on its path`;
  if (!t.appliesToExisting && t.rearmS <= l.rearmS.value)
    return `${t.layer} already re-arms to ${fmtSec(l.rearmS.value)} on this flow`;
  if (t.layer === 'conntrack' || t.layer === 'IPVS')
    return applyChange(input, {
      kind: 'layer',
      name: t.layer,
      rearmS: t.rearmS,
      appliesToExisting: t.appliesToExisting,
    });
  // A path or cloud element counts idle time: a longer timeout moves its deadline by the difference.
  return {
    sockets: input.sockets,
    layers: input.layers.map((x) =>
      x !== l
        ? x
        : {
            name: x.name,
            rearmS: { value: t.rearmS, source: 'suggested' },
            deadlineS: {
              value: x.deadlineS.value + t.rearmS - x.rearmS.value,
              source: 'suggested timeout minus idle',
            },
          },
    ),
  };
}

/** Socket keepalive driven by the netns sysctl (not by a per-socket TCP_KEEPIDLE). */
export function sysctlDriven(s: SocketKeepaliveView): boolean {
  return (
    s.state === 'on' && !s.source.includes('per-socket') && !s.source.includes('largest remaining')
  );
}

function sysctlMisses(sockets: readonly SocketKeepaliveView[], scope: string | undefined): string {
  const where = scope ? `netns ${scope}` : 'the host netns';
  if (sockets.some((s) => s.state === 'off'))
    return `its sockets have no SO_KEEPALIVE, which a keepalive sysctl needs: the application must enable keepalive on the socket`;
  if (sockets.some((s) => s.state === 'on' && (s.scope ?? '') !== (scope ?? '')))
    return `its sockets take their keepalive from another netns than ${where}`;
  if (sockets.some((s) => s.state === 'on'))
    return 'its sockets set their own keepalive times (TCP_KEEPIDLE), which the sysctl does not override';
  return 'the keepalive of its sockets was not read';
}

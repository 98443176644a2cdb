// The rule interface, the context rules read, and helpers shared by the rules.
import type { Confidence, Evidence, Finding, Layer, Severity } from '../model/diagnosis.js';
import type { Flow } from '../model/flow.js';
import type { FlowTable } from '../model/flow-table.js';
import { TIMELINE_KIND_BIT, type TimelineItem } from '../model/timeline.js';
import type { PathContext } from './path/context.js';
import { evidence, fmtSec, itemEvidence } from './path/evidence.js';
import { flowState } from './path/flow-state.js';
import { type PathTimeouts, pathTimeouts } from './path/path-timeouts.js';
import { NOT_AT_RISK, screenPath } from './path/screen.js';
import type { SuggestNeed } from './needs.js';

/** A finding before suggestions are attached, with what it needs fixed. */
export interface Draft {
  readonly finding: Omit<Finding, 'suggestions'>;
  readonly needs: readonly SuggestNeed[];
}

export interface RuleContext {
  readonly table: FlowTable;
  readonly path: PathContext;
  readonly now: number;
  /** Path timeouts of a flow (computed once). */
  pathOf(f: Flow): PathTimeouts;
  /** Path timeouts of the live flows that matter (at risk, or on a 300 s clamp), in table order. */
  livePaths(): readonly PathTimeouts[];
  /** How many live flows the screen found at risk for a prediction, materialised or not. */
  atRiskCount(): number;
  /** Up to `max` live flows' path timeouts, in table order (for flow listings). */
  somePaths(max: number): readonly PathTimeouts[];
  /** Flows that have a timeline (events), in table order. */
  eventFlows(): readonly Flow[];
  /** The event flows whose timeline has a probe reset or drop, in table order. */
  resetOrDropFlows(): readonly Flow[];
}

export interface Rule {
  readonly code: string;
  readonly fm: string;
  run(ctx: RuleContext): Draft[];
}

const RESET_OR_DROP = TIMELINE_KIND_BIT.reset | TIMELINE_KIND_BIT.drop;

/** Builds the context once per analysis; path timeouts are cached per flow. */
export function makeRuleContext(table: FlowTable, path: PathContext, keep = 10_000): RuleContext {
  const cache = new Map<Flow, PathTimeouts>();
  let live: PathTimeouts[] | undefined;
  let atRiskTotal = 0;
  let ev: Flow[] | undefined;
  let rd: Flow[] | undefined;
  const eventFlows = (): Flow[] => {
    if (!ev) {
      ev = [];
      for (const f of table.flows()) if (f.timeline && f.timeline.length > 0) ev.push(f);
    }
    return ev;
  };
  const pathOf = (f: Flow): PathTimeouts => {
    let p = cache.get(f);
    if (!p) {
      p = pathTimeouts(path, f);
      cache.set(f, p);
    }
    return p;
  };
  return {
    table,
    path,
    now: path.now,
    pathOf,
    livePaths() {
      if (!live) {
        // Screen every flow without building its path (screenPath: the numbers of predictable(p), the
        // clamp and breaksIn(p)); only the most urgent `keep` are materialised, kept in a bounded heap,
        // so a million at-risk flows cost no path object, id string or entry of their own.
        const top = new UrgentFlows(keep);
        const flags = new Uint8Array(1);
        let i = 0;
        for (const f of table.flows()) {
          i++;
          if (!table.isLive(f)) continue;
          // Both tests need an ESTABLISHED flow (PREDICTED; a clamp is only set on an ESTABLISHED
          // conntrack entry, whose state is the flow's).
          if (flowState(f) !== 'ESTABLISHED') continue;
          const u = screenPath(path, f, flags);
          if (u === NOT_AT_RISK) continue;
          top.add(f, u, i);
          atRiskTotal += flags[0]!;
        }
        live = top.inTableOrder().map(pathOf);
      }
      return live;
    },
    atRiskCount() {
      this.livePaths();
      return atRiskTotal;
    },
    somePaths(max) {
      const out: PathTimeouts[] = [];
      for (const f of table.flows()) {
        if (out.length >= max) break;
        if (table.isLive(f)) out.push(pathOf(f));
      }
      return out;
    },
    eventFlows,
    resetOrDropFlows() {
      if (!rd) {
        rd = [];
        for (const f of eventFlows()) {
          if ((f.timelineKinds & RESET_OR_DROP) === 0) continue;
          for (const i of f.timeline ?? []) {
            // An item of these kinds has a probe event of that kind (reading `probe` may re-parse).
            const k = i.kind;
            if (k === 'reset' || k === 'drop') {
              rd.push(f);
              break;
            }
          }
        }
      }
      return rd;
    },
  };
}

/**
 * The `keep` flows with the smallest (time to break, table position), in a max-heap on typed arrays:
 * the same set as sorting every hit and keeping the head, without an object per hit or a sort of them all.
 */
class UrgentFlows {
  private u: Float64Array;
  private pos: Float64Array;
  private readonly flows: Flow[] = [];
  private n = 0;

  constructor(private readonly keep: number) {
    const cap = Math.max(0, Math.min(keep, 1024));
    this.u = new Float64Array(cap);
    this.pos = new Float64Array(cap);
  }

  /** Adds a hit; `pos` grows with every call. */
  add(f: Flow, u: number, pos: number): void {
    if (this.n < this.keep) {
      this.grow();
      // Sift up: a parent is never more urgent than its children.
      let k = this.n++;
      while (k > 0) {
        const p = (k - 1) >> 1;
        if (!isAfter(u, pos, this.u[p]!, this.pos[p]!)) break;
        this.set(k, this.u[p]!, this.pos[p]!, this.flows[p]!);
        k = p;
      }
      this.set(k, u, pos, f);
      return;
    }
    // Full: keep it only if it is more urgent than the least urgent kept (the root). A later position
    // with an equal time never is.
    if (this.n === 0 || !(u < this.u[0]!)) return;
    let k = 0;
    for (;;) {
      const l = 2 * k + 1;
      if (l >= this.n) break;
      const r = l + 1;
      const c = r < this.n && isAfter(this.u[r]!, this.pos[r]!, this.u[l]!, this.pos[l]!) ? r : l;
      if (!isAfter(this.u[c]!, this.pos[c]!, u, pos)) break;
      this.set(k, this.u[c]!, this.pos[c]!, this.flows[c]!);
      k = c;
    }
    this.set(k, u, pos, f);
  }

  /** The kept flows in table order. */
  inTableOrder(): Flow[] {
    const idx: number[] = [];
    for (let k = 0; k < this.n; k++) idx.push(k);
    idx.sort((a, b) => this.pos[a]! - this.pos[b]!);
    return idx.map((k) => this.flows[k]!);
  }

  private set(k: number, u: number, pos: number, f: Flow): void {
    this.u[k] = u;
    this.pos[k] = pos;
    this.flows[k] = f;
  }

  private grow(): void {
    if (this.n < this.u.length) return;
    const cap = Math.min(this.keep, Math.max(16, this.u.length * 2));
    const u = new Float64Array(cap);
    u.set(this.u);
    const pos = new Float64Array(cap);
    pos.set(this.pos);
    this.u = u;
    this.pos = pos;
  }
}

/** True when (ua, pa) is less urgent than (ub, pb): a later time to break, or the same one later in the table. */
function isAfter(ua: number, pa: number, ub: number, pb: number): boolean {
  return ua > ub || (ua === ub && pa > pb);
}

export const LAYER_NAME: Record<Layer, string> = {
  conntrack: 'conntrack',
  ipvs: 'IPVS',
  path: 'the path idle timer',
  cloud: 'the cloud idle timer',
  keepalive: 'keepalive',
  calico: "Calico's eBPF conntrack",
  cilium: "Cilium's BPF conntrack",
};

const LONG_LIVED = new Set(['ESTABLISHED']);
/**
 * States a prediction watches. CLOSE_WAIT (FM-4) is left to conntrack.close-wait-expired: the bundle
 * fixtures expect half-closed flows not to be listed as predictions.
 */
const PREDICTED = LONG_LIVED;

/**
 * True when a live, established flow will be forgotten by some layer before anything refreshes it,
 * as the timer race (flowRace) says: a keepalive that comes too late, or no keepalive while a layer's
 * timer is finite. Short request/response flows are left out by being closed (not live), not by idle.
 */
export function atRisk(p: PathTimeouts): boolean {
  return p.live && diedAtRisk(p);
}

/** At risk for a prediction (live, in a state PREDICTED watches). */
export function predictable(p: PathTimeouts): boolean {
  return p.live && diedAtRisk(p, PREDICTED);
}

/** The at-risk test without the liveness condition (for a flow's path as it was when it expired). */
export function diedAtRisk(p: PathTimeouts, states: ReadonlySet<string> = LONG_LIVED): boolean {
  if (p.safe || !p.first || p.first.timeoutSec === null) return false;
  if (!states.has(p.state)) return false;
  const v = p.race?.result.verdict.kind;
  // A path with no race (one rebuilt as it was at its expiry) died unrefreshed: it was at risk.
  return v === undefined || v === 'breaks' || v === 'at-risk';
}

/**
 * Seconds until the flow is forgotten (0 = already past): when the race says a layer forgets it, else
 * (safe, or only interleaving probes keep it) when the first layer would if nothing refreshed it.
 */
export function breaksIn(p: PathTimeouts): number {
  const v = p.race?.result.verdict;
  if (v && (v.kind === 'breaks' || v.kind === 'at-risk')) return Math.max(0, Math.round(v.inS));
  const f = p.first;
  if (!f || f.timeoutSec === null) return Infinity;
  const left = f.leftSec ?? (p.idleSec !== null ? f.timeoutSec - p.idleSec : f.timeoutSec);
  return Math.max(0, Math.round(left));
}

/** What keeps (or fails to keep) the flow alive, as the end of a cause sentence. */
export function keepalivePhrase(p: PathTimeouts): string {
  const k = p.keepalive;
  const v = p.race?.result.verdict;
  if (k.state === 'on' && k.idleSec !== null) {
    const period = Math.min(...(p.race?.result.periods.map((x) => x.periodS) ?? [k.idleSec]));
    // Keepidle alone looks in time; the answered probes' period (max(keepidle, keepintvl)) is what loses.
    const late =
      v?.kind === 'breaks' && period > k.idleSec && k.idleSec < (p.racing?.timeoutSec ?? Infinity);
    return late
      ? `its keepalive fires at ${fmtSec(k.idleSec)} but answered probes then come only every ${fmtSec(period)}`
      : `its keepalive fires at ${fmtSec(k.idleSec)}`;
  }
  if (k.state === 'off') return 'nothing refreshes it (keepalive off)';
  return k.sockets.length === 0
    ? 'keepalive unknown (no sockets read)'
    : 'keepalive unknown (not seen on its sockets)';
}

/** Sorts paths by time to break, then id, for stable output. */
export function byUrgency(a: PathTimeouts, b: PathTimeouts): number {
  return breaksIn(a) - breaksIn(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Cap on flow ids listed in one finding. */
export const MAX_FLOWS_PER_FINDING = 50;

/** Evidence of the most urgent flows of a group (first layer, keepalive), deduplicated and time-ordered. */
export function pathEvidence(paths: readonly PathTimeouts[], limit = 3): Evidence[] {
  const out: Evidence[] = [];
  for (const p of paths.slice(0, limit)) {
    for (const l of p.layers) {
      if (l === p.first || l.layer === 'keepalive')
        out.push(...(l as { evidence: readonly Evidence[] }).evidence);
    }
  }
  return dedupeEvidence(out);
}

/** Removes repeated evidence and orders it by time. */
export function dedupeEvidence(list: readonly Evidence[]): Evidence[] {
  const seen = new Set<string>();
  const out: Evidence[] = [];
  for (const e of list) {
    const k = `${e.t}|${e.src}|${e.text}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(e);
  }
  return out.sort((a, b) => a.t - b.t || (a.src < b.src ? -1 : a.src > b.src ? 1 : 0));
}

export function latestT(evs: readonly Evidence[], fallback: number): number {
  return evs.reduce((m, e) => Math.max(m, e.t), evs.length ? 0 : fallback);
}

/** Builds a draft with the common fields filled in. */
export function makeDraft(args: {
  rule: string;
  fm: string;
  subject: string;
  severity: Severity;
  confidence: Confidence;
  title: string;
  cause: string;
  flows: readonly string[];
  evidence: readonly Evidence[];
  needs: readonly SuggestNeed[];
  t: number;
}): Draft {
  return {
    finding: {
      id: `${args.rule}:${args.subject}`,
      rule: args.rule,
      fm: args.fm,
      severity: args.severity,
      confidence: args.confidence,
      title: args.title,
      cause: args.cause,
      flows: args.flows,
      evidence: dedupeEvidence(args.evidence),
      t: args.t,
    },
    needs: args.needs,
  };
}

/** Groups items by a string key, keeping first-seen order of keys. */
export function groupBy<T>(items: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of items) {
    const k = key(x);
    const g = m.get(k);
    if (g) g.push(x);
    else m.set(k, [x]);
  }
  return m;
}

/** Summed counter delta between the first and last `conntrack -S` readings of a scope. */
export function statsDelta(
  ctx: RuleContext,
  counter: string,
  scope?: string,
): { delta: number; first?: Evidence; last?: Evidence } {
  const h = ctx.table.statsHistory(scope);
  const a = h[0];
  const b = h[h.length - 1];
  if (!a || !b || a === b) return { delta: 0 };
  const d = (b.counters[counter] ?? 0) - (a.counters[counter] ?? 0);
  return { delta: d, first: evidence(a.t, a.src, a.text), last: evidence(b.t, b.src, b.text) };
}

/** A NO_SOCKET reset sent or packet dropped (the answer of a stack with no socket for the tuple). */
export function isNoSocket(i: TimelineItem): boolean {
  if (i.kind !== 'drop' && i.kind !== 'reset') return false;
  const p = i.probe;
  if (!p) return false;
  if (p.kind === 'drop') return p.reason === 'NO_SOCKET';
  if (p.kind === 'reset')
    return (
      p.direction === 'sent' &&
      p.mode === 'passive' &&
      (p.reason === undefined || p.reason === 'NO_SOCKET' || p.state === 'UNKNOWN')
    );
  return false;
}

/** Paths of a set of flows that are the "most urgent first" list of a finding. */
export function flowIds(paths: readonly PathTimeouts[]): string[] {
  return paths.slice(0, MAX_FLOWS_PER_FINDING).map((p) => p.id);
}

/** Keepalive-derived minimum for a raised layer timeout: idle + interval × probes. */
export function keepaliveSpan(p: PathTimeouts): number | undefined {
  const k = p.keepalive;
  if (k.state !== 'on' || k.idleSec === null) return undefined;
  return k.idleSec + k.intervalSec * k.probes;
}

export { evidence, fmtSec, itemEvidence };

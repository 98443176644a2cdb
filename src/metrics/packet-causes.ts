// Drops and resets counted by the finding that explains them. A probe event arrives before the
// analysis that explains it (the next tick), so each waits, bounded, for a finding that cites it in
// its evidence; a finding that only names its flow (a prediction made before the break) is taken once
// no citing one came. Once counted under a cause it stays there, so the counter only grows. Pure:
// time is the diagnosis's.
import type { Diagnosis, Finding, Severity } from '../model/diagnosis.js';
import type { FeedItem } from '../model/session.js';

export interface PacketCauseCount {
  readonly kind: 'drop' | 'reset';
  /** The explaining finding's rule code, or `unexplained`. */
  readonly rule: string;
  /** Its failure mode (FM-1 …), or `none`. */
  readonly fm: string;
  readonly count: number;
}

export const UNEXPLAINED = 'unexplained';
/** How long (record time) an event waits for a finding before it counts as unexplained. */
export const CAUSE_GRACE_MS = 30_000;
/**
 * How long (record time) an event waits for a finding citing it before one that only names its flow
 * counts: a diagnosis made before the event reached the analysis can name the flow, never cite it.
 */
export const CITE_WAIT_MS = 10_000;
/** Events waiting at most: past it the oldest counts as unexplained (memory stays bounded). */
export const PENDING_MAX = 10_000;

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

interface Pending {
  readonly kind: 'drop' | 'reset';
  readonly flow: string;
  readonly t: number;
  readonly src: string;
}

/** Counts drop and reset feed items by cause as diagnoses come in. */
export class PacketCauses {
  private pending: Pending[] = [];
  private readonly counts = new Map<string, PacketCauseCount>();

  constructor(
    private readonly graceMs = CAUSE_GRACE_MS,
    private readonly pendingMax = PENDING_MAX,
    private readonly citeWaitMs = Math.min(CITE_WAIT_MS, graceMs),
  ) {}

  /** Takes one feed item; only drops and resets count. */
  note(item: FeedItem): void {
    if (item.kind !== 'drop' && item.kind !== 'reset') return;
    if (item.flow === undefined) {
      this.count(item.kind, UNEXPLAINED, 'none');
      return;
    }
    this.pending.push({ kind: item.kind, flow: item.flow, t: item.t, src: item.src });
    if (this.pending.length > this.pendingMax) {
      const oldest = this.pending.shift()!;
      this.count(oldest.kind, UNEXPLAINED, 'none');
    }
  }

  /**
   * Attributes waiting events to the findings of `d`: the most severe that cites the event, else,
   * past CITE_WAIT_MS, the most severe naming its flow; those older than the grace are unexplained.
   */
  settle(d: Diagnosis): void {
    if (this.pending.length === 0) return;
    const byFlow = new Map<string, Finding>();
    const byEvent = new Map<string, Finding>();
    for (const f of d.findings) {
      for (const flow of f.flows) keepMostSevere(byFlow, flow, f);
      for (const e of f.evidence) keepMostSevere(byEvent, eventKey(e.src, e.t), f);
    }
    const keep: Pending[] = [];
    for (const p of this.pending) {
      const age = d.at - p.t;
      const f =
        byEvent.get(eventKey(p.src, p.t)) ??
        (age > this.citeWaitMs ? byFlow.get(p.flow) : undefined);
      if (f !== undefined) this.count(p.kind, f.rule, f.fm);
      else if (age > this.graceMs) this.count(p.kind, UNEXPLAINED, 'none');
      else keep.push(p);
    }
    this.pending = keep;
  }

  /** Events still waiting for a cause. */
  get waiting(): number {
    return this.pending.length;
  }

  /** Counted events by kind and cause. */
  snapshot(): PacketCauseCount[] {
    return [...this.counts.values()];
  }

  private count(kind: 'drop' | 'reset', rule: string, fm: string): void {
    const key = `${kind}|${rule}|${fm}`;
    const prev = this.counts.get(key);
    this.counts.set(key, { kind, rule, fm, count: (prev?.count ?? 0) + 1 });
  }
}

function eventKey(src: string, t: number): string {
  return `${t}|${src}`;
}

function keepMostSevere(m: Map<string, Finding>, key: string, f: Finding): void {
  const prev = m.get(key);
  if (prev === undefined || SEVERITY_RANK[f.severity] < SEVERITY_RANK[prev.severity]) m.set(key, f);
}

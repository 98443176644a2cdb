// A flow's bounded history: one item per event kdiag saw of it, in time order. Items of
// conntrack events and probe state changes keep their line and parse it again when read.
import type { ConntrackEvent, ConntrackEventLineSource, ConntrackEventType } from './conntrack.js';
import type { ProbeEvent, ProbeLineSource } from './probe-event.js';

/** How a packet tuple matched a flow: as the client sent it, as the backend sent it (not un-NAT'ed), or reversed. */
export type MatchDir = 'orig' | 'orig-rev' | 'reply' | 'reply-rev';

export type TimelineKind =
  | 'ct-new'
  | 'ct-update'
  | 'ct-destroy'
  | 'ct-gone'
  | 'drop'
  | 'reset'
  | 'retransmit'
  | 'state'
  | 'activity'
  | 'ipvs-gone'
  | 'socket-gone';

/** One bit per timeline kind, for Flow.timelineKinds. */
export const TIMELINE_KIND_BIT: Readonly<Record<TimelineKind, number>> = {
  'ct-new': 1,
  'ct-update': 2,
  'ct-destroy': 4,
  'ct-gone': 8,
  drop: 16,
  reset: 32,
  retransmit: 64,
  state: 128,
  activity: 256,
  'ipvs-gone': 512,
  'socket-gone': 1024,
};

/** One event in a flow's bounded history. */
export interface TimelineItem {
  readonly t: number;
  readonly kind: TimelineKind;
  readonly src: string;
  /** The raw line, or a one-line summary when there was none. */
  readonly text: string;
  readonly scope?: string;
  readonly dir?: MatchDir;
  readonly ct?: ConntrackEvent;
  readonly probe?: ProbeEvent;
  /** The flow's latest activity before this event (ms), -1 when unknown: the idle gap it ended. */
  readonly prevAct?: number;
  /**
   * Conntrack-event items (set exactly when `ct` is): the event's type and entry fields the analysis
   * scans every item for. Reading them does not rebuild `ct`, which may be re-parsed from `text`.
   */
  readonly ctType?: ConntrackEventType;
  readonly ctState?: string | null;
  readonly ctTimeout?: number | null;
  readonly ctUnreplied?: boolean;
  /** True when the event came from a userspace request (`ct.userspace` is set). */
  readonly ctUserspace?: boolean;
}

const IT_NEW = 0;
const IT_UPDATE = 1;
const IT_DESTROY = 2;
const IT_TYPE = 3;
const IT_UNREPLIED = 4;
const IT_USERSPACE = 8;
const IT_TYPES: readonly ConntrackEventType[] = ['NEW', 'UPDATE', 'DESTROY'];

/**
 * A conntrack-event timeline item. When its `text` is the raw line the event was parsed from, the
 * event is not kept (a parsed event with its entry, tuples and counters is several times the size of
 * the line): the first read of `ct` parses the line again and keeps the result (the analysis reads
 * few items' `ct`). The fields the analysis scans for are kept as they are.
 */
export class CtItem implements TimelineItem {
  readonly t: number;
  readonly kind: TimelineKind;
  readonly src: string;
  readonly text: string;
  readonly scope: string | undefined;
  readonly dir: MatchDir | undefined;
  readonly prevAct: number;
  readonly ctState: string | null;
  readonly ctTimeout: number | null;
  private readonly bits: number;
  private ev: ConntrackEvent | undefined;
  private readonly ls: ConntrackEventLineSource | undefined;

  constructor(
    t: number,
    kind: TimelineKind,
    src: string,
    text: string,
    scope: string | undefined,
    dir: MatchDir | undefined,
    prevAct: number,
    ev: ConntrackEvent,
    state: string | null,
    ls: ConntrackEventLineSource | undefined,
  ) {
    this.t = t;
    this.kind = kind;
    this.src = src;
    this.text = text;
    this.scope = scope;
    this.dir = dir;
    this.prevAct = prevAct;
    const e = ev.entry;
    this.ctState = state;
    this.ctTimeout = e.timeout;
    this.bits =
      (ev.type === 'NEW' ? IT_NEW : ev.type === 'UPDATE' ? IT_UPDATE : IT_DESTROY) |
      (e.unreplied ? IT_UNREPLIED : 0) |
      (ev.userspace ? IT_USERSPACE : 0);
    this.ls = ls;
    this.ev = ls ? undefined : ev;
  }

  get ct(): ConntrackEvent {
    if (this.ev !== undefined) return this.ev;
    const ev = this.ls?.reparse(this.text);
    // The line parsed when the item was made: it parses the same way again.
    if (ev === undefined) throw new Error(`conntrack event line no longer parses: ${this.text}`);
    this.ev = ev;
    return ev;
  }
  get probe(): undefined {
    return undefined;
  }
  get ctType(): ConntrackEventType {
    return IT_TYPES[this.bits & IT_TYPE]!;
  }
  get ctUnreplied(): boolean {
    return (this.bits & IT_UNREPLIED) !== 0;
  }
  get ctUserspace(): boolean {
    return (this.bits & IT_USERSPACE) !== 0;
  }
}

/** True when the item has a probe event (`probe` is set): the kinds only probe events make. */
export function isProbeItem(i: TimelineItem): boolean {
  const k = i.kind;
  return k === 'state' || k === 'drop' || k === 'reset' || k === 'retransmit';
}

/**
 * A probe timeline item whose `text` is the line its event was parsed from: the event is not kept
 * until the first read of `probe` parses the line again (same probe, same context). Readers that scan every item test the
 * kind (isProbeItem) rather than build `probe`.
 */
export class ProbeItem implements TimelineItem {
  constructor(
    readonly t: number,
    readonly kind: TimelineKind,
    readonly src: string,
    readonly text: string,
    readonly scope: string | undefined,
    readonly dir: MatchDir,
    readonly prevAct: number,
    private readonly ls: ProbeLineSource,
  ) {}

  private ev: ProbeEvent | undefined = undefined;

  get probe(): ProbeEvent {
    if (this.ev !== undefined) return this.ev;
    const ev = this.ls.reparse(this.text);
    // The line parsed when the item was made: it parses the same way again.
    if (ev === undefined) throw new Error(`probe line no longer parses: ${this.text}`);
    this.ev = ev;
    return ev;
  }
  get ct(): undefined {
    return undefined;
  }
}

// FlowTable: one flow per connection, joined across NAT from conntrack, IPVS, ss and probe events.
// Per-flow numbers live in typed-array rows with interned address ids (see flow-store.ts), so a
// million conntrack rows stay within a few hundred MB; snapshot rows never keep their raw line
// (evidence is rebuilt).
import type { ConntrackCpuStats, ConntrackEntry, ConntrackEvent, ConntrackEventLineSource, ConntrackEventType } from './conntrack.js';
import type { Endpoint } from './endpoint.js';
import { endpointKey, ipv4Value } from './endpoint.js';
import type { IptablesRuleset } from './iptables.js';
import type { IpvsConn, IpvsService, IpvsStatsRow, IpvsTimeouts } from './ipvs.js';
import type { KubeProxySettings } from './kube-proxy.js';
import type { Observation, SnapshotWhat } from './observation.js';
import type { PacketTuple, ProbeEvent, ProbeLineSource, SocketKeepalive, StateEvent } from './probe-event.js';
import type { SocketInfo, SocketTimer } from './socket.js';
import { ACT, B, C, CT, D, EndpointRows, FlowRows, G, IntIds, Int32List, NEXT, NF, NI, P1, P2, PREV, R, TG, TO } from './flow-store.js';

/** How a packet tuple matched a flow: as the client sent it, as the backend sent it (not un-NAT'ed), or reversed. */
export type MatchDir = 'orig' | 'orig-rev' | 'reply' | 'reply-rev';

export type TimelineKind =
  | 'ct-new' | 'ct-update' | 'ct-destroy' | 'ct-gone'
  | 'drop' | 'reset' | 'retransmit' | 'state' | 'activity'
  | 'ipvs-gone' | 'socket-gone';

/** One bit per timeline kind, for Flow.timelineKinds. */
export const TIMELINE_KIND_BIT: Readonly<Record<TimelineKind, number>> = {
  'ct-new': 1, 'ct-update': 2, 'ct-destroy': 4, 'ct-gone': 8,
  drop: 16, reset: 32, retransmit: 64, state: 128, activity: 256,
  'ipvs-gone': 512, 'socket-gone': 1024,
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
class CtItem implements TimelineItem {
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

  constructor(t: number, kind: TimelineKind, src: string, text: string, scope: string | undefined, dir: MatchDir | undefined, prevAct: number, ev: ConntrackEvent, state: string | null, ls: ConntrackEventLineSource | undefined) {
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
class ProbeItem implements TimelineItem {
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

/** What kdiag knows of one of the two sockets of a flow. */
export interface SocketSide {
  local: Endpoint;
  peer: Endpoint;
  state: string;
  scope: string | undefined;
  t: number;
  src: string;
  raw: string;
  sendQ: number;
  recvQ: number;
  timer: SocketTimer | undefined;
  lastsndMs: number | undefined;
  lastrcvMs: number | undefined;
  lastackMs: number | undefined;
  /** Largest `keepalive timer remaining + time since the last receive` seen, ms; -1 when never seen. */
  kaEstimateMs: number;
  /** Samples (ss rows) with no timer at all, and with any timer. */
  noTimerSamples: number;
  samples: number;
  /** Keepalive read from the socket by the probe (StateEvent). */
  probeKa: SocketKeepalive | undefined;
  probeKaT: number;
  probeKaSrc: string;
  /** The state event that gave probeKa, and the name of the namespace it came from: evidence says it in words. */
  probeKaEvent: StateEvent | undefined;
  probeKaScope: string | undefined;
  gen: number;
  /** Time the socket was last missing from a snapshot of its scope; -1 while present. */
  goneT: number;
  fromSs: boolean;
}

/** The IPVS connection entry of a flow. */
export interface IpvsSide {
  state: string;
  expiresSec: number;
  t: number;
  src: string;
  scope: string | undefined;
  dest: Endpoint;
  gen: number;
  goneT: number;
}

const CT_PRESENT = 1;
const CT_UNREPLIED = 2;
const CT_ASSURED = 4;
const CT_SEEN = 8;
const HAS_ACT = 16;

/** Rarely used per-flow state, allocated only for flows seen by more than a conntrack snapshot. */
class FlowExtra {
  ipvs: IpvsSide | undefined = undefined;
  client: SocketSide | undefined = undefined;
  server: SocketSide | undefined = undefined;
  timeline: TimelineItem[] | undefined = undefined;
  /** TIMELINE_KIND_BITs of every item the timeline has held. */
  kinds = 0;
  oldReplyKeys: number[] | undefined = undefined;
  oldBackends: number[] | undefined = undefined;
  /** Every key the flow left an entry under in the reply index (oldReplyKeys is bounded): removed with it. */
  movedKeys: number[] | undefined = undefined;
  lastActSrc = '';
  ctDelta = -1;
  ctGoneT = -1;
  firstT = -1;
}

/**
 * The strings of a flow's conntrack entry (protocol, state, scope, source), interned as one shared
 * object per distinct combination, so that a flow spends one int on them rather than four.
 */
class CtDesc {
  constructor(
    readonly id: number,
    readonly proto: string,
    readonly state: string | null,
    readonly scope: string | undefined,
    readonly src: string,
  ) {}
}

class DescPool {
  readonly list: CtDesc[] = [];
  private readonly m = new Map<string, CtDesc>();
  private last: CtDesc | undefined = undefined;
  constructor(private readonly intern: (s: string) => string) {}

  get(proto: string, state: string | null, scope: string | undefined, src: string): CtDesc {
    const l = this.last;
    if (l !== undefined && l.proto === proto && l.state === state && l.scope === scope && l.src === src) return l;
    // A table has a few dozen combinations: a scan is cheaper than building the key string.
    const list = this.list;
    if (list.length <= 32) {
      for (let i = 0; i < list.length; i++) {
        const d = list[i]!;
        if (d.proto === proto && d.state === state && d.scope === scope && d.src === src) return (this.last = d);
      }
    }
    // \u0001 marks null/undefined, so they never equal a string.
    const key = `${proto}\u0000${state === null ? '\u0001' : `=${state}`}\u0000${scope === undefined ? '\u0001' : `=${scope}`}\u0000${src}`;
    let d = this.m.get(key);
    if (d === undefined) {
      const s = this.intern;
      d = new CtDesc(list.length, s(proto), state === null ? null : s(state), scope === undefined ? undefined : s(scope), s(src));
      list.push(d);
      this.m.set(key, d);
    }
    return (this.last = d);
  }
}

/** What a flow's numbers live in: the table's rows, or a copy of its own once it left the table. */
interface FlowHome {
  readonly rows: FlowRows;
  readonly pool: DescPool;
  /** Shared time base (ms): times are kept as base + a rounded offset, as they always were. */
  base: number;
}

/** Two 16-bit ports in one int32. */
function pack(hi: number, lo: number): number {
  return (hi << 16) | (lo & 0xffff);
}

/**
 * One connection, joined across NAT. Addresses are ids into the table's intern pool; times are ms
 * since the epoch (-1 = never). The numbers live in a row of the table's typed arrays (FlowRows);
 * the object holds its row and the rarely set state (FlowExtra), so it stays at three fields.
 */
export class Flow {
  /** @internal */
  h: FlowHome;
  /** @internal Row in h.rows. */
  row: number;
  private x: FlowExtra | undefined = undefined;

  /** @internal Flows are made by the FlowTable. */
  constructor(h: FlowHome, row: number) {
    this.h = h;
    this.row = row;
  }

  private ext(): FlowExtra {
    return (this.x ??= new FlowExtra());
  }

  private int(k: number): number {
    return this.h.rows.ints[this.row * NI + k]!;
  }
  private setInt(k: number, v: number): void {
    this.h.rows.ints[this.row * NI + k] = v;
  }

  /** Client, original target, reply source (the backend when DNAT'ed), reply destination: address ids. */
  get c(): number {
    return this.int(C);
  }
  set c(v: number) {
    this.setInt(C, v);
  }
  get tg(): number {
    return this.int(TG);
  }
  set tg(v: number) {
    this.setInt(TG, v);
  }
  get b(): number {
    return this.int(B);
  }
  set b(v: number) {
    this.setInt(B, v);
  }
  get r(): number {
    return this.int(R);
  }
  set r(v: number) {
    this.setInt(R, v);
  }
  get ctTimeout(): number {
    return this.h.rows.nums[this.row * NF + TO]!;
  }
  set ctTimeout(v: number) {
    this.h.rows.nums[this.row * NF + TO] = v;
  }

  private get d(): CtDesc {
    return this.h.pool.list[this.int(D)]!;
  }
  private set d(v: CtDesc) {
    this.setInt(D, v.id);
  }

  get proto(): string {
    return this.d.proto;
  }
  set proto(v: string) {
    const d = this.d;
    if (d.proto !== v) this.d = this.h.pool.get(v, d.state, d.scope, d.src);
  }
  get ctState(): string | null {
    return this.d.state;
  }
  set ctState(v: string | null) {
    const d = this.d;
    if (d.state !== v) this.d = this.h.pool.get(d.proto, v, d.scope, d.src);
  }
  get ctScope(): string | undefined {
    return this.d.scope;
  }
  set ctScope(v: string | undefined) {
    const d = this.d;
    if (d.scope !== v) this.d = this.h.pool.get(d.proto, d.state, v, d.src);
  }
  get ctSrc(): string {
    return this.d.src;
  }
  set ctSrc(v: string) {
    const d = this.d;
    if (d.src !== v) this.d = this.h.pool.get(d.proto, d.state, d.scope, v);
  }
  /** Sets the conntrack entry's strings at once. */
  setCt(state: string | null, scope: string | undefined, src: string): void {
    const d = this.d;
    if (d.state !== state || d.scope !== scope || d.src !== src) this.d = this.h.pool.get(d.proto, state, scope, src);
  }

  get cp(): number {
    return this.int(P1) >>> 16;
  }
  set cp(v: number) {
    this.setInt(P1, pack(v, this.int(P1)));
  }
  get tp(): number {
    return this.int(P1) & 0xffff;
  }
  set tp(v: number) {
    this.setInt(P1, pack(this.int(P1) >>> 16, v));
  }
  get bp(): number {
    return this.int(P2) >>> 16;
  }
  set bp(v: number) {
    this.setInt(P2, pack(v, this.int(P2)));
  }
  get rp(): number {
    return this.int(P2) & 0xffff;
  }
  set rp(v: number) {
    this.setInt(P2, pack(this.int(P2) >>> 16, v));
  }

  /** (ctGen + 1) × 32 + status bits. */
  private get g(): number {
    return this.int(G);
  }
  private set g(v: number) {
    this.setInt(G, v);
  }
  get ctFlags(): number {
    return this.g & 31;
  }
  set ctFlags(v: number) {
    this.g = (this.g & ~31) | (v & 31);
  }
  get ctGen(): number {
    return (this.g >>> 5) - 1;
  }
  set ctGen(v: number) {
    this.g = ((v + 1) << 5) | (this.g & 31);
  }

  get ctT(): number {
    return this.g & CT_SEEN ? this.h.rows.nums[this.row * NF + CT]! : -1;
  }
  set ctT(v: number) {
    const base = this.h.base;
    this.h.rows.nums[this.row * NF + CT] = base + Math.round(v - base);
    this.g |= CT_SEEN;
  }
  get lastAct(): number {
    return this.g & HAS_ACT ? this.h.rows.nums[this.row * NF + ACT]! : -1;
  }
  set lastAct(v: number) {
    const base = this.h.base;
    this.h.rows.nums[this.row * NF + ACT] = base + Math.round(v - base);
    this.g |= HAS_ACT;
  }
  get ctGoneT(): number {
    return this.x?.ctGoneT ?? -1;
  }
  set ctGoneT(v: number) {
    if (v >= 0 || this.x) this.ext().ctGoneT = v;
  }
  get lastActSrc(): string {
    return this.x?.lastActSrc ?? '';
  }
  set lastActSrc(v: string) {
    this.ext().lastActSrc = v;
  }
  get ctDelta(): number {
    return this.x?.ctDelta ?? -1;
  }
  set ctDelta(v: number) {
    this.ext().ctDelta = v;
  }
  get firstT(): number {
    return this.x?.firstT ?? this.ctT;
  }
  set firstT(v: number) {
    if (this.x) this.x.firstT = v;
  }
  get ipvs(): IpvsSide | undefined {
    return this.x?.ipvs;
  }
  set ipvs(v: IpvsSide | undefined) {
    this.ext().ipvs = v;
  }
  get client(): SocketSide | undefined {
    return this.x?.client;
  }
  set client(v: SocketSide | undefined) {
    this.ext().client = v;
  }
  get server(): SocketSide | undefined {
    return this.x?.server;
  }
  set server(v: SocketSide | undefined) {
    this.ext().server = v;
  }
  get timeline(): TimelineItem[] | undefined {
    return this.x?.timeline;
  }
  set timeline(v: TimelineItem[] | undefined) {
    this.ext().timeline = v;
  }
  /**
   * The kinds of item the timeline has held, as TIMELINE_KIND_BITs: a flow without a kind's bit has
   * no such item; one with it may have had it evicted since. Lets a scan for rare kinds skip most flows.
   */
  get timelineKinds(): number {
    return this.x?.kinds ?? 0;
  }
  set timelineKinds(v: number) {
    this.ext().kinds = v;
  }
  get oldReplyKeys(): number[] | undefined {
    return this.x?.oldReplyKeys;
  }
  set oldReplyKeys(v: number[] | undefined) {
    this.ext().oldReplyKeys = v;
  }
  get oldBackends(): number[] | undefined {
    return this.x?.oldBackends;
  }
  set oldBackends(v: number[] | undefined) {
    this.ext().oldBackends = v;
  }
  /** @internal */
  get movedKeys(): number[] | undefined {
    return this.x?.movedKeys;
  }
  /** @internal */
  addMovedKey(k: number): void {
    const m = (this.ext().movedKeys ??= []);
    if (!m.includes(k)) m.push(k);
  }
  /** @internal True while nothing but the conntrack snapshot fields is set. */
  get bare(): boolean {
    return this.x === undefined;
  }

  get ctPresent(): boolean {
    return (this.g & CT_PRESENT) !== 0;
  }
  get ctUnreplied(): boolean {
    return (this.g & CT_UNREPLIED) !== 0;
  }
  get ctAssured(): boolean {
    return (this.g & CT_ASSURED) !== 0;
  }
  /** Sets the conntrack status bits, keeping the bookkeeping ones. */
  setCtStatus(present: boolean, unreplied: boolean, assured: boolean): void {
    let f = this.g & ~(CT_PRESENT | CT_UNREPLIED | CT_ASSURED);
    if (present) f |= CT_PRESENT;
    if (unreplied) f |= CT_UNREPLIED;
    if (assured) f |= CT_ASSURED;
    this.g = f;
  }
  /** True when the reply comes from someone else than the original destination (DNAT). */
  get natted(): boolean {
    return this.b !== this.tg || this.bp !== this.tp;
  }
}

export interface Stamped<T> {
  readonly value: T;
  readonly t: number;
  readonly src: string;
  readonly raw?: string;
}

/** One `conntrack -S` (or /proc/net/stat/nf_conntrack) reading, summed over CPUs. */
export interface StatsSample {
  readonly t: number;
  readonly src: string;
  readonly text: string;
  readonly counters: Readonly<Record<string, number>>;
  readonly entries?: number;
  /** CPU lines in the reading (possible CPUs). */
  readonly cpus: number;
}

export interface FlowTableOptions {
  /** Timeline length per flow. */
  readonly timelineLength?: number;
  /** conntrack -S samples kept per scope. */
  readonly statsHistory?: number;
}

const HOST = '';

/** The generation and row count of one kind of snapshot in one scope. */
class SnapState {
  /** Snapshots begun; 0 = none yet. */
  gen = 0;
  count = 0;
  /** When the snapshot in progress began (its begin record's time). */
  beginT = -1;
  constructor(
    readonly what: SnapshotWhat,
    readonly scope: string | undefined,
    readonly key: string,
  ) {}
}

/** A string that shares no storage with a longer one (see FlowTable.id). */
function flatCopy(s: string): string {
  // Below 13 characters V8 copies on slice anyway; above, a concatenation is flattened into a new
  // string of its own, and the slice of it points only at that.
  return s.length < 13 ? s : ` ${s}`.slice(1);
}

/** The id cache slot of an address: its length and last characters, where addresses differ most. */
function idSlot(addr: string): number {
  const n = addr.length;
  return n < 4 ? 0 : (n * 7 + addr.charCodeAt(n - 1) * 31 + addr.charCodeAt(n - 2) * 5 + addr.charCodeAt(n - 4)) & 255;
}

function ipv4Text(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** An endpoint as one number (address id × 65536 + port), as kept in oldReplyKeys and oldBackends. */
function ek(id: number, port: number): number {
  return id * 65536 + port;
}

function ekId(k: number): number {
  return Math.floor(k / 65536);
}

function ekPort(k: number): number {
  return k % 65536;
}

function scopeKey(scope: string | undefined): string {
  return scope ?? HOST;
}

function normSysctlKey(k: string): string {
  return k.trim().replace(/\//g, '.');
}

/** Joins every observation into flows and keeps the node-wide settings, in time order. */
export class FlowTable {
  /** Address ids: IPv4 addresses by their int32 (no string kept), others by their text. */
  private readonly v4Ids = new IntIds();
  private readonly addrIds = new Map<string, number>();
  /** Each id's IPv4 address as an int32, or 0 for the ids in addrTexts. */
  private readonly addrs = new Int32List();
  private readonly addrTexts = new Map<number, string>();
  private readonly strs = new Map<string, string>();
  private readonly home: FlowHome = { rows: new FlowRows(), pool: new DescPool((s) => this.str(s)), base: 0 };
  /** The flow of each row in use. */
  private readonly objs: (Flow | undefined)[] = [];
  /** Rows by their client endpoint (original source): the flows of the table. */
  private readonly byOrig = new EndpointRows();
  /**
   * NAT'ed flows by their reply destination (the client, or the masquerade address). An entry keeps
   * the key it was added under: when a flow's reply key changes, its old entry stays, so late packets
   * of the previous backend still find it.
   */
  private readonly byReply = new EndpointRows();
  /** First and last row in first-seen order (flows(), see index()); -1 when empty. */
  private head = -1;
  private tail = -1;
  private clockSet = false;
  private readonly snaps = new Map<string, SnapState>();
  private lastSnap: SnapState | undefined = undefined;
  private readonly lastSnapCount = new Map<string, Stamped<number>>();
  private readonly sysctls = new Map<string, Map<string, Stamped<string>>>();
  /** Each value a sysctl took, stamped with its first reading, per scope and key (oldest first, bounded). */
  private readonly sysctlChanges = new Map<string, Stamped<string>[]>();
  /** Wall clock minus kernel monotonic clock (ms), estimated from probe events: the smallest delivery delay seen. */
  private probeOffsetMs = Infinity;
  private readonly stats = new Map<string, StatsSample[]>();
  private readonly rulesets = new Map<string, Stamped<IptablesRuleset>>();
  private readonly metas = new Map<string, Stamped<unknown>>();
  private readonly netnsLabels = new Map<number, string>();
  private readonly timelineLength: number;
  private readonly statsLength: number;
  kubeProxy: Stamped<KubeProxySettings> | undefined = undefined;
  ipvsTimeouts: Stamped<IpvsTimeouts> | undefined = undefined;
  ipvsServices: Stamped<readonly IpvsService[]> | undefined = undefined;
  ipvsStats: Stamped<readonly IpvsStatsRow[]> | undefined = undefined;
  /** Kernel log lines kdiag was given (meta `kernel-log`), newest last, bounded. */
  readonly kernelLog: Stamped<string>[] = [];
  /** Time of the latest observation (ms). */
  latestT = 0;
  firstT = -1;

  constructor(opts: FlowTableOptions = {}) {
    this.timelineLength = opts.timelineLength ?? 32;
    this.statsLength = opts.statsHistory ?? 64;
  }

  /** Ingests one observation; observations must come in time order. */
  apply(obs: Observation): void {
    if (!this.clockSet) {
      this.home.base = obs.t;
      this.clockSet = true;
    }
    if (obs.t > this.latestT) this.latestT = obs.t;
    if (this.firstT < 0 || obs.t < this.firstT) this.firstT = obs.t;
    switch (obs.kind) {
      case 'snapshot-begin':
        this.beginSnapshot(obs.what, obs.scope, obs.t);
        return;
      case 'snapshot-end':
        this.endSnapshot(obs.what, obs.scope, obs.t, obs.src);
        return;
      case 'conntrack-entry':
        this.upsertConntrack(obs.entry, obs.t, obs.src, obs.scope, true);
        return;
      case 'conntrack-event':
        this.conntrackEvent(obs.event, obs.t, obs.src, obs.scope, obs.raw, obs.reparse);
        return;
      case 'conntrack-stats':
        this.addStats(obs.cpus, obs.t, obs.src, obs.scope, obs.raw);
        return;
      case 'ipvs-conn':
        this.upsertIpvs(obs.conn, obs.t, obs.src, obs.scope);
        return;
      case 'ipvs-services':
        this.ipvsServices = { value: obs.services, t: obs.t, src: obs.src };
        return;
      case 'ipvs-timeouts':
        this.ipvsTimeouts = { value: obs.timeouts, t: obs.t, src: obs.src, raw: obs.raw };
        return;
      case 'ipvs-stats':
        this.ipvsStats = { value: obs.rows, t: obs.t, src: obs.src };
        return;
      case 'socket':
        this.upsertSocket(obs.socket, obs.t, obs.src, obs.scope ?? obs.socket.netns, obs.raw);
        return;
      case 'sysctls': {
        const sk = scopeKey(obs.scope);
        let m = this.sysctls.get(sk);
        if (!m) {
          m = new Map();
          this.sysctls.set(sk, m);
        }
        for (const [k, v] of Object.entries(obs.values)) {
          const key = normSysctlKey(k);
          const value = String(v).trim();
          const prev = m.get(key);
          const stamped = { value, t: obs.t, src: this.str(obs.src) };
          if (prev && prev.value !== value) {
            // Keep what was in force before, so a finding can quote the value at the time of an event.
            const hk = `${sk}|${key}`;
            const ch = this.sysctlChanges.get(hk) ?? [{ ...prev, t: Math.min(prev.t, this.firstT >= 0 ? this.firstT : prev.t) }];
            ch.push(stamped);
            if (ch.length > 8) ch.shift();
            this.sysctlChanges.set(hk, ch);
          }
          m.set(key, stamped);
        }
        return;
      }
      case 'iptables':
        this.rulesets.set(scopeKey(obs.scope), { value: obs.ruleset, t: obs.t, src: obs.src });
        return;
      case 'kube-proxy':
        this.kubeProxy = { value: obs.settings, t: obs.t, src: obs.src, raw: obs.raw };
        return;
      case 'probe':
        this.probeEvent(obs.event, obs.t, obs.src, obs.scope, obs.raw, obs.reparse);
        return;
      case 'meta':
        this.applyMeta(obs.key, obs.value, obs.t, obs.src, obs.raw);
        return;
    }
  }

  // ---- read side -------------------------------------------------------------------------

  /** Every flow, in first-seen order. Flows must not be added or removed while iterating. */
  *flows(): IterableIterator<Flow> {
    for (let r = this.head; r >= 0; r = this.home.rows.ints[r * NI + NEXT]!) yield this.flow(r);
  }

  get size(): number {
    return this.byOrig.count;
  }

  addr(id: number): string {
    const a = this.addrs.at(id);
    if (a === undefined) return '?';
    return (this.addrTexts.size > 0 ? this.addrTexts.get(id) : undefined) ?? ipv4Text(a);
  }

  client(f: Flow): Endpoint {
    return { addr: this.addr(f.c), port: f.cp };
  }
  target(f: Flow): Endpoint {
    return { addr: this.addr(f.tg), port: f.tp };
  }
  backend(f: Flow): Endpoint | undefined {
    return f.natted ? { addr: this.addr(f.b), port: f.bp } : undefined;
  }
  replyDst(f: Flow): Endpoint {
    return { addr: this.addr(f.r), port: f.rp };
  }

  /** Stable id: `tcp 10.0.0.1:42766>10.96.0.10:80`, the client's original tuple. */
  flowId(f: Flow): string {
    return `${f.proto} ${endpointKey(this.client(f))}>${endpointKey(this.target(f))}`;
  }

  /** Finds the flow a packet tuple belongs to, in either direction, before or after NAT. */
  lookup(proto: string, src: Endpoint, dst: Endpoint): { flow: Flow; dir: MatchDir } | undefined {
    const f = this.match(proto, src.addr, src.port, dst.addr, dst.port);
    return f === undefined ? undefined : { flow: f, dir: this.matchDir };
  }

  /** How the last match() found its flow. */
  private matchDir: MatchDir = 'orig';

  /** lookup() without building endpoints or a result: the direction is left in matchDir. */
  private match(proto: string, sa: string, sp: number, da: string, dp: number): Flow | undefined {
    const sId = this.idOf(sa);
    if (sId === undefined) return undefined;
    return this.matchIds(proto, sId, sp, this.idOf(da), dp);
  }

  private matchIds(proto: string, sId: number | undefined, sp: number, dId: number | undefined, dp: number): Flow | undefined {
    if (sId === undefined || dId === undefined) return undefined;
    let f: Flow | undefined;
    if ((f = this.findOrig(proto, sId, sp, dId, dp))) this.matchDir = 'orig';
    else if ((f = this.findReply(proto, dId, dp, sId, sp))) this.matchDir = 'reply';
    else if ((f = this.findOrig(proto, dId, dp, sId, sp))) this.matchDir = 'orig-rev';
    else if ((f = this.findReply(proto, sId, sp, dId, dp))) this.matchDir = 'reply-rev';
    return f;
  }

  /** A sysctl value as last read in a scope (undefined scope = the host netns). */
  sysctl(key: string, scope?: string): Stamped<string> | undefined {
    return this.sysctls.get(scopeKey(scope))?.get(normSysctlKey(key));
  }

  /**
   * The sysctl value last read at or before `t` (the reading in force then), else the earliest
   * reading kdiag has. A reading may lag a change by one snapshot interval.
   */
  sysctlAt(key: string, scope: string | undefined, t: number): Stamped<string> | undefined {
    const k = normSysctlKey(key);
    const cur = this.sysctls.get(scopeKey(scope))?.get(k);
    const ch = this.sysctlChanges.get(`${scopeKey(scope)}|${k}`);
    if (!cur || !ch) return cur;
    let best: Stamped<string> | undefined;
    for (const c of ch) if (c.t <= t) best = c;
    return best ?? ch[0];
  }

  /** Each value a sysctl took during the capture with its first reading, oldest first. */
  sysctlHistory(key: string, scope?: string): Stamped<string>[] {
    const k = normSysctlKey(key);
    const cur = this.sysctls.get(scopeKey(scope))?.get(k);
    const ch = this.sysctlChanges.get(`${scopeKey(scope)}|${k}`);
    return ch ? [...ch] : cur ? [cur] : [];
  }


  /** A numeric sysctl, or undefined when unknown or not a number. */
  sysctlNum(key: string, scope?: string): number | undefined {
    const v = this.sysctl(key, scope);
    if (!v) return undefined;
    const n = Number(v.value);
    return Number.isFinite(n) ? n : undefined;
  }

  /** Scopes that reported sysctls. */
  sysctlScopes(): string[] {
    return [...this.sysctls.keys()].map((s) => s);
  }

  statsHistory(scope?: string): readonly StatsSample[] {
    return this.stats.get(scopeKey(scope)) ?? [];
  }

  iptables(scope?: string): Stamped<IptablesRuleset> | undefined {
    return this.rulesets.get(scopeKey(scope));
  }

  meta(key: string): Stamped<unknown> | undefined {
    return this.metas.get(key);
  }

  /** Entries in the last complete conntrack snapshot of a scope. */
  conntrackCount(scope?: string): Stamped<number> | undefined {
    return this.lastSnapCount.get(`conntrack|${scopeKey(scope)}`);
  }

  /** Scope label for a probe event's netns inode, when the session told us (meta `netns-label`). */
  scopeOfNetns(inode: number): string | undefined {
    return this.netnsLabels.get(inode);
  }

  /** A one-line conntrack-like summary of the flow's current conntrack entry. */
  conntrackSummary(f: Flow): string {
    const parts = [f.proto, f.ctTimeout >= 0 ? String(f.ctTimeout) : '', f.ctState ?? ''].filter((p) => p !== '');
    const c = this.client(f);
    const tg = this.target(f);
    const b = { addr: this.addr(f.b), port: f.bp };
    const r = this.replyDst(f);
    const unrep = f.ctUnreplied ? ' [UNREPLIED]' : '';
    const ass = f.ctAssured ? ' [ASSURED]' : '';
    return `${parts.join(' ')} src=${c.addr} dst=${tg.addr} sport=${c.port} dport=${tg.port}${unrep} src=${b.addr} dst=${r.addr} sport=${b.port} dport=${r.port}${ass}`;
  }

  /** A one-line summary of the flow's IPVS connection. */
  ipvsSummary(f: Flow): string {
    const v = f.ipvs;
    if (!v) return '';
    const mm = Math.floor(v.expiresSec / 60);
    const ss = v.expiresSec % 60;
    const exp = `${String(mm).padStart(2, '0')}:${String(ss).padStart(2, '0')}`;
    return `${f.proto.toUpperCase()} ${exp} ${v.state} ${endpointKey(this.client(f))} ${endpointKey(this.target(f))} ${endpointKey(v.dest)}`;
  }

  // ---- snapshots -------------------------------------------------------------------------

  private snapKey(what: SnapshotWhat, scope: string | undefined): string {
    return `${what}|${scopeKey(scope)}`;
  }

  /** The state of a kind of snapshot in a scope; rows of one snapshot come in a row, so the last one is kept at hand. */
  private snap(what: SnapshotWhat, scope: string | undefined): SnapState {
    const l = this.lastSnap;
    if (l !== undefined && l.what === what && l.scope === scope) return l;
    const k = this.snapKey(what, scope);
    let s = this.snaps.get(k);
    if (s === undefined) {
      s = new SnapState(what, scope, k);
      this.snaps.set(k, s);
    }
    return (this.lastSnap = s);
  }

  private beginSnapshot(what: SnapshotWhat, scope: string | undefined, t: number): void {
    const s = this.snap(what, scope);
    s.gen++;
    s.count = 0;
    s.beginT = t;
  }

  private currentGen(what: SnapshotWhat, scope: string | undefined): number {
    return this.snap(what, scope).gen;
  }

  private countRow(what: SnapshotWhat, scope: string | undefined): void {
    this.snap(what, scope).count++;
  }

  private endSnapshot(what: SnapshotWhat, scope: string | undefined, t: number, src: string): void {
    const s = this.snap(what, scope);
    const gen = s.gen;
    if (gen === 0) return;
    this.lastSnapCount.set(s.key, { value: s.count, t, src });
    const sk = scopeKey(scope);
    const dead: number[] = [];
    const ints = this.home.rows.ints;
    const nums = this.home.rows.nums;
    const descs = this.home.pool.list;
    // A snapshot's rows are stamped with the time it began, and events seen while it read the table
    // may come in before them (a recording's snapshot even comes whole at its end): an entry a
    // conntrack event shows at or after that time may have been made after its row was read. It is
    // not gone; the next snapshot tells.
    const beginT = s.beginT;
    for (let r = this.head; r >= 0; r = ints[r * NI + NEXT]!) {
      // Read from the row: this runs over every flow at every snapshot's end, and most flows have
      // no object (only a conntrack snapshot row) and nothing but the row to update.
      const f = this.objs[r];
      if (what === 'conntrack') {
        const g = ints[r * NI + G]!;
        if (g & CT_PRESENT && (g >>> 5) - 1 !== gen && scopeKey(descs[ints[r * NI + D]!]!.scope) === sk && nums[r * NF + CT]! < beginT) {
          if (f === undefined) {
            // Gone and with nothing else to show: it leaves the table now, unseen.
            ints[r * NI + G] = g & ~CT_PRESENT;
            dead.push(r);
            continue;
          }
          f.setCtStatus(false, f.ctUnreplied, f.ctAssured);
          f.ctGoneT = t;
          if (f.client || f.server || f.ipvs || f.timeline) {
            this.push(f, { t, kind: 'ct-gone', src, text: `conntrack entry gone: ${this.conntrackSummary(f)}`, scope });
          }
        }
      }
      // Still in conntrack: live, nothing else to do.
      if (what === 'conntrack' && (ints[r * NI + G]! & CT_PRESENT) !== 0) continue;
      if (f === undefined || f.bare) {
        if ((ints[r * NI + G]! & CT_PRESENT) === 0) dead.push(r);
        continue;
      }
      if (what === 'ipvs-conns') {
        const v = f.ipvs;
        if (v && v.goneT < 0 && scopeKey(v.scope) === sk && v.gen !== gen) {
          v.goneT = t;
          if (f.timeline || f.client || f.server) {
            this.push(f, { t, kind: 'ipvs-gone', src, text: `IPVS connection gone: ${this.ipvsSummary(f)}`, scope });
          }
        }
      } else if (what === 'sockets') {
        for (const s of [f.client, f.server]) {
          if (s && s.goneT < 0 && scopeKey(s.scope) === sk && s.gen !== gen && s.fromSs) {
            s.goneT = t;
            this.push(f, { t, kind: 'socket-gone', src, text: `socket gone: ${s.raw}`, scope });
          }
        }
      }
      if (!f.timeline && !this.isLive(f)) dead.push(r);
    }
    for (const r of dead) this.drop(r);
  }

  /** True while some source still shows the flow. */
  isLive(f: Flow): boolean {
    return (
      f.ctPresent ||
      (f.ipvs !== undefined && f.ipvs.goneT < 0) ||
      (f.client !== undefined && f.client.goneT < 0 && f.client.fromSs) ||
      (f.server !== undefined && f.server.goneT < 0 && f.server.fromSs)
    );
  }

  /**
   * The object of row r. It is made when first asked for (a million snapshot rows need none until
   * they are read), and then kept: callers may hold flows and compare them.
   */
  private flow(r: number): Flow {
    return (this.objs[r] ??= new Flow(this.home, r));
  }

  /** A new flow in a free row, not indexed yet (see index()). */
  private newRow(proto: string, c: number, cp: number, tg: number, tp: number): number {
    const h = this.home;
    const r = h.rows.alloc();
    const ints = h.rows.ints;
    const o = r * NI;
    ints[o + C] = c;
    ints[o + TG] = tg;
    ints[o + B] = tg;
    ints[o + R] = c;
    ints[o + P1] = pack(cp, tp);
    ints[o + P2] = pack(tp, cp);
    ints[o + G] = 0;
    ints[o + D] = h.pool.get(proto, null, undefined, '').id;
    ints[o + NEXT] = -1;
    ints[o + PREV] = -1;
    const nums = h.rows.nums;
    nums[r * NF + TO] = -1;
    nums[r * NF + CT] = 0;
    nums[r * NF + ACT] = 0;
    return r;
  }

  /**
   * Puts f in the table under its client endpoint. flows() goes in the order a Map keyed by client
   * endpoint would: a flow whose client endpoint is already in the table comes right after the
   * others with it, else last.
   */
  private index(r: number): void {
    const ints = this.home.rows.ints;
    const c = ints[r * NI + C]!;
    const cp = ints[r * NI + P1]! >>> 16;
    let after = -1;
    for (let o = this.byOrig.first(c, cp); o >= 0; o = this.byOrig.next()) {
      if (o === r) return;
      if (after < 0) after = o;
    }
    if (after >= 0) {
      // The group of flows with this client endpoint is contiguous: find its end.
      for (let n = ints[after * NI + NEXT]!; n >= 0 && ints[n * NI + C] === c && ints[n * NI + P1]! >>> 16 === cp; n = ints[n * NI + NEXT]!) after = n;
    } else after = this.tail;
    this.byOrig.add(c, cp, r);
    const next = after < 0 ? this.head : ints[after * NI + NEXT]!;
    ints[r * NI + PREV] = after;
    ints[r * NI + NEXT] = next;
    if (after < 0) this.head = r;
    else ints[after * NI + NEXT] = r;
    if (next < 0) this.tail = r;
    else ints[next * NI + PREV] = r;
  }

  /** Takes row r out of the indexes; it keeps its row (it is re-indexed under a new key). */
  private unindex(r: number): void {
    const ints = this.home.rows.ints;
    if (this.byOrig.delete(ints[r * NI + C]!, ints[r * NI + P1]! >>> 16, r)) {
      const prev = ints[r * NI + PREV]!;
      const next = ints[r * NI + NEXT]!;
      if (prev < 0) this.head = next;
      else ints[prev * NI + NEXT] = next;
      if (next < 0) this.tail = prev;
      else ints[next * NI + PREV] = prev;
      ints[r * NI + PREV] = -1;
      ints[r * NI + NEXT] = -1;
    }
    if (this.rowHasReplyKey(r)) this.byReply.delete(ints[r * NI + R]!, ints[r * NI + P2]! & 0xffff, r);
    for (const ok of this.objs[r]?.oldReplyKeys ?? []) this.byReply.delete(ekId(ok), ekPort(ok), r);
  }

  /** Removes row r from the table for reuse; its object, if any, keeps its values in a row of its own. */
  private drop(r: number): void {
    this.unindex(r);
    const h = this.home;
    const f = this.objs[r];
    if (f !== undefined) {
      // No entry may be left to point at the row once it is reused.
      for (const ok of f.movedKeys ?? []) this.byReply.delete(ekId(ok), ekPort(ok), r);
      f.h = { rows: h.rows.copy(r), pool: h.pool, base: h.base };
      f.row = 0;
      this.objs[r] = undefined;
    }
    h.rows.release(r);
  }

  private findOrig(proto: string, c: number, cp: number, tg: number, tp: number): Flow | undefined {
    const r = this.origRow(proto, c, cp, tg, tp);
    return r < 0 ? undefined : this.flow(r);
  }

  /** The row of the flow with client (c, cp), original target (tg, tp) and protocol proto, else -1. */
  private origRow(proto: string, c: number, cp: number, tg: number, tp: number): number {
    const ix = this.byOrig;
    const ints = this.home.rows.ints;
    const descs = this.home.pool.list;
    for (let r = ix.first(c, cp); r >= 0; r = ix.next()) {
      const o = r * NI;
      if (ints[o + TG] === tg && (ints[o + P1]! & 0xffff) === tp && descs[ints[o + D]!]!.proto === proto) return r;
    }
    return -1;
  }

  /** The NAT'ed flow with reply destination (rd, rdp) and backend (b, bp), present or previous. */
  private findReply(proto: string, rd: number, rdp: number, b: number, bp: number): Flow | undefined {
    const ix = this.byReply;
    const ints = this.home.rows.ints;
    const descs = this.home.pool.list;
    for (let r = ix.first(rd, rdp); r >= 0; r = ix.next()) {
      const o = r * NI;
      if (descs[ints[o + D]!]!.proto !== proto) continue;
      if ((ints[o + B] === b && ints[o + P2]! >>> 16 === bp) || (this.objs[r]?.oldBackends?.includes(ek(b, bp)) ?? false)) return this.flow(r);
    }
    return undefined;
  }

  // ---- conntrack -------------------------------------------------------------------------

  /** Applies a conntrack entry; returns the flow's row. Works on the row: most flows never get an object. */
  private upsertConntrack(
    e: ConntrackEntry,
    t: number,
    src: string,
    scope: string | undefined,
    fromSnapshot: boolean,
    srcId?: number,
    dstId?: number,
  ): number {
    const proto = e.proto;
    const o = e.orig;
    const r = e.reply;
    const oc = srcId ?? this.addrId(o.src, o.src4);
    const ocp = o.sport ?? 0;
    const ot = dstId ?? this.addrId(o.dst, o.dst4);
    const otp = o.dport ?? 0;
    let fr = this.origRow(proto, oc, ocp, ot, otp);
    // A flow first seen from the backend side (socket, probe) is keyed by the DNAT'ed tuple client → backend.
    // The reply's ends are mostly the original's (the client, and the target unless DNAT'ed).
    const rd = r.dst === o.src ? oc : this.addrId(r.dst, r.dst4);
    const rs = r.src === o.dst ? ot : this.addrId(r.src, r.src4);
    const rdp = r.dport ?? 0;
    const rsp = r.sport ?? 0;
    if (rd !== oc || rdp !== ocp || rs !== ot || rsp !== otp) {
      const gr = this.origRow(proto, rd, rdp, rs, rsp);
      if (gr >= 0 && gr !== fr) {
        if (fr >= 0) this.merge(this.flow(fr), this.flow(gr));
        else {
          this.unindex(gr);
          fr = gr;
          const f = this.flow(gr);
          f.c = oc;
          f.cp = ocp;
          f.tg = ot;
          f.tp = otp;
          // Reset the reply side so the NAT'ed reply tuple below gets indexed.
          f.b = f.tg;
          f.bp = f.tp;
          f.r = f.c;
          f.rp = f.cp;
          this.index(fr);
        }
      }
    }
    if (fr < 0) {
      fr = this.newRow(proto, oc, ocp, ot, otp);
      this.index(fr);
    }
    const rows = this.home.rows;
    const ints = rows.ints;
    const descs = this.home.pool.list;
    const io = fr * NI;
    let d = descs[ints[io + D]!]!;
    // Host conntrack is where kube-proxy NATs; a pod netns entry never overrides it.
    if (ints[io + G]! & CT_PRESENT && d.scope === undefined && scope !== undefined) return fr;
    // A snapshot's rows are stamped with its start, and events seen while it read the table may come
    // in before them: an event of this entry after that start (a change, or its DESTROY) is newer
    // than the row, which then only says the entry was in the table when read. It keeps a present entry
    // from being declared gone by this snapshot, and neither revives a destroyed one nor puts an
    // older state back.
    if (fromSnapshot && ((ints[io + G]! & CT_SEEN && rows.nums[fr * NF + CT]! > t) || (this.objs[fr]?.ctGoneT ?? -1) > t) && scopeKey(d.scope) === scopeKey(scope)) {
      const snap = this.snap('conntrack', scope);
      snap.count++;
      const g = ints[io + G]!;
      if (g & CT_PRESENT) ints[io + G] = ((snap.gen + 1) << 5) | (g & 31);
      return fr;
    }
    if (rs !== ints[io + B] || rd !== ints[io + R] || pack(rsp, rdp) !== ints[io + P2]) {
      if (this.rowHasReplyKey(fr)) {
        const f = this.flow(fr);
        const old = ek(f.r, f.rp);
        // Late packets of the previous backend still find the flow.
        if (old !== ek(rd, rdp)) (f.oldReplyKeys ??= []).push(old);
        (f.oldBackends ??= []).push(ek(f.b, f.bp));
        if ((f.oldReplyKeys?.length ?? 0) > 4) f.oldReplyKeys?.shift();
        if (f.oldBackends.length > 4) f.oldBackends.shift();
        f.b = rs;
        f.bp = rsp;
        f.r = rd;
        f.rp = rdp;
        const rk = this.replyKey(f);
        // The entry under the old key stays (it has its key): remember it, to remove it with the flow.
        if (old !== rk) f.addMovedKey(old);
        if (rk !== undefined) this.byReply.add(rd, rdp, fr);
      } else {
        ints[io + B] = rs;
        ints[io + R] = rd;
        ints[io + P2] = pack(rsp, rdp);
        if (this.rowHasReplyKey(fr)) this.byReply.add(rd, rdp, fr);
      }
    }
    const nums = rows.nums;
    if (e.timeout !== null) nums[fr * NF + TO] = e.timeout;
    const base = this.home.base;
    nums[fr * NF + CT] = base + Math.round(t - base);
    let g = (ints[io + G]! & ~(CT_PRESENT | CT_UNREPLIED | CT_ASSURED)) | CT_PRESENT | CT_SEEN;
    if (e.unreplied) g |= CT_UNREPLIED;
    if (e.assured) g |= CT_ASSURED;
    let snap: SnapState | undefined;
    if (fromSnapshot) {
      snap = this.snap('conntrack', scope);
      snap.count++;
      g = ((snap.gen + 1) << 5) | (g & 31);
    }
    ints[io + G] = g;
    const state = e.state === null ? d.state : e.state;
    // The pool interns the strings of a new combination; a known one is found by comparing them.
    if (d.state !== state || d.scope !== scope || d.src !== src) {
      d = this.home.pool.get(d.proto, state, scope, src);
      ints[io + D] = d.id;
    }
    const f = this.objs[fr];
    if (f !== undefined && f.ctGoneT >= 0) f.ctGoneT = -1;
    if (e.deltaTime !== undefined) this.flow(fr).ctDelta = e.deltaTime;
    return fr;
  }

  private conntrackEvent(ev: ConntrackEvent, t: number, src: string, scope: string | undefined, raw: string | undefined, reparse: ConntrackEventLineSource | undefined): void {
    const e = ev.entry;
    const at = ev.ts !== undefined && Number.isFinite(ev.ts) ? Math.round(ev.ts * 1000) : t;
    const kind = ev.type === 'NEW' ? 'ct-new' : ev.type === 'UPDATE' ? 'ct-update' : 'ct-destroy';
    // A packet from the backend side after the flow's entry was lost is picked up as a flow of its own
    // (orig = backend → client, not NAT'ed): it belongs to the flow whose reply it is.
    // The ids of the original tuple, once for the three searches below. Made if new: upsertConntrack
    // would make them in this order anyway, unless a flow is found, which means they existed.
    const sId = this.addrId(e.orig.src, e.orig.src4);
    const dId = this.addrId(e.orig.dst, e.orig.dst4);
    const rev = this.reversePickup(e, sId, dId);
    if (rev) {
      const prevAct = rev.lastAct;
      if (ev.type !== 'DESTROY') this.touch(rev, at, 'conntrack event');
      this.push(rev, this.ctItem(at, kind, src, raw ?? `[${ev.type}] (reverse pickup)`, scope, 'reply', prevAct, ev, raw === undefined ? undefined : reparse));
      return;
    }
    let f: Flow | undefined;
    let prevAct = -1;
    if (ev.type === 'DESTROY') {
      f = this.matchIds(e.proto, sId, e.orig.sport ?? 0, dId, e.orig.dport ?? 0);
      if (!f) f = this.flow(this.upsertConntrack(e, at, src, scope, false, sId, dId));
      prevAct = f.lastAct;
      if (scopeKey(f.ctScope) === scopeKey(scope)) {
        f.setCtStatus(false, f.ctUnreplied, f.ctAssured);
        f.ctGoneT = at;
        if (e.state !== null) f.ctState = this.str(e.state);
      }
    } else {
      const g = this.matchIds(e.proto, sId, e.orig.sport ?? 0, dId, e.orig.dport ?? 0);
      prevAct = g ? g.lastAct : -1;
      f = this.flow(this.upsertConntrack(e, at, src, scope, false, sId, dId));
      // The entry was created or changed by a packet just now.
      this.touch(f, at, 'conntrack event');
      f.ctGen = this.currentGen('conntrack', scope);
    }
    this.push(f, this.ctItem(at, kind, src, raw ?? `[${ev.type}] ${this.conntrackSummary(f)}`, scope, undefined, prevAct, ev, raw === undefined ? undefined : reparse));
  }

  /** A conntrack-event item; `ls` given when `text` is the line `ev` was parsed from (see CtItem). */
  private ctItem(t: number, kind: TimelineKind, src: string, text: string, scope: string | undefined, dir: MatchDir | undefined, prevAct: number, ev: ConntrackEvent, ls: ConntrackEventLineSource | undefined): CtItem {
    const st = ev.entry.state;
    return new CtItem(t, kind, src, text, scope, dir, prevAct, ev, st === null ? null : this.str(st), ls);
  }

  /** The NAT'ed flow whose reply direction this entry's original tuple is, when no flow has it as its own. */
  private reversePickup(e: ConntrackEntry, sId: number, dId: number): Flow | undefined {
    const proto = e.proto;
    const sp = e.orig.sport ?? 0;
    const dp = e.orig.dport ?? 0;
    if (this.origRow(proto, sId, sp, dId, dp) >= 0) return undefined;
    // Not NAT'ed itself: the reply tuple is the plain reverse of the original one.
    if (e.reply.src !== e.orig.dst || e.reply.dst !== e.orig.src) return undefined;
    return this.findReply(proto, dId, dp, sId, sp);
  }

  private addStats(cpus: readonly ConntrackCpuStats[], t: number, src: string, scope: string | undefined, raw: string | undefined): void {
    const sum: Record<string, number> = {};
    let entries: number | undefined;
    for (const c of cpus) {
      for (const [k, v] of Object.entries(c.counters)) if (Number.isFinite(v)) sum[k] = (sum[k] ?? 0) + v;
      if (c.entries !== undefined) entries = c.entries;
    }
    const text =
      raw ??
      `conntrack -S: ${['invalid', 'drop', 'early_drop', 'insert_failed']
        .filter((k) => sum[k] !== undefined)
        .map((k) => `${k}=${sum[k]}`)
        .join(' ')}${entries !== undefined ? ` entries=${entries}` : ''}`;
    const sk = scopeKey(scope);
    let h = this.stats.get(sk);
    if (!h) {
      h = [];
      this.stats.set(sk, h);
    }
    h.push(entries === undefined ? { t, src, text, counters: sum, cpus: cpus.length } : { t, src, text, counters: sum, entries, cpus: cpus.length });
    if (h.length > this.statsLength) h.shift();
  }

  // ---- IPVS ------------------------------------------------------------------------------

  private upsertIpvs(c: IpvsConn, t: number, src: string, scope: string | undefined): void {
    if (c.template) return;
    const proto = this.str(c.proto.toLowerCase());
    let f = this.findOrig(proto, this.id(c.client.addr), c.client.port, this.id(c.virtual.addr), c.virtual.port);
    if (!f) f = this.match(proto, c.client.addr, c.client.port, c.dest.addr, c.dest.port);
    if (!f) {
      f = this.flow(this.newRow(proto, this.id(c.client.addr), c.client.port, this.id(c.virtual.addr), c.virtual.port));
      f.b = this.id(c.dest.addr);
      f.bp = c.dest.port;
      this.index(f.row);
      if (this.hasReplyKey(f)) this.byReply.add(f.r, f.rp, f.row);
    }
    const gen = this.currentGen('ipvs-conns', scope);
    const prev = f.ipvs;
    if (prev) {
      prev.state = this.str(c.state);
      prev.expiresSec = c.expiresSec;
      prev.t = t;
      prev.src = this.str(src);
      prev.gen = gen;
      prev.goneT = -1;
      prev.dest = c.dest;
    } else {
      f.ipvs = { state: this.str(c.state), expiresSec: c.expiresSec, t, src: this.str(src), scope, dest: c.dest, gen, goneT: -1 };
    }
    this.countRow('ipvs-conns', scope);
  }

  // ---- sockets ---------------------------------------------------------------------------

  private upsertSocket(s: SocketInfo, t: number, src: string, scope: string | undefined, raw: string | undefined): void {
    const proto = 'tcp';
    const hit = this.lookup(proto, s.local, s.peer);
    let f = hit?.flow;
    let isClient: boolean;
    if (f && hit) {
      // local = original source, or local = reply destination facing the backend: the client side.
      isClient = hit.dir === 'orig' || hit.dir === 'reply-rev';
    } else {
      // No conntrack yet: the side with the ephemeral (higher) port is the client.
      isClient = s.local.port > s.peer.port;
      const c = isClient ? s.local : s.peer;
      const tg = isClient ? s.peer : s.local;
      f = this.flow(this.newRow(proto, this.id(c.addr), c.port, this.id(tg.addr), tg.port));
      this.index(f.row);
    }
    const side = this.side(f, isClient, s.local, s.peer, scope, t, src);
    side.state = this.str(s.state);
    side.scope = scope === undefined ? undefined : this.str(scope);
    side.t = t;
    side.src = this.str(src);
    side.raw = raw ?? `${s.state} ${s.recvQ} ${s.sendQ} ${endpointKey(s.local)} ${endpointKey(s.peer)}${s.timer ? ` timer:(${s.timer.name},${s.timer.remainingMs}ms,${s.timer.count})` : ''}`;
    side.sendQ = s.sendQ;
    side.recvQ = s.recvQ;
    side.timer = s.timer;
    side.lastsndMs = s.lastsndMs;
    side.lastrcvMs = s.lastrcvMs;
    side.lastackMs = s.lastackMs;
    side.samples++;
    side.fromSs = true;
    side.goneT = -1;
    side.gen = this.currentGen('sockets', scope);
    if (!s.timer) side.noTimerSamples++;
    else if (s.timer.name === 'keepalive' && s.timer.count === 0) {
      // The timer is re-armed for the remainder after activity: remaining + time since the last
      // receive ≤ TCP_KEEPIDLE, with equality when it was armed right after the last packet.
      const since = Math.min(s.lastrcvMs ?? Infinity, s.lastackMs ?? Infinity);
      const est = s.timer.remainingMs + (Number.isFinite(since) ? since : 0);
      if (est > side.kaEstimateMs) side.kaEstimateMs = est;
    }
    const idle = Math.min(s.lastsndMs ?? Infinity, s.lastrcvMs ?? Infinity, s.lastackMs ?? Infinity);
    if (Number.isFinite(idle)) this.touch(f, t - idle, 'ss lastsnd/lastrcv/lastack');
    this.countRow('sockets', scope);
  }

  private side(f: Flow, isClient: boolean, local: Endpoint, peer: Endpoint, scope: string | undefined, t: number, src: string): SocketSide {
    const cur = isClient ? f.client : f.server;
    if (cur) return cur;
    const s: SocketSide = {
      local,
      peer,
      state: '',
      scope,
      t,
      src,
      raw: '',
      sendQ: 0,
      recvQ: 0,
      timer: undefined,
      lastsndMs: undefined,
      lastrcvMs: undefined,
      lastackMs: undefined,
      kaEstimateMs: -1,
      noTimerSamples: 0,
      samples: 0,
      probeKa: undefined,
      probeKaT: -1,
      probeKaSrc: '',
      probeKaEvent: undefined,
      probeKaScope: undefined,
      gen: -1,
      goneT: -1,
      fromSs: false,
    };
    if (isClient) f.client = s;
    else f.server = s;
    return s;
  }

  // ---- probe events ----------------------------------------------------------------------

  private probeEvent(ev: ProbeEvent, t: number, src: string, scope: string | undefined, raw: string | undefined, reparse: ProbeLineSource | undefined): void {
    if (ev.kind === 'probe-status') return;
    const tu = ev.tuple;
    const proto = this.str(String(tu.proto).toLowerCase());
    const s = { addr: tu.saddr, port: tu.sport };
    const d = { addr: tu.daddr, port: tu.dport };
    const sa4 = tu.saddr4;
    const da4 = tu.daddr4;
    const found = this.matchIds(proto, this.addrIdOf(tu.saddr, sa4), s.port, this.addrIdOf(tu.daddr, da4), d.port);
    let hit: { flow: Flow; dir: MatchDir };
    if (found !== undefined) hit = { flow: found, dir: this.matchDir };
    else {
      // Unknown flow: keep it, oriented with the ephemeral (higher) port as the client.
      const sIsClient = ev.kind === 'state' || ev.kind === 'retransmit' ? s.port >= d.port : s.port > d.port;
      const c = sIsClient ? s : d;
      const tg = sIsClient ? d : s;
      const f = this.flow(this.newRow(proto, this.addrId(c.addr, sIsClient ? sa4 : da4), c.port, this.addrId(tg.addr, sIsClient ? da4 : sa4), tg.port));
      this.index(f.row);
      hit = { flow: f, dir: sIsClient ? 'orig' : 'orig-rev' };
    }
    const f = hit.flow;
    const prevAct = f.lastAct;
    const evScope = ev.netns ? (this.netnsLabels.get(ev.netns) ?? scope) : scope;
    const recT = t;
    t = this.probeTime(ev.tsNs, recT);
    if (ev.kind === 'activity') {
      const at = ev.tsNs !== undefined ? t - (ev.tsNs - ev.lastNs) / 1e6 : t;
      if (ev.packets > 0 || ev.tsNs !== undefined) this.touch(f, at, 'probe activity');
      return;
    }
    if (ev.kind === 'state') {
      if (ev.keepalive) {
        // The probe reads the socket: its local end is the tuple's source.
        const isClient = s.addr === this.addr(f.c) && s.port === f.cp;
        const side = this.side(f, isClient, s, d, evScope, t, src);
        side.probeKa = ev.keepalive;
        side.probeKaT = t;
        side.probeKaSrc = this.str(src);
        side.probeKaEvent = ev;
        side.probeKaScope = evScope;
        if (side.scope === undefined && evScope !== undefined) side.scope = evScope;
      }
    }
    if (ev.kind === 'drop' || ev.kind === 'retransmit' || ev.kind === 'state' || (ev.kind === 'reset' && ev.mode === 'passive')) {
      this.touch(f, t, `probe ${ev.kind}`);
    }
    const text =
      raw ??
      `${ev.kind} ${'reason' in ev && ev.reason ? ev.reason + ' ' : ''}${tu.saddr}:${tu.sport} -> ${tu.daddr}:${tu.dport}`;
    // State changes are most probe events: kept as their line alone (see ProbeItem).
    if (ev.kind === 'state' && raw !== undefined && reparse !== undefined) this.push(f, new ProbeItem(t, ev.kind, src, raw, evScope, hit.dir, prevAct, reparse));
    else this.push(f, { t, kind: ev.kind, src, text, scope: evScope, dir: hit.dir, probe: ev, prevAct });
  }

  /**
   * When a probe event really happened: bpftrace prints the kernel's monotonic time and its output
   * reaches kdiag in batches, so the record time can be late by a second or more. The smallest
   * (record time − kernel time) seen so far is the best estimate of the clock offset.
   */
  private probeTime(tsNs: number | undefined, recT: number): number {
    if (tsNs === undefined || !Number.isFinite(tsNs) || tsNs <= 0) return recT;
    const k = tsNs / 1e6;
    const off = recT - k;
    if (off < this.probeOffsetMs) this.probeOffsetMs = off;
    // Never later than it arrived, and never more than 10 s earlier (a bogus kernel time).
    return Math.round(Math.max(recT - 10_000, Math.min(recT, k + this.probeOffsetMs)));
  }

  // ---- meta ------------------------------------------------------------------------------

  private applyMeta(key: string, value: unknown, t: number, src: string, raw: string | undefined): void {
    if (key === 'netns-label' && value && typeof value === 'object') {
      const v = value as { inode?: unknown; scope?: unknown };
      if (typeof v.inode === 'number' && typeof v.scope === 'string') this.netnsLabels.set(v.inode, v.scope);
      return;
    }
    if (key === 'kernel-log' && typeof value === 'string') {
      this.kernelLog.push({ value, t, src, raw });
      if (this.kernelLog.length > 256) this.kernelLog.shift();
      return;
    }
    this.metas.set(key, raw === undefined ? { value, t, src } : { value, t, src, raw });
  }

  // ---- helpers ---------------------------------------------------------------------------

  private touch(f: Flow, at: number, why: string): void {
    if (at > f.lastAct) {
      f.lastAct = at;
      f.lastActSrc = why;
    }
  }

  /** Adds an item in time order (sources deliver late: probe batches, conntrack event buffers). */
  private push(f: Flow, item: TimelineItem): void {
    const tl = (f.timeline ??= []);
    let i = tl.length;
    while (i > 0 && (tl[i - 1] as TimelineItem).t > item.t) i--;
    if (i === tl.length) tl.push(item);
    else tl.splice(i, 0, item);
    if (tl.length > this.timelineLength) tl.shift();
    f.timelineKinds |= TIMELINE_KIND_BIT[item.kind];
  }

  private merge(into: Flow, from: Flow): void {
    this.drop(from.row);
    into.client ??= from.client;
    into.server ??= from.server;
    into.ipvs ??= from.ipvs;
    if (from.lastAct > into.lastAct) {
      into.lastAct = from.lastAct;
      into.lastActSrc = from.lastActSrc;
    }
    if (from.timeline) {
      const tl = [...(into.timeline ?? []), ...from.timeline].sort((a, b) => a.t - b.t);
      into.timeline = tl.slice(-this.timelineLength);
      into.timelineKinds |= from.timelineKinds;
    }
    if (from.firstT < into.firstT) into.firstT = from.firstT;
  }

  private str(s: string): string {
    const c = this.strs.get(s);
    if (c !== undefined) return c;
    this.strs.set(s, s);
    return s;
  }

  /** id(addr), from its int32 when the parser had it (the same id: IPv4 ids are keyed by the int32). */
  private addrId(addr: string, v4: number | undefined): number {
    return v4 === undefined ? this.id(addr) : this.v4Id(v4);
  }

  /** The id of an IPv4 address given as its int32; made if new. */
  private v4Id(v: number): number {
    let i = this.v4Ids.get(v);
    if (i < 0) {
      i = this.addrs.length;
      this.addrs.push(v);
      this.v4Ids.set(v, i);
    }
    return i;
  }

  /** idOf(addr), from its int32 when the parser had it. */
  private addrIdOf(addr: string, v4: number | undefined): number | undefined {
    if (v4 === undefined) return this.idOf(addr);
    const i = this.v4Ids.get(v4);
    return i < 0 ? undefined : i;
  }

  /** The id of an address already seen. */
  private idOf(addr: string): number | undefined {
    const slot = idSlot(addr);
    if (this.idCacheKey[slot] === addr) return this.idCacheId[slot]!;
    const v = ipv4Value(addr);
    if (v !== v) return this.addrIds.get(addr);
    const i = this.v4Ids.get(v);
    if (i < 0) return undefined;
    this.idCacheKey[slot] = flatCopy(addr);
    this.idCacheId[slot] = i;
    return i;
  }

  /**
   * Recently repeated addresses and their ids, by a hash of their last characters: services, pods
   * and nodes come back in row after row, and comparing strings is cheaper than parsing them.
   */
  // Filled with a string no address is.
  private readonly idCacheKey: string[] = new Array<string>(256).fill('\u0000');
  private readonly idCacheId = new Int32Array(256);

  private id(addr: string): number {
    const slot = idSlot(addr);
    if (this.idCacheKey[slot] === addr) return this.idCacheId[slot]!;
    const v = ipv4Value(addr);
    if (v === v) {
      const i = this.v4Ids.get(v);
      if (i < 0) return this.v4Id(v);
      // Seen twice: likely to come again. A copy of its own, as a cached slice would pin its line.
      this.idCacheKey[slot] = flatCopy(addr);
      this.idCacheId[slot] = i;
      return i;
    }
    let i = this.addrIds.get(addr);
    if (i === undefined) {
      i = this.addrs.length;
      // Parsers slice addresses out of the line; V8 keeps a slice of 13+ characters as a view into its
      // parent (the line, or a whole snapshot's text), so a kept slice pins it. Keep a copy of our own.
      const own = flatCopy(addr);
      this.addrs.push(0);
      this.addrTexts.set(i, own);
      this.addrIds.set(own, i);
    }
    return i;
  }

  /** True when the flow is in the reply index: its reply is not the plain reverse of its original tuple. */
  private hasReplyKey(f: Flow): boolean {
    return !(f.b === f.tg && f.bp === f.tp && f.r === f.c && f.rp === f.cp);
  }

  private rowHasReplyKey(r: number): boolean {
    const ints = this.home.rows.ints;
    const o = r * NI;
    const p1 = ints[o + P1]!;
    const p2 = ints[o + P2]!;
    // Ports packed crosswise: p2 = backend << 16 | reply destination, p1 = client << 16 | target.
    return !(ints[o + B] === ints[o + TG] && ints[o + R] === ints[o + C] && p2 === ((p1 << 16) | (p1 >>> 16)));
  }

  /** The reply index key (reply destination endpoint), only when the reply is not the plain reverse. */
  private replyKey(f: Flow): number | undefined {
    return this.hasReplyKey(f) ? ek(f.r, f.rp) : undefined;
  }
}

export type { PacketTuple };

// Flow: one connection, joined across NAT. Its numbers live in a row of the table's typed arrays
// (flow-store.ts); the object is made once, when something reads it, and then kept.
import type { Endpoint } from './endpoint.js';
import { ACT, B, C, CT, D, G, NF, NI, P1, P2, R, TG, TO, type FlowRows } from './flow-store.js';
import type { SocketKeepalive, StateEvent } from './probe-event.js';
import type { SocketTimer } from './socket.js';
import type { TimelineItem } from './timeline.js';

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

/** Status bits of a flow row (the low 5 bits of its G field). */
export const CT_PRESENT = 1;
export const CT_UNREPLIED = 2;
export const CT_ASSURED = 4;
export const CT_SEEN = 8;
export const HAS_ACT = 16;

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

/** The CtDescs of a table, one per distinct combination. */
export class DescPool {
  readonly list: CtDesc[] = [];
  private readonly m = new Map<string, CtDesc>();
  private last: CtDesc | undefined = undefined;
  constructor(private readonly intern: (s: string) => string) {}

  get(proto: string, state: string | null, scope: string | undefined, src: string): CtDesc {
    const l = this.last;
    if (
      l !== undefined &&
      l.proto === proto &&
      l.state === state &&
      l.scope === scope &&
      l.src === src
    )
      return l;
    // A table has a few dozen combinations: a scan is cheaper than building the key string.
    const list = this.list;
    if (list.length <= 32) {
      for (let i = 0; i < list.length; i++) {
        const d = list[i]!;
        if (d.proto === proto && d.state === state && d.scope === scope && d.src === src)
          return (this.last = d);
      }
    }
    // \u0001 marks null/undefined, so they never equal a string.
    const key = `${proto}\u0000${state === null ? '\u0001' : `=${state}`}\u0000${scope === undefined ? '\u0001' : `=${scope}`}\u0000${src}`;
    let d = this.m.get(key);
    if (d === undefined) {
      const s = this.intern;
      d = new CtDesc(
        list.length,
        s(proto),
        state === null ? null : s(state),
        scope === undefined ? undefined : s(scope),
        s(src),
      );
      list.push(d);
      this.m.set(key, d);
    }
    return (this.last = d);
  }
}

/** What a flow's numbers live in: the table's rows, or a copy of its own once it left the table. */
export interface FlowHome {
  readonly rows: FlowRows;
  readonly pool: DescPool;
  /** Shared time base (ms): times are kept as base + a rounded offset, as they always were. */
  base: number;
}

/** Two 16-bit ports in one int32. */
export function pack(hi: number, lo: number): number {
  return (hi << 16) | (lo & 0xffff);
}

/**
 * One connection, joined across NAT. Addresses are ids into the table's intern pool; times are ms
 * since the epoch (-1 = never). The numbers live in a row of the table's typed arrays (FlowRows);
 * the object holds its row and the rarely set state (FlowExtra), so it stays at three fields.
 */
export class Flow {
  /** @internal */
  home: FlowHome;
  /** @internal Row in home.rows. */
  row: number;
  private extra: FlowExtra | undefined = undefined;

  /** @internal Flows are made by the FlowTable. */
  constructor(h: FlowHome, row: number) {
    this.home = h;
    this.row = row;
  }

  private ext(): FlowExtra {
    return (this.extra ??= new FlowExtra());
  }

  private int(k: number): number {
    return this.home.rows.ints[this.row * NI + k]!;
  }
  private setInt(k: number, v: number): void {
    this.home.rows.ints[this.row * NI + k] = v;
  }

  /** Client, original target, reply source (the backend when DNAT'ed), reply destination: address ids. */
  get clientAddrId(): number {
    return this.int(C);
  }
  set clientAddrId(v: number) {
    this.setInt(C, v);
  }
  get targetAddrId(): number {
    return this.int(TG);
  }
  set targetAddrId(v: number) {
    this.setInt(TG, v);
  }
  get backendAddrId(): number {
    return this.int(B);
  }
  set backendAddrId(v: number) {
    this.setInt(B, v);
  }
  get replyDstAddrId(): number {
    return this.int(R);
  }
  set replyDstAddrId(v: number) {
    this.setInt(R, v);
  }
  get ctTimeout(): number {
    return this.home.rows.nums[this.row * NF + TO]!;
  }
  set ctTimeout(v: number) {
    this.home.rows.nums[this.row * NF + TO] = v;
  }

  private get desc(): CtDesc {
    return this.home.pool.list[this.int(D)]!;
  }
  private set desc(v: CtDesc) {
    this.setInt(D, v.id);
  }

  get proto(): string {
    return this.desc.proto;
  }
  set proto(v: string) {
    const d = this.desc;
    if (d.proto !== v) this.desc = this.home.pool.get(v, d.state, d.scope, d.src);
  }
  get ctState(): string | null {
    return this.desc.state;
  }
  set ctState(v: string | null) {
    const d = this.desc;
    if (d.state !== v) this.desc = this.home.pool.get(d.proto, v, d.scope, d.src);
  }
  get ctScope(): string | undefined {
    return this.desc.scope;
  }
  set ctScope(v: string | undefined) {
    const d = this.desc;
    if (d.scope !== v) this.desc = this.home.pool.get(d.proto, d.state, v, d.src);
  }
  get ctSrc(): string {
    return this.desc.src;
  }
  set ctSrc(v: string) {
    const d = this.desc;
    if (d.src !== v) this.desc = this.home.pool.get(d.proto, d.state, d.scope, v);
  }
  /** Sets the conntrack entry's strings at once. */
  setCt(state: string | null, scope: string | undefined, src: string): void {
    const d = this.desc;
    if (d.state !== state || d.scope !== scope || d.src !== src)
      this.desc = this.home.pool.get(d.proto, state, scope, src);
  }

  get clientPort(): number {
    return this.int(P1) >>> 16;
  }
  set clientPort(v: number) {
    this.setInt(P1, pack(v, this.int(P1)));
  }
  get targetPort(): number {
    return this.int(P1) & 0xffff;
  }
  set targetPort(v: number) {
    this.setInt(P1, pack(this.int(P1) >>> 16, v));
  }
  get backendPort(): number {
    return this.int(P2) >>> 16;
  }
  set backendPort(v: number) {
    this.setInt(P2, pack(v, this.int(P2)));
  }
  get replyDstPort(): number {
    return this.int(P2) & 0xffff;
  }
  set replyDstPort(v: number) {
    this.setInt(P2, pack(this.int(P2) >>> 16, v));
  }

  /** (ctGen + 1) × 32 + status bits. */
  private get status(): number {
    return this.int(G);
  }
  private set status(v: number) {
    this.setInt(G, v);
  }
  get ctFlags(): number {
    return this.status & 31;
  }
  set ctFlags(v: number) {
    this.status = (this.status & ~31) | (v & 31);
  }
  get ctGen(): number {
    return (this.status >>> 5) - 1;
  }
  set ctGen(v: number) {
    this.status = ((v + 1) << 5) | (this.status & 31);
  }

  get ctT(): number {
    return this.status & CT_SEEN ? this.home.rows.nums[this.row * NF + CT]! : -1;
  }
  set ctT(v: number) {
    const base = this.home.base;
    this.home.rows.nums[this.row * NF + CT] = base + Math.round(v - base);
    this.status |= CT_SEEN;
  }
  get lastAct(): number {
    return this.status & HAS_ACT ? this.home.rows.nums[this.row * NF + ACT]! : -1;
  }
  set lastAct(v: number) {
    const base = this.home.base;
    this.home.rows.nums[this.row * NF + ACT] = base + Math.round(v - base);
    this.status |= HAS_ACT;
  }
  get ctGoneT(): number {
    return this.extra?.ctGoneT ?? -1;
  }
  set ctGoneT(v: number) {
    if (v >= 0 || this.extra) this.ext().ctGoneT = v;
  }
  get lastActSrc(): string {
    return this.extra?.lastActSrc ?? '';
  }
  set lastActSrc(v: string) {
    this.ext().lastActSrc = v;
  }
  get ctDelta(): number {
    return this.extra?.ctDelta ?? -1;
  }
  set ctDelta(v: number) {
    this.ext().ctDelta = v;
  }
  get firstT(): number {
    return this.extra?.firstT ?? this.ctT;
  }
  set firstT(v: number) {
    if (this.extra) this.extra.firstT = v;
  }
  get ipvs(): IpvsSide | undefined {
    return this.extra?.ipvs;
  }
  set ipvs(v: IpvsSide | undefined) {
    this.ext().ipvs = v;
  }
  get client(): SocketSide | undefined {
    return this.extra?.client;
  }
  set client(v: SocketSide | undefined) {
    this.ext().client = v;
  }
  get server(): SocketSide | undefined {
    return this.extra?.server;
  }
  set server(v: SocketSide | undefined) {
    this.ext().server = v;
  }
  get timeline(): TimelineItem[] | undefined {
    return this.extra?.timeline;
  }
  set timeline(v: TimelineItem[] | undefined) {
    this.ext().timeline = v;
  }
  /**
   * The kinds of item the timeline has held, as TIMELINE_KIND_BITs: a flow without a kind's bit has
   * no such item; one with it may have had it evicted since. Lets a scan for rare kinds skip most flows.
   */
  get timelineKinds(): number {
    return this.extra?.kinds ?? 0;
  }
  set timelineKinds(v: number) {
    this.ext().kinds = v;
  }
  get oldReplyKeys(): number[] | undefined {
    return this.extra?.oldReplyKeys;
  }
  set oldReplyKeys(v: number[] | undefined) {
    this.ext().oldReplyKeys = v;
  }
  get oldBackends(): number[] | undefined {
    return this.extra?.oldBackends;
  }
  set oldBackends(v: number[] | undefined) {
    this.ext().oldBackends = v;
  }
  /** @internal */
  get movedKeys(): number[] | undefined {
    return this.extra?.movedKeys;
  }
  /** @internal */
  addMovedKey(k: number): void {
    const m = (this.ext().movedKeys ??= []);
    if (!m.includes(k)) m.push(k);
  }
  /** @internal True while nothing but the conntrack snapshot fields is set. */
  get bare(): boolean {
    return this.extra === undefined;
  }

  get ctPresent(): boolean {
    return (this.status & CT_PRESENT) !== 0;
  }
  get ctUnreplied(): boolean {
    return (this.status & CT_UNREPLIED) !== 0;
  }
  get ctAssured(): boolean {
    return (this.status & CT_ASSURED) !== 0;
  }
  /** Sets the conntrack status bits, keeping the bookkeeping ones. */
  setCtStatus(present: boolean, unreplied: boolean, assured: boolean): void {
    let f = this.status & ~(CT_PRESENT | CT_UNREPLIED | CT_ASSURED);
    if (present) f |= CT_PRESENT;
    if (unreplied) f |= CT_UNREPLIED;
    if (assured) f |= CT_ASSURED;
    this.status = f;
  }
  /** True when the reply comes from someone else than the original destination (DNAT). */
  get natted(): boolean {
    return this.backendAddrId !== this.targetAddrId || this.backendPort !== this.targetPort;
  }
}

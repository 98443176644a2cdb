// The FlowTable's flows: typed-array rows (flow-store.ts) with interned address ids, the
// open-addressing endpoint indexes that find a flow from a packet tuple in either direction, before
// or after NAT, the first-seen order, and the snapshot generations that tell a flow is gone.
import type { Endpoint } from './endpoint.js';
import { endpointKey } from './endpoint.js';
import { AddressIds } from './address-ids.js';
import { CT_PRESENT, DescPool, Flow, pack, type FlowHome } from './flow.js';
import {
  ACT,
  B,
  C,
  CT,
  D,
  EndpointRows,
  FlowRows,
  G,
  NEXT,
  NF,
  NI,
  P1,
  P2,
  PREV,
  R,
  TG,
  TO,
} from './flow-store.js';
import { scopeKey, type Stamped } from './node-settings.js';
import type { SnapshotWhat } from './observation.js';
import { TIMELINE_KIND_BIT, type MatchDir, type TimelineItem } from './timeline.js';

/** The generation and row count of one kind of snapshot in one scope. */
export class SnapState {
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

/** An endpoint as one number (address id × 65536 + port), as kept in oldReplyKeys and oldBackends. */
export function endpointNum(id: number, port: number): number {
  return id * 65536 + port;
}

function endpointNumId(k: number): number {
  return Math.floor(k / 65536);
}

function endpointNumPort(k: number): number {
  return k % 65536;
}

/** Flows in rows and their indexes; FlowTable (flow-table.ts) feeds them from observations. */
export class FlowIndex {
  protected readonly ids = new AddressIds();
  private readonly strs = new Map<string, string>();
  protected readonly home: FlowHome = {
    rows: new FlowRows(),
    pool: new DescPool((s) => this.str(s)),
    base: 0,
  };
  /** The flow of each row in use. */
  protected readonly objs: (Flow | undefined)[] = [];
  /** Rows by their client endpoint (original source): the flows of the table. */
  private readonly byOrig = new EndpointRows();
  /**
   * NAT'ed flows by their reply destination (the client, or the masquerade address). An entry keeps
   * the key it was added under: when a flow's reply key changes, its old entry stays, so late packets
   * of the previous backend still find it.
   */
  protected readonly byReply = new EndpointRows();
  /** First and last row in first-seen order (flows(), see index()); -1 when empty. */
  private head = -1;
  private tail = -1;
  private readonly snaps = new Map<string, SnapState>();
  private lastSnap: SnapState | undefined = undefined;
  private readonly lastSnapCount = new Map<string, Stamped<number>>();

  constructor(private readonly timelineLength: number) {}

  /** Every flow, in first-seen order. Flows must not be added or removed while iterating. */
  *flows(): IterableIterator<Flow> {
    for (let r = this.head; r >= 0; r = this.home.rows.ints[r * NI + NEXT]!) yield this.flow(r);
  }

  get size(): number {
    return this.byOrig.count;
  }

  addr(id: number): string {
    return this.ids.addr(id);
  }

  client(f: Flow): Endpoint {
    return { addr: this.addr(f.clientAddrId), port: f.clientPort };
  }
  target(f: Flow): Endpoint {
    return { addr: this.addr(f.targetAddrId), port: f.targetPort };
  }
  backend(f: Flow): Endpoint | undefined {
    return f.natted ? { addr: this.addr(f.backendAddrId), port: f.backendPort } : undefined;
  }
  replyDst(f: Flow): Endpoint {
    return { addr: this.addr(f.replyDstAddrId), port: f.replyDstPort };
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
  protected matchDir: MatchDir = 'orig';

  /** lookup() without building endpoints or a result: the direction is left in matchDir. */
  protected match(proto: string, sa: string, sp: number, da: string, dp: number): Flow | undefined {
    const sId = this.ids.idOf(sa);
    if (sId === undefined) return undefined;
    return this.matchIds(proto, sId, sp, this.ids.idOf(da), dp);
  }

  protected matchIds(
    proto: string,
    sId: number | undefined,
    sp: number,
    dId: number | undefined,
    dp: number,
  ): Flow | undefined {
    if (sId === undefined || dId === undefined) return undefined;
    let f: Flow | undefined;
    if ((f = this.findOrig(proto, sId, sp, dId, dp))) this.matchDir = 'orig';
    else if ((f = this.findReply(proto, dId, dp, sId, sp))) this.matchDir = 'reply';
    else if ((f = this.findOrig(proto, dId, dp, sId, sp))) this.matchDir = 'orig-rev';
    else if ((f = this.findReply(proto, sId, sp, dId, dp))) this.matchDir = 'reply-rev';
    return f;
  }

  /** Entries in the last complete conntrack snapshot of a scope. */
  conntrackCount(scope?: string): Stamped<number> | undefined {
    return this.lastSnapCount.get(`conntrack|${scopeKey(scope)}`);
  }

  /** A one-line conntrack-like summary of the flow's current conntrack entry. */
  conntrackSummary(f: Flow): string {
    const parts = [f.proto, f.ctTimeout >= 0 ? String(f.ctTimeout) : '', f.ctState ?? ''].filter(
      (p) => p !== '',
    );
    const c = this.client(f);
    const tg = this.target(f);
    const b = { addr: this.addr(f.backendAddrId), port: f.backendPort };
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
  protected snap(what: SnapshotWhat, scope: string | undefined): SnapState {
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

  protected beginSnapshot(what: SnapshotWhat, scope: string | undefined, t: number): void {
    const s = this.snap(what, scope);
    s.gen++;
    s.count = 0;
    s.beginT = t;
  }

  protected currentGen(what: SnapshotWhat, scope: string | undefined): number {
    return this.snap(what, scope).gen;
  }

  protected countRow(what: SnapshotWhat, scope: string | undefined): void {
    this.snap(what, scope).count++;
  }

  protected endSnapshot(
    what: SnapshotWhat,
    scope: string | undefined,
    t: number,
    src: string,
  ): void {
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
        if (
          g & CT_PRESENT &&
          (g >>> 5) - 1 !== gen &&
          scopeKey(descs[ints[r * NI + D]!]!.scope) === sk &&
          nums[r * NF + CT]! < beginT
        ) {
          if (f === undefined) {
            // Gone and with nothing else to show: it leaves the table now, unseen.
            ints[r * NI + G] = g & ~CT_PRESENT;
            dead.push(r);
            continue;
          }
          f.setCtStatus(false, f.ctUnreplied, f.ctAssured);
          f.ctGoneT = t;
          if (f.client || f.server || f.ipvs || f.timeline) {
            this.push(f, {
              t,
              kind: 'ct-gone',
              src,
              text: `conntrack entry gone: ${this.conntrackSummary(f)}`,
              scope,
            });
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
            this.push(f, {
              t,
              kind: 'ipvs-gone',
              src,
              text: `IPVS connection gone: ${this.ipvsSummary(f)}`,
              scope,
            });
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
  protected flow(r: number): Flow {
    return (this.objs[r] ??= new Flow(this.home, r));
  }

  /** A new flow in a free row, not indexed yet (see index()). */
  protected newRow(proto: string, c: number, cp: number, tg: number, tp: number): number {
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
  protected index(r: number): void {
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
      for (
        let n = ints[after * NI + NEXT]!;
        n >= 0 && ints[n * NI + C] === c && ints[n * NI + P1]! >>> 16 === cp;
        n = ints[n * NI + NEXT]!
      )
        after = n;
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
  protected unindex(r: number): void {
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
    if (this.rowHasReplyKey(r))
      this.byReply.delete(ints[r * NI + R]!, ints[r * NI + P2]! & 0xffff, r);
    for (const ok of this.objs[r]?.oldReplyKeys ?? [])
      this.byReply.delete(endpointNumId(ok), endpointNumPort(ok), r);
  }

  /** Removes row r from the table for reuse; its object, if any, keeps its values in a row of its own. */
  private drop(r: number): void {
    this.unindex(r);
    const h = this.home;
    const f = this.objs[r];
    if (f !== undefined) {
      // No entry may be left to point at the row once it is reused.
      for (const ok of f.movedKeys ?? [])
        this.byReply.delete(endpointNumId(ok), endpointNumPort(ok), r);
      f.home = { rows: h.rows.copy(r), pool: h.pool, base: h.base };
      f.row = 0;
      this.objs[r] = undefined;
    }
    h.rows.release(r);
  }

  protected findOrig(
    proto: string,
    c: number,
    cp: number,
    tg: number,
    tp: number,
  ): Flow | undefined {
    const r = this.origRow(proto, c, cp, tg, tp);
    return r < 0 ? undefined : this.flow(r);
  }

  /** The row of the flow with client (c, cp), original target (tg, tp) and protocol proto, else -1. */
  protected origRow(proto: string, c: number, cp: number, tg: number, tp: number): number {
    const ix = this.byOrig;
    const ints = this.home.rows.ints;
    const descs = this.home.pool.list;
    for (let r = ix.first(c, cp); r >= 0; r = ix.next()) {
      const o = r * NI;
      if (
        ints[o + TG] === tg &&
        (ints[o + P1]! & 0xffff) === tp &&
        descs[ints[o + D]!]!.proto === proto
      )
        return r;
    }
    return -1;
  }

  /** The NAT'ed flow with reply destination (rd, rdp) and backend (b, bp), present or previous. */
  protected findReply(
    proto: string,
    rd: number,
    rdp: number,
    b: number,
    bp: number,
  ): Flow | undefined {
    const ix = this.byReply;
    const ints = this.home.rows.ints;
    const descs = this.home.pool.list;
    for (let r = ix.first(rd, rdp); r >= 0; r = ix.next()) {
      const o = r * NI;
      if (descs[ints[o + D]!]!.proto !== proto) continue;
      if (
        (ints[o + B] === b && ints[o + P2]! >>> 16 === bp) ||
        (this.objs[r]?.oldBackends?.includes(endpointNum(b, bp)) ?? false)
      )
        return this.flow(r);
    }
    return undefined;
  }

  // ---- helpers ---------------------------------------------------------------------------

  protected touch(f: Flow, at: number, why: string): void {
    if (at > f.lastAct) {
      f.lastAct = at;
      f.lastActSrc = why;
    }
  }

  /** Adds an item in time order (sources deliver late: probe batches, conntrack event buffers). */
  protected push(f: Flow, item: TimelineItem): void {
    const tl = (f.timeline ??= []);
    let i = tl.length;
    while (i > 0 && (tl[i - 1] as TimelineItem).t > item.t) i--;
    if (i === tl.length) tl.push(item);
    else tl.splice(i, 0, item);
    if (tl.length > this.timelineLength) tl.shift();
    f.timelineKinds |= TIMELINE_KIND_BIT[item.kind];
  }

  protected merge(into: Flow, from: Flow): void {
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

  protected str(s: string): string {
    const c = this.strs.get(s);
    if (c !== undefined) return c;
    this.strs.set(s, s);
    return s;
  }

  /** True when the flow is in the reply index: its reply is not the plain reverse of its original tuple. */
  protected hasReplyKey(f: Flow): boolean {
    return !(
      f.backendAddrId === f.targetAddrId &&
      f.backendPort === f.targetPort &&
      f.replyDstAddrId === f.clientAddrId &&
      f.replyDstPort === f.clientPort
    );
  }

  protected rowHasReplyKey(r: number): boolean {
    const ints = this.home.rows.ints;
    const o = r * NI;
    const p1 = ints[o + P1]!;
    const p2 = ints[o + P2]!;
    // Ports packed crosswise: p2 = backend << 16 | reply destination, p1 = client << 16 | target.
    return !(
      ints[o + B] === ints[o + TG] &&
      ints[o + R] === ints[o + C] &&
      p2 === ((p1 << 16) | (p1 >>> 16))
    );
  }

  /** The reply index key (reply destination endpoint), only when the reply is not the plain reverse. */
  protected replyKey(f: Flow): number | undefined {
    return this.hasReplyKey(f) ? endpointNum(f.replyDstAddrId, f.replyDstPort) : undefined;
  }
}

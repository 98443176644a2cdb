// FlowTable: one flow per connection, joined across NAT from conntrack, IPVS, ss and probe events,
// and the node's settings. Per-flow numbers live in typed-array rows with interned address ids (see
// flow-index.ts, flow-store.ts), so a million conntrack rows stay within a few hundred MB; snapshot
// rows never keep their raw line (evidence is rebuilt).
import type { ConntrackEntry, ConntrackEvent, ConntrackEventLineSource } from './conntrack.js';
import type { Endpoint } from './endpoint.js';
import { endpointKey } from './endpoint.js';
import {
  CT_ASSURED,
  CT_PRESENT,
  CT_SEEN,
  CT_UNREPLIED,
  pack,
  type Flow,
  type SocketSide,
} from './flow.js';
import { endpointNum, FlowIndex, type SnapState } from './flow-index.js';
import { B, CT, D, G, NF, NI, P2, R, TO } from './flow-store.js';
import type { IptablesRuleset } from './iptables.js';
import type { IpvsConn, IpvsService, IpvsStatsRow, IpvsTimeouts } from './ipvs.js';
import type { KubeProxySettings } from './kube-proxy.js';
import { NodeSettings, scopeKey, type Stamped, type StatsSample } from './node-settings.js';
import type { Observation } from './observation.js';
import type { ProbeEvent, ProbeLineSource } from './probe-event.js';
import type { SocketInfo } from './socket.js';
import { CtItem, ProbeItem, type MatchDir, type TimelineKind } from './timeline.js';

export interface FlowTableOptions {
  /** Timeline length per flow. */
  readonly timelineLength?: number;
  /** conntrack -S samples kept per scope. */
  readonly statsHistory?: number;
}

/** Joins every observation into flows and keeps the node-wide settings, in time order. */
export class FlowTable extends FlowIndex {
  private clockSet = false;
  /** Wall clock minus kernel monotonic clock (ms), estimated from probe events: the smallest delivery delay seen. */
  private probeOffsetMs = Infinity;
  /** The node's settings: sysctls, conntrack statistics, rulesets, kube-proxy, IPVS, meta. */
  readonly settings: NodeSettings;
  /** Time of the latest observation (ms). */
  latestT = 0;
  firstT = -1;

  constructor(opts: FlowTableOptions = {}) {
    super(opts.timelineLength ?? 32);
    this.settings = new NodeSettings((s) => this.str(s), opts.statsHistory ?? 64);
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
        this.settings.addStats(obs.cpus, obs.t, obs.src, obs.scope, obs.raw);
        return;
      case 'ipvs-conn':
        this.upsertIpvs(obs.conn, obs.t, obs.src, obs.scope);
        return;
      case 'ipvs-services':
        this.settings.ipvsServices = { value: obs.services, t: obs.t, src: obs.src };
        return;
      case 'ipvs-timeouts':
        this.settings.ipvsTimeouts = { value: obs.timeouts, t: obs.t, src: obs.src, raw: obs.raw };
        return;
      case 'ipvs-stats':
        this.settings.ipvsStats = { value: obs.rows, t: obs.t, src: obs.src };
        return;
      case 'socket':
        this.upsertSocket(obs.socket, obs.t, obs.src, obs.scope ?? obs.socket.netns, obs.raw);
        return;
      case 'sysctls':
        this.settings.setSysctls(obs.values, obs.t, obs.src, obs.scope, this.firstT);
        return;
      case 'iptables':
        this.settings.setIptables(obs.ruleset, obs.t, obs.src, obs.scope);
        return;
      case 'kube-proxy':
        this.settings.kubeProxy = { value: obs.settings, t: obs.t, src: obs.src, raw: obs.raw };
        return;
      case 'probe':
        this.probeEvent(obs.event, obs.t, obs.src, obs.scope, obs.raw, obs.reparse);
        return;
      case 'meta':
        this.settings.applyMeta(obs.key, obs.value, obs.t, obs.src, obs.raw);
        return;
    }
  }

  // ---- settings (see NodeSettings) -------------------------------------------------------

  get kubeProxy(): Stamped<KubeProxySettings> | undefined {
    return this.settings.kubeProxy;
  }
  get ipvsTimeouts(): Stamped<IpvsTimeouts> | undefined {
    return this.settings.ipvsTimeouts;
  }
  get ipvsServices(): Stamped<readonly IpvsService[]> | undefined {
    return this.settings.ipvsServices;
  }
  get ipvsStats(): Stamped<readonly IpvsStatsRow[]> | undefined {
    return this.settings.ipvsStats;
  }
  /** Kernel log lines kdiag was given (meta `kernel-log`), newest last, bounded. */
  get kernelLog(): Stamped<string>[] {
    return this.settings.kernelLog;
  }
  /** A sysctl value as last read in a scope (undefined scope = the host netns). */
  sysctl(key: string, scope?: string): Stamped<string> | undefined {
    return this.settings.sysctl(key, scope);
  }
  /** The sysctl value in force at `t` (see NodeSettings.sysctlAt). */
  sysctlAt(key: string, scope: string | undefined, t: number): Stamped<string> | undefined {
    return this.settings.sysctlAt(key, scope, t);
  }
  /** Each value a sysctl took during the capture with its first reading, oldest first. */
  sysctlHistory(key: string, scope?: string): Stamped<string>[] {
    return this.settings.sysctlHistory(key, scope);
  }
  /** A numeric sysctl, or undefined when unknown or not a number. */
  sysctlNum(key: string, scope?: string): number | undefined {
    return this.settings.sysctlNum(key, scope);
  }
  /** Scopes that reported sysctls. */
  sysctlScopes(): string[] {
    return this.settings.sysctlScopes();
  }
  statsHistory(scope?: string): readonly StatsSample[] {
    return this.settings.statsHistory(scope);
  }
  iptables(scope?: string): Stamped<IptablesRuleset> | undefined {
    return this.settings.iptables(scope);
  }
  meta(key: string): Stamped<unknown> | undefined {
    return this.settings.meta(key);
  }
  /** Scope label for a probe event's netns inode, when the session told us (meta `netns-label`). */
  scopeOfNetns(inode: number): string | undefined {
    return this.settings.scopeOfNetns(inode);
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
    const oc = srcId ?? this.ids.addrId(o.src, o.src4);
    const ocp = o.sport ?? 0;
    const ot = dstId ?? this.ids.addrId(o.dst, o.dst4);
    const otp = o.dport ?? 0;
    let fr = this.origRow(proto, oc, ocp, ot, otp);
    // A flow first seen from the backend side (socket, probe) is keyed by the DNAT'ed tuple client → backend.
    // The reply's ends are mostly the original's (the client, and the target unless DNAT'ed).
    const rd = r.dst === o.src ? oc : this.ids.addrId(r.dst, r.dst4);
    const rs = r.src === o.dst ? ot : this.ids.addrId(r.src, r.src4);
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
          f.clientAddrId = oc;
          f.clientPort = ocp;
          f.targetAddrId = ot;
          f.targetPort = otp;
          // Reset the reply side so the NAT'ed reply tuple below gets indexed.
          f.backendAddrId = f.targetAddrId;
          f.backendPort = f.targetPort;
          f.replyDstAddrId = f.clientAddrId;
          f.replyDstPort = f.clientPort;
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
    if (
      fromSnapshot &&
      ((ints[io + G]! & CT_SEEN && rows.nums[fr * NF + CT]! > t) ||
        (this.objs[fr]?.ctGoneT ?? -1) > t) &&
      scopeKey(d.scope) === scopeKey(scope)
    ) {
      const snap = this.snap('conntrack', scope);
      snap.count++;
      const g = ints[io + G]!;
      if (g & CT_PRESENT) ints[io + G] = ((snap.gen + 1) << 5) | (g & 31);
      return fr;
    }
    if (rs !== ints[io + B] || rd !== ints[io + R] || pack(rsp, rdp) !== ints[io + P2]) {
      if (this.rowHasReplyKey(fr)) {
        const f = this.flow(fr);
        const old = endpointNum(f.replyDstAddrId, f.replyDstPort);
        // Late packets of the previous backend still find the flow.
        if (old !== endpointNum(rd, rdp)) (f.oldReplyKeys ??= []).push(old);
        (f.oldBackends ??= []).push(endpointNum(f.backendAddrId, f.backendPort));
        if ((f.oldReplyKeys?.length ?? 0) > 4) f.oldReplyKeys?.shift();
        if (f.oldBackends.length > 4) f.oldBackends.shift();
        f.backendAddrId = rs;
        f.backendPort = rsp;
        f.replyDstAddrId = rd;
        f.replyDstPort = rdp;
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

  private conntrackEvent(
    ev: ConntrackEvent,
    t: number,
    src: string,
    scope: string | undefined,
    raw: string | undefined,
    reparse: ConntrackEventLineSource | undefined,
  ): void {
    const e = ev.entry;
    const at = ev.ts !== undefined && Number.isFinite(ev.ts) ? Math.round(ev.ts * 1000) : t;
    const kind = ev.type === 'NEW' ? 'ct-new' : ev.type === 'UPDATE' ? 'ct-update' : 'ct-destroy';
    // A packet from the backend side after the flow's entry was lost is picked up as a flow of its own
    // (orig = backend → client, not NAT'ed): it belongs to the flow whose reply it is.
    // The ids of the original tuple, once for the three searches below. Made if new: upsertConntrack
    // would make them in this order anyway, unless a flow is found, which means they existed.
    const sId = this.ids.addrId(e.orig.src, e.orig.src4);
    const dId = this.ids.addrId(e.orig.dst, e.orig.dst4);
    const rev = this.reversePickup(e, sId, dId);
    if (rev) {
      const prevAct = rev.lastAct;
      if (ev.type !== 'DESTROY') this.touch(rev, at, 'conntrack event');
      this.push(
        rev,
        this.ctItem(
          at,
          kind,
          src,
          raw ?? `[${ev.type}] (reverse pickup)`,
          scope,
          'reply',
          prevAct,
          ev,
          raw === undefined ? undefined : reparse,
        ),
      );
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
    this.push(
      f,
      this.ctItem(
        at,
        kind,
        src,
        raw ?? `[${ev.type}] ${this.conntrackSummary(f)}`,
        scope,
        undefined,
        prevAct,
        ev,
        raw === undefined ? undefined : reparse,
      ),
    );
  }

  /** A conntrack-event item; `ls` given when `text` is the line `ev` was parsed from (see CtItem). */
  private ctItem(
    t: number,
    kind: TimelineKind,
    src: string,
    text: string,
    scope: string | undefined,
    dir: MatchDir | undefined,
    prevAct: number,
    ev: ConntrackEvent,
    ls: ConntrackEventLineSource | undefined,
  ): CtItem {
    const st = ev.entry.state;
    return new CtItem(
      t,
      kind,
      src,
      text,
      scope,
      dir,
      prevAct,
      ev,
      st === null ? null : this.str(st),
      ls,
    );
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

  // ---- IPVS ------------------------------------------------------------------------------

  private upsertIpvs(c: IpvsConn, t: number, src: string, scope: string | undefined): void {
    if (c.template) return;
    const proto = this.str(c.proto.toLowerCase());
    let f = this.findOrig(
      proto,
      this.ids.id(c.client.addr),
      c.client.port,
      this.ids.id(c.virtual.addr),
      c.virtual.port,
    );
    if (!f) f = this.match(proto, c.client.addr, c.client.port, c.dest.addr, c.dest.port);
    if (!f) {
      f = this.flow(
        this.newRow(
          proto,
          this.ids.id(c.client.addr),
          c.client.port,
          this.ids.id(c.virtual.addr),
          c.virtual.port,
        ),
      );
      f.backendAddrId = this.ids.id(c.dest.addr);
      f.backendPort = c.dest.port;
      this.index(f.row);
      if (this.hasReplyKey(f)) this.byReply.add(f.replyDstAddrId, f.replyDstPort, f.row);
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
      f.ipvs = {
        state: this.str(c.state),
        expiresSec: c.expiresSec,
        t,
        src: this.str(src),
        scope,
        dest: c.dest,
        gen,
        goneT: -1,
      };
    }
    this.countRow('ipvs-conns', scope);
  }

  // ---- sockets ---------------------------------------------------------------------------

  private upsertSocket(
    s: SocketInfo,
    t: number,
    src: string,
    scope: string | undefined,
    raw: string | undefined,
  ): void {
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
      f = this.flow(this.newRow(proto, this.ids.id(c.addr), c.port, this.ids.id(tg.addr), tg.port));
      this.index(f.row);
    }
    const side = this.side(f, isClient, s.local, s.peer, scope, t, src);
    side.state = this.str(s.state);
    side.scope = scope === undefined ? undefined : this.str(scope);
    side.t = t;
    side.src = this.str(src);
    side.raw =
      raw ??
      `${s.state} ${s.recvQ} ${s.sendQ} ${endpointKey(s.local)} ${endpointKey(s.peer)}${s.timer ? ` timer:(${s.timer.name},${s.timer.remainingMs}ms,${s.timer.count})` : ''}`;
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
    const idle = Math.min(
      s.lastsndMs ?? Infinity,
      s.lastrcvMs ?? Infinity,
      s.lastackMs ?? Infinity,
    );
    if (Number.isFinite(idle)) this.touch(f, t - idle, 'ss lastsnd/lastrcv/lastack');
    this.countRow('sockets', scope);
  }

  private side(
    f: Flow,
    isClient: boolean,
    local: Endpoint,
    peer: Endpoint,
    scope: string | undefined,
    t: number,
    src: string,
  ): SocketSide {
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

  private probeEvent(
    ev: ProbeEvent,
    t: number,
    src: string,
    scope: string | undefined,
    raw: string | undefined,
    reparse: ProbeLineSource | undefined,
  ): void {
    if (ev.kind === 'probe-status') return;
    const tu = ev.tuple;
    const proto = this.str(String(tu.proto).toLowerCase());
    const s = { addr: tu.saddr, port: tu.sport };
    const d = { addr: tu.daddr, port: tu.dport };
    const sa4 = tu.saddr4;
    const da4 = tu.daddr4;
    const found = this.matchIds(
      proto,
      this.ids.addrIdOf(tu.saddr, sa4),
      s.port,
      this.ids.addrIdOf(tu.daddr, da4),
      d.port,
    );
    let hit: { flow: Flow; dir: MatchDir };
    if (found !== undefined) hit = { flow: found, dir: this.matchDir };
    else {
      // Unknown flow: keep it, oriented with the ephemeral (higher) port as the client.
      const sIsClient =
        ev.kind === 'state' || ev.kind === 'retransmit' ? s.port >= d.port : s.port > d.port;
      const c = sIsClient ? s : d;
      const tg = sIsClient ? d : s;
      const f = this.flow(
        this.newRow(
          proto,
          this.ids.addrId(c.addr, sIsClient ? sa4 : da4),
          c.port,
          this.ids.addrId(tg.addr, sIsClient ? da4 : sa4),
          tg.port,
        ),
      );
      this.index(f.row);
      hit = { flow: f, dir: sIsClient ? 'orig' : 'orig-rev' };
    }
    const f = hit.flow;
    const prevAct = f.lastAct;
    const evScope = ev.netns ? (this.settings.scopeOfNetns(ev.netns) ?? scope) : scope;
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
        const isClient = s.addr === this.addr(f.clientAddrId) && s.port === f.clientPort;
        const side = this.side(f, isClient, s, d, evScope, t, src);
        side.probeKa = ev.keepalive;
        side.probeKaT = t;
        side.probeKaSrc = this.str(src);
        side.probeKaEvent = ev;
        side.probeKaScope = evScope;
        if (side.scope === undefined && evScope !== undefined) side.scope = evScope;
      }
    }
    if (
      ev.kind === 'drop' ||
      ev.kind === 'retransmit' ||
      ev.kind === 'state' ||
      (ev.kind === 'reset' && ev.mode === 'passive')
    ) {
      this.touch(f, t, `probe ${ev.kind}`);
    }
    const text =
      raw ??
      `${ev.kind} ${'reason' in ev && ev.reason ? ev.reason + ' ' : ''}${tu.saddr}:${tu.sport} -> ${tu.daddr}:${tu.dport}`;
    // State changes are most probe events: kept as their line alone (see ProbeItem).
    if (ev.kind === 'state' && raw !== undefined && reparse !== undefined)
      this.push(f, new ProbeItem(t, ev.kind, src, raw, evScope, hit.dir, prevAct, reparse));
    else
      this.push(f, {
        t,
        kind: ev.kind,
        src,
        text,
        scope: evScope,
        dir: hit.dir,
        probe: ev,
        prevAct,
      });
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
}

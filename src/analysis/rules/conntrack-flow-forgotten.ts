// Issue 19 item 5: a live socket (ss ESTAB) whose flow the node's conntrack (or IPVS) table no longer
// holds, while that table was read. Only flows the table would track count: one whose entry kdiag saw
// go, one to a Service VIP (DNAT'ed in the host's table), or one of the netns whose table was read.
// The next packet decides what happens: a mid-stream pickup DNAT'ed again (nf_conntrack_tcp_loose=1,
// the default), or an INVALID packet (loose=0); in IPVS mode a non-SYN packet schedules nothing.
import type { Evidence } from '../../model/diagnosis.js';
import { endpointKey } from '../../model/endpoint.js';
import type { Flow, SocketSide } from '../../model/flow.js';
import type { Draft, Rule, RuleContext } from '../rule.js';
import { evidence, makeDraft } from '../rule.js';

const LOOSE = 'net.netfilter.nf_conntrack_tcp_loose';

export const conntrackFlowForgotten: Rule = {
  code: 'conntrack.flow-forgotten',
  fm: 'FM-1',
  run(ctx) {
    const t = ctx.table;
    const vips = serviceVips(ctx);
    const ipvsRead = ipvsTableRead(ctx);
    const out: Draft[] = [];
    for (const f of t.flows()) {
      if (f.proto !== 'tcp') continue;
      const s = liveEstab(f.client) ?? liveEstab(f.server);
      if (!s) continue;
      const target = `tcp ${endpointKey(t.target(f))}`;
      const viaVip = f.client === s && vips.has(target);
      const ipvsVip =
        viaVip &&
        ctx.path.ipvsVips.has(target) &&
        (ctx.path.mode === undefined || ctx.path.mode === 'ipvs');
      // The table that tracks it: the one its entry left, the host's for a Service VIP, else its own netns's.
      const scope = f.ctGoneT >= 0 ? f.ctScope : viaVip ? undefined : s.scope;
      const read = t.conntrackCount(scope);
      const idleMs = minDefined(s.lastsndMs, s.lastrcvMs);
      // The connection existed when the table was read (it was active before the read ended).
      const existed = (when: number) => idleMs !== undefined && s.t - idleMs < when;
      const ctGone =
        !f.ctPresent &&
        read !== undefined &&
        (f.ctGoneT >= 0 || viaVip || scope === s.scope) &&
        existed(read.t);
      const ipvsGone =
        ipvsVip && ipvsRead !== undefined && (!f.ipvs || f.ipvs.goneT >= 0) && existed(ipvsRead.t);
      if (!ctGone && !ipvsGone) continue;
      const p = ctx.pathOf(f);
      const ev: Evidence[] = [evidence(s.t, s.src, s.raw, 'socket ESTAB')];
      if (ctGone)
        ev.push(
          evidence(
            read.t,
            read.value >= 0 ? read.src : read.src,
            `conntrack table${scope ? ` (netns ${scope})` : ''}: ${read.value} entries, none for this flow`,
          ),
        );
      if (ipvsGone && ipvsRead)
        ev.push(
          evidence(ipvsRead.t, ipvsRead.src, 'IPVS connection table read: no entry for this flow'),
        );
      const what: string[] = [];
      if (ctGone) what.push(`conntrack${scope ? ` (netns ${scope})` : ''}`);
      if (ipvsGone) what.push('IPVS');
      const next = ipvsGone ? ipvsNext() : conntrackNext(ctx, scope, viaVip, ev);
      out.push(
        makeDraft({
          rule: 'conntrack.flow-forgotten',
          fm: ipvsGone ? 'FM-2' : 'FM-1',
          subject: p.id,
          severity: next.severity,
          confidence: 'likely',
          title: 'A live connection the node has already forgotten',
          cause: `The socket is ESTAB, but ${what.join(' and ')} no longer hold${what.length === 1 ? 's' : ''} an entry for the flow although the table was read. ${next.text}`,
          flows: [p.id],
          evidence: ev,
          needs: [{ kind: 'keepalive', paths: [p] }],
          t: ev.reduce((a, e) => Math.max(a, e.t), 0),
        }),
      );
    }
    return out;
  },
};

/** The side's socket when ss saw it ESTAB and it is still there. */
export function liveEstab(s: SocketSide | undefined): SocketSide | undefined {
  return s && s.fromSs && s.goneT < 0 && s.state === 'ESTAB' ? s : undefined;
}

/** The smaller of two optional numbers. */
export function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

/** `tcp ADDR:PORT` of every Service VIP kdiag knows: IPVS virtual services and kube-proxy's iptables services. */
function serviceVips(ctx: RuleContext): Set<string> {
  const out = new Set(ctx.path.ipvsVips);
  for (const sv of ctx.table.iptables()?.value.services ?? []) {
    if (sv.clusterIP && sv.port !== undefined && (sv.proto ?? 'tcp').toLowerCase() === 'tcp')
      out.add(`tcp ${endpointKey({ addr: sv.clusterIP, port: sv.port })}`);
  }
  return out;
}

/** The IPVS connection table was read when some flow carries an IPVS entry from it. */
function ipvsTableRead(ctx: RuleContext): { t: number; src: string } | undefined {
  let best: { t: number; src: string } | undefined;
  for (const f of ctx.table.flows()) {
    const v = f.ipvs;
    if (v && (!best || v.t > best.t)) best = { t: v.t, src: v.src };
  }
  return best;
}

function ipvsNext(): { text: string; severity: 'critical' } {
  return {
    severity: 'critical',
    text: 'IPVS schedules a TCP connection only on its SYN (tcp_conn_schedule, net.ipv4.vs.sloppy_tcp=0): the next segment reaches the VIP bound on the node with no socket behind it and is answered with a reset.',
  };
}

function conntrackNext(
  ctx: RuleContext,
  scope: string | undefined,
  viaVip: boolean,
  ev: Evidence[],
): { text: string; severity: 'warning' | 'critical' } {
  const loose = ctx.table.sysctl(LOOSE, scope);
  if (loose) ev.push(evidence(loose.t, loose.src, `${LOOSE} = ${loose.value}`));
  const read = loose
    ? `${LOOSE} = ${loose.value} (read)`
    : `${LOOSE} not read (the kernel default 1 assumed)`;
  if (!loose || loose.value !== '0') {
    return {
      severity: 'warning',
      text: `With ${read} its next packet is picked up mid-stream as a new entry${viaVip ? " and DNAT'ed again by the Service rules, maybe to another backend, which has no such connection and resets it" : ''}.`,
    };
  }
  const nft = ctx.path.mode === 'nftables';
  return {
    severity: 'critical',
    text: nft
      ? `With ${read} its next packet is INVALID and not NAT'ed; nftables mode installs no INVALID drop rule, so it goes on with the VIP as destination and the peer answers with a reset.`
      : `With ${read} its next packet is INVALID and dropped (kube-proxy's INVALID drop rule): the sender retransmits until its socket times out.`,
  };
}

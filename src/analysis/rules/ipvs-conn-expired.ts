// FM-2 (events): IPVS expired the connection (conntrack DESTROY with a remaining timeout and no
// [USERSPACE] for a VIP tuple), and the node answered the client's next segment with RST from the VIP.
import type { Evidence } from '../../model/diagnosis.js';
import { endpointKey } from '../../model/endpoint.js';
import type { TimelineItem } from '../../model/timeline.js';
import { ipvsTimeoutsInForce } from '../path/context.js';
import type { SuggestNeed } from '../needs.js';
import type { Draft, Rule } from '../rule.js';
import { fmtSec, isNoSocket, itemEvidence, keepaliveSpan, latestT, makeDraft } from '../rule.js';

function isKernelKill(i: TimelineItem): boolean {
  return (
    i.ctType === 'DESTROY' && i.ctTimeout !== null && !i.ctUserspace && i.ctState === 'ESTABLISHED'
  );
}

export const ipvsConnExpired: Rule = {
  code: 'ipvs.conn-expired',
  fm: 'FM-2',
  run(ctx) {
    if (ctx.path.mode !== undefined && ctx.path.mode !== 'ipvs') return [];
    // No VIP known and not in IPVS mode: no flow below can pass the VIP test.
    if (ctx.path.ipvsVips.size === 0 && ctx.path.mode !== 'ipvs') return [];
    const it = ipvsTimeoutsInForce(ctx.path);
    const out: Draft[] = [];
    for (const f of ctx.eventFlows()) {
      const tl = f.timeline ?? [];
      const kill = tl.find(isKernelKill);
      // The client's segment to the VIP reached the node's own stack: RST from the ClusterIP.
      const rst = tl.find((i) => isNoSocket(i) && i.dir === 'orig');
      if (!rst && !kill) continue;
      // The VIP test after the timeline's (no key string for flows without a kill or a reset).
      const target = `${f.proto} ${endpointKey(ctx.table.target(f))}`;
      const isVip = ctx.path.ipvsVips.has(target) || (ctx.path.mode === 'ipvs' && f.natted);
      if (!isVip) continue;
      const ipvsGone = tl.find((i) => i.kind === 'ipvs-gone');
      const p = ctx.pathOf(f);
      const evs: Evidence[] = [];
      if (kill)
        evs.push(
          itemEvidence(
            kill,
            'DESTROY with a remaining timeout and no [USERSPACE]: killed by IPVS expiry',
          ),
        );
      if (ipvsGone) evs.push(itemEvidence(ipvsGone));
      if (rst)
        evs.push(
          itemEvidence(rst, 'segment to the VIP not scheduled: the node stack answered RST'),
        );
      if (it.tcp.evidence) evs.push(it.tcp.evidence);
      const gap =
        rst?.prevAct !== undefined && rst.prevAct >= 0
          ? Math.round((rst.t - rst.prevAct) / 1000)
          : undefined;
      const vip = endpointKey(ctx.table.target(f));
      let cause = `IPVS forgets this flow after ${fmtSec(it.tcp.value)} idle (${it.tcp.source})${gap !== undefined ? `; it was idle ${fmtSec(gap)}` : ''}`;
      cause += kill ? ' and its expiry deleted the conntrack entry' : '';
      cause += rst
        ? `; the client's next segment to ${vip} was not scheduled and the node answered RST from the ClusterIP`
        : '';
      cause += `; ${p.keepalive.state === 'on' && p.keepalive.idleSec !== null ? `its keepalive fires at ${fmtSec(p.keepalive.idleSec)}` : p.keepalive.state === 'off' ? 'keepalive is off' : 'no keepalive was observed'}.`;
      const needs: SuggestNeed[] = [{ kind: 'keepalive', paths: [p], budgetSec: it.tcp.value }];
      const span = keepaliveSpan(p);
      if (span !== undefined) needs.push({ kind: 'ipvs-tcp', aboveSec: span });
      out.push(
        makeDraft({
          rule: 'ipvs.conn-expired',
          fm: 'FM-2',
          subject: p.id,
          severity: rst ? 'critical' : 'warning',
          confidence: rst && kill ? 'certain' : 'likely',
          title: rst
            ? 'IPVS expired the flow and the node reset it from the VIP'
            : 'IPVS expired an established flow',
          cause,
          flows: [p.id],
          evidence: evs,
          needs,
          t: latestT(evs, ctx.now),
        }),
      );
    }
    return out;
  },
};

// FM-1 (events, loose=0): after conntrack forgot the flow, its packets are INVALID and vanish:
// retransmissions after the idle gap instead of a pickup.
import type { Evidence } from '../../model/diagnosis.js';
import { CT_TCP_TIMEOUTS, sysctlInForce } from '../../model/path-timeouts.js';
import type { Draft, Rule } from '../rule.js';
import { evidence, fmtSec, itemEvidence, latestT, makeDraft, statsDelta } from '../rule.js';
import { isExpiryDestroy } from './conntrack-established-expired.js';

export const conntrackExpiredBlackhole: Rule = {
  code: 'conntrack.expired-blackhole',
  fm: 'FM-1',
  run(ctx) {
    const loose = ctx.table.sysctl('net.netfilter.nf_conntrack_tcp_loose');
    if (!loose || loose.value !== '0') return [];
    const est = sysctlInForce(ctx.path, CT_TCP_TIMEOUTS.ESTABLISHED ?? { sysctl: '', kernel: 432000 }, undefined);
    const inv = statsDelta(ctx, 'invalid');
    const out: Draft[] = [];
    for (const f of ctx.eventFlows()) {
      const tl = f.timeline ?? [];
      const gone = tl.findIndex((i) => isExpiryDestroy(i) || i.kind === 'ct-gone');
      const rtx = tl.filter((i, n) => i.kind === 'retransmit' && (n > gone && gone >= 0 || (i.prevAct !== undefined && i.prevAct >= 0 && (i.t - i.prevAct) / 1000 >= est.value)));
      const r0 = rtx[0];
      if (!r0) continue;
      const p = ctx.pathOf(f);
      const evs: Evidence[] = [evidence(loose.t, loose.src, `net.netfilter.nf_conntrack_tcp_loose = ${loose.value}`, 'no mid-stream pickup')];
      const g = tl[gone];
      if (gone >= 0 && g) evs.push(itemEvidence(g, 'conntrack forgot the flow'));
      evs.push(...rtx.slice(0, 3).map((i) => itemEvidence(i, 'retransmission into the black hole')));
      if (inv.delta > 0 && inv.last) evs.push({ ...inv.last, note: `invalid rose by ${inv.delta}` });
      const gap = r0.prevAct !== undefined && r0.prevAct >= 0 ? Math.round((r0.t - r0.prevAct) / 1000) : undefined;
      out.push(
        makeDraft({
          rule: 'conntrack.expired-blackhole',
          fm: 'FM-1',
          subject: p.id,
          severity: 'critical',
          confidence: inv.delta > 0 ? 'certain' : 'likely',
          title: 'Flow black-holed after conntrack expiry (nf_conntrack_tcp_loose=0)',
          cause: `Conntrack forgot this flow after ${fmtSec(est.value)} idle${gap !== undefined ? ` (it was idle ${fmtSec(gap)})` : ''}; with nf_conntrack_tcp_loose=0 its next segments are INVALID and are dropped, so the sender retransmits until it times out.`,
          flows: [p.id],
          evidence: evs,
          needs: [{ kind: 'keepalive', paths: [p], budgetSec: est.value }],
          t: latestT(evs, ctx.now),
        }),
      );
    }
    return out;
  },
};

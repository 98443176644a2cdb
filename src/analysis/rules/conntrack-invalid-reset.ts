// FM-5 (events): a reply from the backend was INVALID, left conntrack without reverse NAT (src = the pod,
// not the ClusterIP), and the client's stack, which has no socket for it, answered RST (k8s #74839).
import type { Evidence } from '../../model/diagnosis.js';
import { endpointKey } from '../../model/endpoint.js';
import type { SuggestNeed } from '../needs.js';
import type { Draft, Rule } from '../rule.js';
import { evidence, isNoSocket, itemEvidence, latestT, makeDraft } from '../rule.js';
import type { Flow } from '../../model/flow.js';
import type { TimelineItem } from '../../model/timeline.js';
import { isPickup, isReversePickup, isTimerDestroy } from './expiry-helpers.js';
import { invalidFacts } from './invalid-helpers.js';

/**
 * True when the un-NAT'ed packet is a consequence of the entry being lost (FM-1/FM-4), not of an
 * INVALID verdict: the entry expired, was gone from a snapshot or was re-created by a pickup before
 * the reset, or the packet came from a backend the flow no longer maps to.
 */
export function entryLostBefore(
  table: { addr(id: number): string },
  f: Flow,
  h: TimelineItem,
): boolean {
  const lost = (f.timeline ?? []).some(
    (i) =>
      i.t <= h.t + 100 &&
      (isTimerDestroy(i) || i.kind === 'ct-gone' || isPickup(i) || isReversePickup(i)),
  );
  if (lost) return true;
  const p = h.probe;
  if (h.dir === 'reply' && (p?.kind === 'reset' || p?.kind === 'drop')) {
    const src = endpointKey({ addr: p.tuple.saddr, port: p.tuple.sport });
    return src !== endpointKey({ addr: table.addr(f.backendAddrId), port: f.backendPort });
  }
  return false;
}

export const conntrackInvalidReset: Rule = {
  code: 'conntrack.invalid-reset',
  fm: 'FM-5',
  run(ctx) {
    const out: Draft[] = [];
    // isNoSocket needs a probe reset or drop.
    for (const f of ctx.resetOrDropFlows()) {
      if (!f.natted) continue;
      // The trigger's source is the backend and its destination the client: the reply was not un-NAT'ed.
      const hits = (f.timeline ?? []).filter(
        (i) => isNoSocket(i) && i.dir === 'reply' && !entryLostBefore(ctx.table, f, i),
      );
      const h = hits[0];
      if (!h) continue;
      const p = ctx.pathOf(f);
      const facts = invalidFacts(ctx, f.ctScope ?? h.scope);
      const backend =
        h.probe && h.probe.kind !== 'probe-status'
          ? endpointKey({ addr: h.probe.tuple.saddr, port: h.probe.tuple.sport })
          : endpointKey({ addr: ctx.table.addr(f.backendAddrId), port: f.backendPort });
      const vip = endpointKey(ctx.table.target(f));
      const evs: Evidence[] = [
        evidence(f.ctT, f.ctSrc, ctx.table.conntrackSummary(f), `${vip} is DNAT'ed to ${backend}`),
        ...hits
          .slice(0, 3)
          .map((i) => itemEvidence(i, `packet from ${backend} arrived without reverse NAT`)),
      ];
      if (facts.invalidEvidence) evs.push(facts.invalidEvidence);
      if (facts.beLiberalEvidence) evs.push(facts.beLiberalEvidence);
      if (facts.rulesEvidence) evs.push(facts.rulesEvidence);
      const needs: SuggestNeed[] = [];
      if (facts.beLiberal !== true) needs.push({ kind: 'be-liberal' });
      if (facts.dropRules !== undefined && facts.dropRules.length === 0)
        needs.push({ kind: 'invalid-drop-rule', chain: 'FORWARD' });
      else if (facts.dropRules && facts.dropRules.every((r) => (r.hook ?? r.chain) !== 'INPUT'))
        needs.push({ kind: 'invalid-drop-rule', chain: 'INPUT' });
      out.push(
        makeDraft({
          rule: 'conntrack.invalid-reset',
          fm: 'FM-5',
          subject: p.id,
          severity: 'critical',
          confidence: 'certain',
          title: 'INVALID reply escaped reverse NAT and reset the connection',
          cause: `Conntrack marked a reply of this flow INVALID, so it left with source ${backend} instead of ${vip}; the client stack has no socket for ${backend} and answered RST${facts.invalidDelta > 0 ? ` (conntrack -S invalid rose by ${facts.invalidDelta})` : ''}${facts.beLiberal === false ? '; nf_conntrack_tcp_be_liberal is 0' : ''}.`,
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

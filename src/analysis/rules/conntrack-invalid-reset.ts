// FM-5 (events): a reply from the backend was INVALID, left conntrack without reverse NAT (src = the pod,
// not the ClusterIP), and the client's stack, which has no socket for it, answered RST (k8s #74839).
import type { Evidence } from '../../model/diagnosis.js';
import { endpointKey } from '../../model/endpoint.js';
import type { SuggestNeed } from '../../suggest/needs.js';
import type { Draft, Rule } from '../rule.js';
import { evidence, isNoSocket, itemEvidence, latestT, makeDraft } from '../rule.js';
import { invalidFacts } from './invalid-helpers.js';

export const conntrackInvalidReset: Rule = {
  code: 'conntrack.invalid-reset',
  fm: 'FM-5',
  run(ctx) {
    const facts = invalidFacts(ctx);
    const out: Draft[] = [];
    for (const f of ctx.eventFlows()) {
      if (!f.natted) continue;
      // The trigger's source is the backend and its destination the client: the reply was not un-NAT'ed.
      const hits = (f.timeline ?? []).filter((i) => isNoSocket(i) && i.dir === 'reply');
      const h = hits[0];
      if (!h) continue;
      const p = ctx.pathOf(f);
      const backend = endpointKey({ addr: ctx.table.addr(f.b), port: f.bp });
      const vip = endpointKey(ctx.table.target(f));
      const evs: Evidence[] = [
        evidence(f.ctT, f.ctSrc, ctx.table.conntrackSummary(f), `${vip} is DNAT'ed to ${backend}`),
        ...hits.slice(0, 3).map((i) => itemEvidence(i, `packet from ${backend} arrived without reverse NAT`)),
      ];
      if (facts.invalidEvidence) evs.push(facts.invalidEvidence);
      if (facts.beLiberalEvidence) evs.push(facts.beLiberalEvidence);
      if (facts.rulesEvidence) evs.push(facts.rulesEvidence);
      const needs: SuggestNeed[] = [];
      if (facts.beLiberal !== true) needs.push({ kind: 'be-liberal' });
      if (facts.dropRules !== undefined && facts.dropRules.length === 0) needs.push({ kind: 'invalid-drop-rule', chain: 'FORWARD' });
      else if (facts.dropRules && facts.dropRules.every((r) => (r.hook ?? r.chain) !== 'INPUT')) needs.push({ kind: 'invalid-drop-rule', chain: 'INPUT' });
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

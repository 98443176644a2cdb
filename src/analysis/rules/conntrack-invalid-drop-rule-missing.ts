// FM-5 (snapshot): NAT on this node, nf_conntrack_tcp_be_liberal=0 and no rule drops INVALID packets:
// any INVALID reply escapes reverse NAT and resets its connection.
import type { Evidence } from '../../model/diagnosis.js';
import type { Rule } from '../rule.js';
import { latestT, makeDraft } from '../rule.js';
import { invalidFacts } from './invalid-helpers.js';

export const conntrackInvalidDropRuleMissing: Rule = {
  code: 'conntrack.invalid-drop-rule-missing',
  fm: 'FM-5',
  run(ctx) {
    // nftables mode omits the rule by design: kube-proxy.nft-invalid-passes says so with its cause.
    if (ctx.path.mode === 'nftables') return [];
    const facts = invalidFacts(ctx);
    if (facts.dropRules === undefined || facts.dropRules.length > 0) return [];
    if (facts.beLiberal === true) return [];
    const ipt = ctx.table.iptables();
    const nat = ipt?.value.kubeProxyChains || ctx.path.mode !== undefined;
    if (!nat) return [];
    const evs: Evidence[] = [];
    if (facts.rulesEvidence) evs.push(facts.rulesEvidence);
    if (facts.beLiberalEvidence) evs.push(facts.beLiberalEvidence);
    if (facts.invalidEvidence) evs.push(facts.invalidEvidence);
    return [
      makeDraft({
        rule: 'conntrack.invalid-drop-rule-missing',
        fm: 'FM-5',
        subject: 'host',
        severity: facts.invalidDelta > 0 ? 'critical' : 'warning',
        confidence: facts.beLiberal === false ? 'certain' : 'likely',
        title: 'No INVALID DROP rule and conntrack is strict',
        cause: `No rule drops --ctstate INVALID and nf_conntrack_tcp_be_liberal is ${facts.beLiberal === false ? '0' : 'unset (kernel default 0)'}, so an INVALID reply leaves without reverse NAT and resets its connection${facts.invalidDelta > 0 ? `; conntrack -S invalid rose by ${facts.invalidDelta}` : ''}.`,
        flows: [],
        evidence: evs,
        needs: [{ kind: 'be-liberal' }, { kind: 'invalid-drop-rule', chain: 'FORWARD' }],
        t: latestT(evs, ctx.now),
      }),
    ];
  },
};

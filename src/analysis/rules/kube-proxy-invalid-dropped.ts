// FM-5 from kube-proxy's side: in iptables mode kube-proxy counts what its `--ctstate INVALID -j DROP`
// rule drops (nfacct counter ct_state_invalid_dropped_pkts, exported as
// kubeproxy_iptables_ct_state_invalid_dropped_packets_total). Non-zero means conntrack marked
// segments of this node's connections INVALID and only that rule kept them from drawing resets; the
// nftables mode installs no such rule (kube-proxy's docs point at this counter before switching).
import { KP_INVALID_DROPPED } from '../../parse/kube-proxy-metrics.js';
import type { Rule } from '../rule.js';
import { fmtSec, makeDraft } from '../rule.js';
import { invalidFacts } from './invalid-helpers.js';
import { kubeProxyMetricsReading, metricEvidence } from './kube-proxy-metrics-facts.js';

export const kubeProxyInvalidDropped: Rule = {
  code: 'kube-proxy.invalid-dropped',
  fm: 'FM-5',
  run(ctx) {
    const r = kubeProxyMetricsReading(ctx.table);
    const n = r?.latest.invalidDropped;
    if (!r || n === undefined || !(n > 0)) return [];
    const rise = Math.max(0, n - (r.first.invalidDropped ?? n));
    const facts = invalidFacts(ctx);
    const evs = [
      metricEvidence(
        r,
        `${KP_INVALID_DROPPED} ${n}`,
        rise > 0
          ? `rose by ${rise} in ${fmtSec(Math.round(r.spanSec))}`
          : 'packets dropped since kube-proxy started',
      ),
    ];
    if (facts.rulesEvidence) evs.push(facts.rulesEvidence);
    if (facts.invalidEvidence) evs.push(facts.invalidEvidence);
    if (facts.beLiberalEvidence) evs.push(facts.beLiberalEvidence);
    return [
      makeDraft({
        rule: 'kube-proxy.invalid-dropped',
        fm: 'FM-5',
        subject: 'kube-proxy',
        severity: rise > 0 ? 'warning' : 'info',
        confidence: 'certain',
        title: "kube-proxy's INVALID DROP rule is dropping packets",
        cause: `kube-proxy's rule dropped ${n} packets conntrack marked INVALID${rise > 0 ? ` (${rise} during the capture)` : ''}: out-of-window segments of live connections, which without the rule (nftables mode, or a lost rule) draw resets.`,
        flows: [],
        evidence: evs,
        needs: facts.beLiberal === true ? [] : [{ kind: 'be-liberal' }],
        t: r.t,
      }),
    ];
  },
};

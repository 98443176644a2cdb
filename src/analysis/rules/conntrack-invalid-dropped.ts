// FM-5 (events): segments of established flows dropped by an INVALID DROP rule (NETFILTER_DROP) while
// `conntrack -S invalid` rises: the rule protects the connection, but the segments are lost.
import type { Evidence } from '../../model/diagnosis.js';
import type { Flow } from '../../model/flow.js';
import type { TimelineItem } from '../../model/timeline.js';
import type { PathTimeouts } from '../path/path-timeouts.js';
import type { Rule } from '../rule.js';
import { itemEvidence, latestT, makeDraft } from '../rule.js';
import { entryLostBefore } from './conntrack-invalid-reset.js';
import { invalidFacts } from './invalid-helpers.js';

/** States an entry passes through after ESTABLISHED: a drop there hit an established flow. */
const AFTER_ESTABLISHED = new Set([
  'ESTABLISHED',
  'FIN_WAIT',
  'CLOSE_WAIT',
  'LAST_ACK',
  'TIME_WAIT',
  'CLOSE',
]);

export const conntrackInvalidDropped: Rule = {
  code: 'conntrack.invalid-dropped',
  fm: 'FM-5',
  run(ctx) {
    const flows: PathTimeouts[] = [];
    const evs: Evidence[] = [];
    let scope: string | undefined;
    // Only probe drops count.
    for (const f of ctx.resetOrDropFlows()) {
      if (f.proto !== 'tcp' || !AFTER_ESTABLISHED.has(f.ctState ?? '')) continue;
      // Only drops where conntrack tracks the flow (a middlebox netns drops for its own reasons), and
      // only while the entry was there: after an expiry the drops are FM-1/FM-4 (expired-blackhole, close-wait-expired).
      const drops = (f.timeline ?? []).filter(
        (i) =>
          i.kind === 'drop' &&
          i.probe?.kind === 'drop' &&
          i.probe.reason === 'NETFILTER_DROP' &&
          (i.scope ?? '') === (f.ctScope ?? '') &&
          !entryLostBefore(ctx.table, f, i) &&
          !isHandshake(f, i),
      );
      if (drops.length === 0) continue;
      scope ??= f.ctScope;
      flows.push(ctx.pathOf(f));
      evs.push(
        ...drops
          .slice(0, 2)
          .map((i) => itemEvidence(i, 'segment of an established flow dropped by netfilter')),
      );
    }
    if (flows.length === 0) return [];
    const facts = invalidFacts(ctx, scope);
    // kube-proxy's own counter of its INVALID DROP rule rising ties these drops to that rule.
    const kpRising = (facts.kubeProxyDropped?.rise ?? 0) > 0;
    const haveRule = (facts.dropRules?.length ?? 0) > 0 || kpRising;
    if (facts.invalidEvidence) evs.push(facts.invalidEvidence);
    if (facts.kubeProxyEvidence) evs.push(facts.kubeProxyEvidence);
    if (facts.rulesEvidence) evs.push(facts.rulesEvidence);
    if (facts.beLiberalEvidence) evs.push(facts.beLiberalEvidence);
    flows.sort((a, b) => (a.id < b.id ? -1 : 1));
    return [
      makeDraft({
        rule: 'conntrack.invalid-dropped',
        fm: 'FM-5',
        subject: 'host',
        severity: 'info',
        confidence:
          (facts.invalidDelta > 0 || kpRising) && haveRule
            ? 'certain'
            : facts.invalidDelta > 0 || haveRule
              ? 'likely'
              : 'possible',
        title: 'INVALID segments of established flows are dropped',
        cause: `Conntrack marked segments of ${flows.length} established flow${flows.length > 1 ? 's' : ''} INVALID${facts.invalidDelta > 0 ? ` (conntrack -S invalid rose by ${facts.invalidDelta})` : ''} and ${haveRule ? 'the INVALID DROP rule' : 'a netfilter rule'} dropped them: the connections survive but the segments are retransmitted.`,
        flows: flows.slice(0, 50).map((p) => p.id),
        evidence: evs,
        needs: facts.beLiberal === true ? [] : [{ kind: 'be-liberal' }],
        t: latestT(evs, ctx.now),
      }),
    ];
  },
};

/** A drop before the entry reached ESTABLISHED (SYN trouble is not an INVALID established segment). */
function isHandshake(f: Flow, drop: TimelineItem): boolean {
  const est = (f.timeline ?? []).find(
    (i) => i.ctType !== undefined && i.ctState === 'ESTABLISHED' && i.dir !== 'reply',
  );
  return est !== undefined && drop.t < est.t;
}

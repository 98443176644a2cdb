// FM-7: unacknowledged data, a zero window, retransmits or a mid-stream pickup clamp ESTABLISHED to 300 s;
// and (events) an entry that expired on that clamp while data was in flight.
import { endpointKey } from '../../model/endpoint.js';
import type { Draft, Rule, RuleContext } from '../rule.js';
import { itemEvidence, latestT, makeDraft } from '../rule.js';
import { expiryStory } from './conntrack-established-expired.js';
import { CLAMP_REASON, clampFindings } from './conntrack-clamp.js';
import { expiryFacts } from './expiry-helpers.js';

/** Flows whose ESTABLISHED entry expired on the unacknowledged/retransmit clamp (FM-7 → FM-1 behaviour). */
function expiredOnClamp(ctx: RuleContext): Draft[] {
  const out: Draft[] = [];
  for (const f of ctx.eventFlows()) {
    const x = expiryFacts(ctx, f, 'ESTABLISHED');
    if (!x?.clamp) continue;
    const p = ctx.pathOf(f);
    const story = expiryStory(x, endpointKey(ctx.table.client(f)));
    story.evidence.push(
      ...x.retransmits
        .slice(-2)
        .map((i) => itemEvidence(i, 'retransmission before the expiry: data not acknowledged')),
    );
    const reset = x.resets.length > 0 || x.clientResets.length > 0;
    out.push(
      makeDraft({
        rule: 'conntrack.clamped-unacked',
        fm: 'FM-7',
        subject: p.id,
        severity: 'critical',
        confidence: 'certain',
        title: 'Conntrack expired a flow on its unacknowledged-data clamp',
        cause: `Conntrack forgot this ESTABLISHED flow because ${CLAMP_REASON[x.clamp]}, which clamps its timeout: ${story.text.replace(/^after /, 'it expired after ')}${reset ? '' : '; the peer never acknowledged the data'}.`,
        flows: [p.id],
        evidence: story.evidence,
        needs: [{ kind: 'conntrack-unacknowledged', aboveSec: 900 }],
        t: latestT(story.evidence, ctx.now),
      }),
    );
  }
  return out;
}

export const conntrackClampedUnacked: Rule = {
  code: 'conntrack.clamped-unacked',
  fm: 'FM-7',
  run: (ctx) => [
    ...expiredOnClamp(ctx),
    ...clampFindings(
      ctx,
      'conntrack.clamped-unacked',
      'FM-7',
      ['unacknowledged', 'zero-window', 'retransmits', 'mid-stream-pickup'],
      'Conntrack clamps an established flow to 300 s',
      // Keepalive does not fire while data is in flight: only a longer clamp helps a stalled peer.
      (g, c) =>
        c === 'mid-stream-pickup'
          ? [{ kind: 'keepalive', paths: g, budgetSec: 300 }]
          : [{ kind: 'conntrack-unacknowledged', aboveSec: 900 }],
    ),
  ],
};

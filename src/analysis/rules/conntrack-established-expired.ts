// FM-1 (events): an ESTABLISHED entry expired ([DESTROY] without a timeout), the next packet was picked
// up mid-stream ([NEW] … [UNREPLIED]) and maybe DNAT'ed to another backend, which answered RST — or a
// backend packet was picked up as a flow of its own and reached the client without reverse NAT.
import type { Evidence } from '../../model/diagnosis.js';
import { endpointKey } from '../../model/endpoint.js';
import type { TimelineItem } from '../../model/timeline.js';
import type { SuggestNeed } from '../needs.js';
import type { Draft, Rule } from '../rule.js';
import { fmtSec, itemEvidence, keepaliveSpan, latestT, makeDraft } from '../rule.js';
import { expiryFacts, fmtGap, isTimerDestroy, type ExpiryFacts } from './expiry-helpers.js';

/** An ESTABLISHED entry removed by its timer: DESTROY carries no remaining timeout (§2.6). */
export function isExpiryDestroy(i: TimelineItem): boolean {
  return isTimerDestroy(i, 'ESTABLISHED');
}

/** kube-proxy's default tcpEstablishedTimeout (§4.1): what a lowered value goes back to. */
const KUBE_PROXY_ESTABLISHED = 86400;

/** One reset in words: who answered which packet, and why. */
export function resetPhrase(i: TimelineItem, client: string): string {
  const p = i.probe;
  if (p?.kind !== 'reset') return 'a reset';
  const src = endpointKey({ addr: p.tuple.saddr, port: p.tuple.sport });
  const dst = endpointKey({ addr: p.tuple.daddr, port: p.tuple.dport });
  if (dst === client) return `the client has no socket for ${src} and answered RST`;
  if (p.state === 'LISTEN')
    return `${dst} has no connection for it and its listener answered RST${p.reason ? ` (${p.reason})` : ''}`;
  return `${dst} has no socket for it and answered RST${p.reason ? ` (${p.reason})` : ''}`;
}

/** The cause sentence of an expiry and its consequences (shared with FM-7's event variant). */
export function expiryStory(
  x: ExpiryFacts,
  client: string,
): { text: string; evidence: Evidence[] } {
  const evs: Evidence[] = [
    itemEvidence(x.destroy, `DESTROY without a timeout: the ${x.state} entry expired`),
  ];
  if (x.timeout.evidence) evs.push(x.timeout.evidence);
  const to = x.timeout.bound ? `at most ${fmtSec(x.timeout.value)}` : fmtSec(x.timeout.value);
  let text = x.clamp
    ? `after ${to} without an acknowledgement (${x.timeout.source})`
    : `after ${to} idle (${x.timeout.source})`;
  if (x.gapSec !== undefined && x.next)
    text += x.clamp
      ? `; the next retransmission came ${fmtGap(x.gapSec)} after the previous one`
      : `; it had been idle ${fmtGap(x.gapSec)} when its next packet came`;
  // The client's pickup and the backend's, in the order they happened.
  const steps: { t: number; text: string }[] = [];
  if (x.pickup) {
    evs.push(
      itemEvidence(
        x.pickup,
        x.repicked
          ? `picked up mid-stream and DNAT'ed to ${x.newBackend} instead of ${x.oldBackend}`
          : 'picked up mid-stream to the same backend',
      ),
    );
    steps.push({
      t: x.pickup.t,
      text: x.repicked
        ? `the client's next packet was picked up mid-stream and DNAT'ed to ${x.newBackend} instead of ${x.oldBackend}`
        : `the client's next packet was picked up mid-stream to the same backend ${x.oldBackend}`,
    });
  }
  if (x.reversePickup) {
    evs.push(
      itemEvidence(x.reversePickup, "the backend's packet picked up as a new flow: no reverse NAT"),
    );
    steps.push({
      t: x.reversePickup.t,
      text: `a packet of ${x.oldBackend} was picked up as a flow of its own and reached the client without reverse NAT`,
    });
  }
  for (const st of steps.sort((a, b) => a.t - b.t)) text += `; ${st.text}`;
  const seen = new Set<string>();
  const phrases: string[] = [];
  for (const r of x.resets) {
    const ph = resetPhrase(r, client);
    if (seen.has(ph)) continue;
    seen.add(ph);
    phrases.push(ph);
    evs.push(itemEvidence(r, 'reset answering the flow after the expiry'));
    if (phrases.length >= 2) break;
  }
  if (phrases.length > 0) text += `; ${phrases.join(', then ')}`;
  const cr = x.clientResets[0];
  if (cr) {
    evs.push(itemEvidence(cr, 'the client received a reset: ECONNRESET'));
    text += '; the client got a reset (ECONNRESET)';
  }
  return { text, evidence: evs };
}

export const conntrackEstablishedExpired: Rule = {
  code: 'conntrack.established-expired',
  fm: 'FM-1',
  run(ctx) {
    const out: Draft[] = [];
    for (const f of ctx.eventFlows()) {
      const x = expiryFacts(ctx, f, 'ESTABLISHED');
      // Data in flight clamped the timeout: FM-7 (conntrack.clamped-unacked) tells that story.
      if (!x || x.clamp) continue;
      const p = ctx.pathOf(f);
      const story = expiryStory(x, endpointKey(ctx.table.client(f)));
      const reset = x.resets.length > 0 || x.clientResets.length > 0;
      const ka =
        p.keepalive.state === 'on' && p.keepalive.idleSec !== null
          ? `its keepalive fires at ${fmtSec(p.keepalive.idleSec)}`
          : p.keepalive.state === 'off'
            ? 'keepalive is off'
            : 'no keepalive was observed';
      const cause = `Conntrack forgot this ESTABLISHED flow ${story.text}; ${ka}.`;
      const budget = x.timeout.value;
      const needs: SuggestNeed[] = [{ kind: 'keepalive', paths: [p], budgetSec: budget }];
      const span = keepaliveSpan(p);
      if (span !== undefined && span >= budget)
        needs.push({ kind: 'conntrack-established', aboveSec: span });
      else if (budget < KUBE_PROXY_ESTABLISHED && (x.gapSec ?? 0) < KUBE_PROXY_ESTABLISHED)
        needs.push({ kind: 'conntrack-established', aboveSec: KUBE_PROXY_ESTABLISHED - 1 });
      const followed = x.pickup !== undefined || x.reversePickup !== undefined;
      out.push(
        makeDraft({
          rule: 'conntrack.established-expired',
          fm: 'FM-1',
          subject: p.id,
          severity: reset || x.repicked ? 'critical' : 'warning',
          confidence: followed && reset ? 'certain' : 'likely',
          title: reset
            ? 'Conntrack expiry re-routed the flow and it was reset'
            : 'Conntrack expired an established flow',
          cause,
          flows: [p.id],
          evidence: story.evidence,
          needs,
          t: latestT(story.evidence, ctx.now),
        }),
      );
    }
    return out;
  },
};

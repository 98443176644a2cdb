// FM-4 (k8s #32551): the conntrack CLOSE_WAIT entry expires (kernel 60 s) while the local socket is
// still in CLOSE-WAIT; its late FIN then leaves without NAT.
import type { Evidence } from '../../model/diagnosis.js';
import type { Flow } from '../../model/flow.js';
import { sysctlInForce } from '../path/context.js';
import { evidence as ev } from '../path/evidence.js';
import { CT_TCP_TIMEOUTS } from '../../model/kernel-defaults.js';
import type { Draft, Rule, RuleContext } from '../rule.js';
import { fmtSec, itemEvidence, latestT, makeDraft } from '../rule.js';
import { expiryFacts, fmtGap } from './expiry-helpers.js';

const SPEC = CT_TCP_TIMEOUTS.CLOSE_WAIT ?? {
  sysctl: 'net.netfilter.nf_conntrack_tcp_timeout_close_wait',
  kernel: 60,
};

/** From the events: the CLOSE_WAIT entry expired ([DESTROY] … CLOSE_WAIT without a timeout). */
function expired(ctx: RuleContext, f: Flow): Draft | undefined {
  const x = expiryFacts(ctx, f, 'CLOSE_WAIT');
  if (!x) return undefined;
  const p = ctx.pathOf(f);
  const evs: Evidence[] = [
    itemEvidence(x.destroy, 'DESTROY without a timeout: the CLOSE_WAIT entry expired'),
  ];
  if (x.timeout.evidence) evs.push(x.timeout.evidence);
  const sock = [f.client, f.server].find(
    (s) => s && s.fromSs && (s.state === 'CLOSE-WAIT' || s.state === 'LAST-ACK'),
  );
  if (sock) evs.push(ev(sock.t, sock.src, sock.raw, 'the socket half-closed by its peer'));
  // The late FIN: dropped as INVALID (DROP rule) or retransmitted because nothing answers it.
  const late = [...x.dropsAfter, ...x.retransmitsAfter].sort((a, b) => a.t - b.t);
  evs.push(
    ...late
      .slice(0, 3)
      .map((i) =>
        itemEvidence(
          i,
          i.kind === 'drop'
            ? 'late FIN dropped: no conntrack entry, no NAT'
            : 'late FIN retransmitted: it never reaches the peer',
        ),
      ),
  );
  const to = x.timeout.bound ? `at most ${fmtSec(x.timeout.value)}` : fmtSec(x.timeout.value);
  const gap =
    x.gapSec !== undefined && x.next
      ? `; the late FIN came ${fmtGap(x.gapSec)} after the last activity`
      : '';
  const cause = `Conntrack forgot this flow after ${to} in CLOSE_WAIT (${x.timeout.source})${gap}; ${late.length > 0 ? 'the late FIN left without NAT and was lost' : 'a late FIN will leave without NAT'}, so the peer stays in FIN_WAIT_2.`;
  return makeDraft({
    rule: 'conntrack.close-wait-expired',
    fm: 'FM-4',
    subject: p.id,
    severity: 'critical',
    confidence: late.length > 0 || sock ? 'certain' : 'likely',
    title: 'Conntrack CLOSE_WAIT timeout shorter than the application close',
    cause,
    flows: [p.id],
    evidence: evs,
    needs: [{ kind: 'conntrack-close-wait', aboveSec: Math.max(3600, (x.gapSec ?? 0) * 2) }],
    t: latestT(evs, ctx.now),
  });
}

export const conntrackCloseWaitExpired: Rule = {
  code: 'conntrack.close-wait-expired',
  fm: 'FM-4',
  run(ctx) {
    const out: Draft[] = [];
    const done = new Set<Flow>();
    for (const f of ctx.eventFlows()) {
      if (f.proto !== 'tcp') continue;
      const d = expired(ctx, f);
      if (d) {
        out.push(d);
        done.add(f);
      }
    }
    for (const f of ctx.table.flows()) {
      if (f.proto !== 'tcp' || f.ctState !== 'CLOSE_WAIT' || done.has(f)) continue;
      const natted =
        f.natted || f.replyDstAddrId !== f.clientAddrId || f.replyDstPort !== f.clientPort;
      if (!natted) continue;
      const sock = [f.client, f.server].find(
        (s) => s && s.fromSs && s.goneT < 0 && s.state === 'CLOSE-WAIT',
      );
      if (!sock) continue;
      const p = ctx.pathOf(f);
      const to = sysctlInForce(ctx.path, SPEC, f.ctScope);
      const destroyed = f.timeline?.find(
        (i) => (i.ctType === 'DESTROY' && i.ctTimeout === null) || i.kind === 'ct-gone',
      );
      const gone = !f.ctPresent;
      const idle = p.idleSec;
      if (!gone && (idle === null || idle < 0.5 * to.value)) continue;
      const evs: Evidence[] = [ev(sock.t, sock.src, sock.raw, 'socket still in CLOSE-WAIT')];
      if (destroyed) evs.push(itemEvidence(destroyed, 'conntrack forgot the CLOSE_WAIT entry'));
      else evs.push(ev(f.ctT, f.ctSrc, ctx.table.conntrackSummary(f)));
      if (to.evidence) evs.push(to.evidence);
      const cause = gone
        ? `Conntrack forgot this flow after ${fmtSec(to.value)} in CLOSE_WAIT (${to.source}) while its socket is still in CLOSE-WAIT; the late FIN will leave without NAT and the peer stays in FIN_WAIT_2.`
        : `Conntrack forgets this CLOSE_WAIT flow after ${fmtSec(to.value)} idle (${to.source}); it has been idle ${fmtSec(idle ?? 0)} with its socket still in CLOSE-WAIT.`;
      out.push(
        makeDraft({
          rule: 'conntrack.close-wait-expired',
          fm: 'FM-4',
          subject: p.id,
          severity: gone ? 'critical' : 'warning',
          confidence: gone ? 'certain' : 'likely',
          title: 'Conntrack CLOSE_WAIT timeout shorter than the application close',
          cause,
          flows: [p.id],
          evidence: evs,
          needs: [{ kind: 'conntrack-close-wait', aboveSec: Math.max(3600, (idle ?? 0) * 2) }],
          t: latestT(evs, ctx.now),
        }),
      );
    }
    return out;
  },
};

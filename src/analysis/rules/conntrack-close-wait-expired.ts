// FM-4 (k8s #32551): the conntrack CLOSE_WAIT entry expires (kernel 60 s) while the local socket is
// still in CLOSE-WAIT; its late FIN then leaves without NAT.
import type { Evidence } from '../../model/diagnosis.js';
import { CT_TCP_TIMEOUTS, evidence as ev, sysctlInForce } from '../../model/path-timeouts.js';
import type { Draft, Rule } from '../rule.js';
import { fmtSec, itemEvidence, latestT, makeDraft } from '../rule.js';

export const conntrackCloseWaitExpired: Rule = {
  code: 'conntrack.close-wait-expired',
  fm: 'FM-4',
  run(ctx) {
    const out: Draft[] = [];
    const spec = CT_TCP_TIMEOUTS.CLOSE_WAIT ?? { sysctl: 'net.netfilter.nf_conntrack_tcp_timeout_close_wait', kernel: 60 };
    for (const f of ctx.table.flows()) {
      if (f.proto !== 'tcp' || f.ctState !== 'CLOSE_WAIT') continue;
      const natted = f.natted || f.r !== f.c || f.rp !== f.cp;
      if (!natted) continue;
      const sock = [f.client, f.server].find((s) => s && s.fromSs && s.goneT < 0 && s.state === 'CLOSE-WAIT');
      if (!sock) continue;
      const p = ctx.pathOf(f);
      const to = sysctlInForce(ctx.path, spec, f.ctScope);
      const destroyed = f.timeline?.find((i) => (i.ct?.type === 'DESTROY' && i.ct.entry.timeout === null) || i.kind === 'ct-gone');
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

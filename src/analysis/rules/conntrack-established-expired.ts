// FM-1 (events): an ESTABLISHED entry expired ([DESTROY] without a timeout), the next packet was picked up
// mid-stream ([NEW] … [UNREPLIED]) and maybe DNAT'ed to another backend, which answered RST (NO_SOCKET).
import type { Evidence } from '../../model/diagnosis.js';
import { endpointKey } from '../../model/endpoint.js';
import type { TimelineItem } from '../../model/flow-table.js';
import { CT_TCP_TIMEOUTS, sysctlInForce } from '../../model/path-timeouts.js';
import type { SuggestNeed } from '../../suggest/needs.js';
import type { Draft, Rule } from '../rule.js';
import { fmtSec, isNoSocket, itemEvidence, keepaliveSpan, latestT, makeDraft } from '../rule.js';

/** An ESTABLISHED entry removed by its timer: DESTROY carries no remaining timeout (§2.6). */
export function isExpiryDestroy(i: TimelineItem): boolean {
  const ev = i.ct;
  return !!ev && ev.type === 'DESTROY' && ev.entry.timeout === null && !ev.userspace && ev.entry.state === 'ESTABLISHED';
}

export const conntrackEstablishedExpired: Rule = {
  code: 'conntrack.established-expired',
  fm: 'FM-1',
  run(ctx) {
    const out: Draft[] = [];
    for (const f of ctx.eventFlows()) {
      const tl = f.timeline ?? [];
      const di = tl.findIndex(isExpiryDestroy);
      if (di < 0) continue;
      const destroy = tl[di] as TimelineItem;
      const oldB = destroy.ct ? endpointKey({ addr: destroy.ct.entry.reply.src, port: destroy.ct.entry.reply.sport ?? 0 }) : '?';
      const rest = tl.slice(di + 1);
      const pickup = rest.find((i) => i.ct?.type === 'NEW' && i.ct.entry.unreplied);
      const newB = pickup?.ct ? endpointKey({ addr: pickup.ct.entry.reply.src, port: pickup.ct.entry.reply.sport ?? 0 }) : undefined;
      const repicked = newB !== undefined && newB !== oldB;
      const after = pickup ? tl.slice(tl.indexOf(pickup) + 1) : rest;
      const reset = after.find((i) => isNoSocket(i));
      const p = ctx.pathOf(f);
      const est = sysctlInForce(ctx.path, CT_TCP_TIMEOUTS.ESTABLISHED ?? { sysctl: '', kernel: 432000 }, f.ctScope);
      const evs: Evidence[] = [itemEvidence(destroy, 'DESTROY without a timeout: the entry expired')];
      if (est.evidence) evs.push(est.evidence);
      let cause = `Conntrack forgot this ESTABLISHED flow after ${fmtSec(est.value)} idle (${est.source})`;
      if (pickup) {
        evs.push(itemEvidence(pickup, repicked ? `picked up mid-stream and DNAT'ed to ${newB} instead of ${oldB}` : 'picked up mid-stream'));
        cause += repicked ? `; the next packet was picked up mid-stream and DNAT'ed to ${newB} instead of ${oldB}` : '; the next packet was picked up mid-stream to the same backend';
      }
      if (reset) {
        evs.push(itemEvidence(reset, 'no socket for this tuple: RST'));
        cause += `, which had no socket and reset the connection`;
      }
      cause += `; ${p.keepalive.state === 'on' && p.keepalive.idleSec !== null ? `its keepalive fires at ${fmtSec(p.keepalive.idleSec)}` : p.keepalive.state === 'off' ? 'keepalive is off' : 'no keepalive was observed'}.`;
      const needs: SuggestNeed[] = [{ kind: 'keepalive', paths: [p], budgetSec: est.value }];
      const span = keepaliveSpan(p);
      if (span !== undefined && span >= est.value) needs.push({ kind: 'conntrack-established', aboveSec: span });
      out.push(
        makeDraft({
          rule: 'conntrack.established-expired',
          fm: 'FM-1',
          subject: p.id,
          severity: reset || repicked ? 'critical' : pickup ? 'warning' : 'warning',
          confidence: reset && repicked ? 'certain' : reset || repicked ? 'likely' : 'likely',
          title: reset ? 'Conntrack expiry re-routed the flow and it was reset' : 'Conntrack expired an established flow',
          cause,
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

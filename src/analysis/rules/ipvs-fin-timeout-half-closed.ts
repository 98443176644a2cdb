// FM-3: a half-closed connection sits in IPVS FIN_WAIT (tcpfin, 120 s) while one side keeps streaming.
import type { Evidence } from '../../model/diagnosis.js';
import { ipvsTimeoutsInForce } from '../path/context.js';
import { evidence as ev } from '../path/evidence.js';
import type { SuggestNeed } from '../needs.js';
import type { Draft, Rule } from '../rule.js';
import { fmtSec, keepaliveSpan, latestT, makeDraft } from '../rule.js';

const HALF_OPEN = new Set(['ESTAB', 'CLOSE-WAIT', 'FIN-WAIT-1', 'FIN-WAIT-2']);

export const ipvsFinTimeoutHalfClosed: Rule = {
  code: 'ipvs.fin-timeout-half-closed',
  fm: 'FM-3',
  run(ctx) {
    if (ctx.path.mode !== undefined && ctx.path.mode !== 'ipvs') return [];
    const it = ipvsTimeoutsInForce(ctx.path);
    const out: Draft[] = [];
    for (const f of ctx.table.flows()) {
      const v = f.ipvs;
      if (!v || v.state !== 'FIN_WAIT') continue;
      const socks = [f.client, f.server].filter((s) => s && s.fromSs && HALF_OPEN.has(s.state));
      if (socks.length === 0) continue;
      const live = socks.filter((s) => s && s.goneT < 0);
      if (live.length === 0) continue;
      const p = ctx.pathOf(f);
      const gone = v.goneT >= 0;
      const evs: Evidence[] = [
        ev(
          v.t,
          v.src,
          ctx.table.ipvsSummary(f),
          gone ? 'IPVS entry later gone' : 'IPVS in FIN_WAIT',
        ),
      ];
      for (const s of live) if (s) evs.push(ev(s.t, s.src, s.raw, 'socket still open'));
      if (it.tcpfin.evidence) evs.push(it.tcpfin.evidence);
      const left = Math.max(0, Math.round(v.expiresSec - (ctx.now - v.t) / 1000));
      const cause = gone
        ? `IPVS forgot this half-closed flow after ${fmtSec(it.tcpfin.value)} idle in FIN_WAIT (${it.tcpfin.source}) while a socket of it is still open; its next segment will be reset.`
        : `IPVS keeps this half-closed flow only ${fmtSec(it.tcpfin.value)} idle in FIN_WAIT (${it.tcpfin.source}); ${fmtSec(left)} left, and a socket of it is still ${live[0]?.state}.`;
      const span = keepaliveSpan(p);
      const above = Math.max(
        span ?? 0,
        p.idleSec !== null ? p.idleSec * 2 : 0,
        it.tcpfin.value * 5,
      );
      const needs: SuggestNeed[] = [
        { kind: 'ipvs-tcpfin', aboveSec: above },
        { kind: 'keepalive', paths: [p], budgetSec: it.tcpfin.value },
      ];
      out.push(
        makeDraft({
          rule: 'ipvs.fin-timeout-half-closed',
          fm: 'FM-3',
          subject: p.id,
          severity: gone ? 'critical' : 'warning',
          confidence: gone ? 'likely' : 'possible',
          title: 'IPVS FIN_WAIT timeout cuts a half-closed stream',
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

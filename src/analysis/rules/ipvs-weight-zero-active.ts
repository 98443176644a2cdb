// FM-10: IPVS real servers with weight 0 (terminating pods) that still hold connections.
import type { Draft, Rule } from '../rule.js';
import { evidence, makeDraft } from '../rule.js';

export const ipvsWeightZeroActive: Rule = {
  code: 'ipvs.weight-zero-active',
  fm: 'FM-10',
  run(ctx) {
    const iv = ctx.table.ipvsServices;
    if (!iv) return [];
    const reuse = ctx.table.sysctl('net.ipv4.vs.conn_reuse_mode');
    const out: Draft[] = [];
    for (const s of iv.value) {
      for (const r of s.realServers) {
        if (r.weight !== 0 || r.activeConn + r.inactConn === 0) continue;
        const svc = `${s.proto} ${s.addr}:${s.port}`;
        const rs = `${r.addr}:${r.port}`;
        const evs = [evidence(iv.t, iv.src, `${svc} ${s.scheduler}  -> ${rs} ${r.forward} ${r.weight} ${r.activeConn} ${r.inactConn}`)];
        if (reuse) evs.push(evidence(reuse.t, reuse.src, `net.ipv4.vs.conn_reuse_mode = ${reuse.value}`));
        const reuse0 = reuse?.value === '0';
        out.push(
          makeDraft({
            rule: 'ipvs.weight-zero-active',
            fm: 'FM-10',
            subject: `${svc}>${rs}`,
            severity: reuse0 ? 'warning' : 'info',
            confidence: 'certain',
            title: 'Weight-0 IPVS real server still holds connections',
            cause: `Real server ${rs} of ${svc} has weight 0 (terminating) but ${r.activeConn} active and ${r.inactConn} inactive connections${reuse0 ? '; with conn_reuse_mode=0 clients reusing source ports keep being sent to it' : '; they break when the pod goes away'}.`,
            flows: [],
            evidence: evs,
            needs: reuse0 ? [{ kind: 'ipvs-conn-reuse', value: 1 }] : [],
            t: iv.t,
          }),
        );
      }
    }
    return out;
  },
};

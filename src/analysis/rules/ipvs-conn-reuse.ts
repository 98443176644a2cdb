// FM-10: conn_reuse_mode=1 on a kernel older than 5.9 in IPVS mode drops SYNs of reused ports (1 s delays).
import type { Rule } from '../rule.js';
import { evidence, makeDraft } from '../rule.js';

/** Major/minor of a kernel release string (`5.4.0-150-generic`). */
export function kernelVersion(rel: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)/.exec(rel);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

export const ipvsConnReuse: Rule = {
  code: 'ipvs.conn-reuse',
  fm: 'FM-10',
  run(ctx) {
    if (ctx.path.mode !== 'ipvs') return [];
    const reuse = ctx.table.sysctl('net.ipv4.vs.conn_reuse_mode');
    const rel = ctx.table.meta('kernel-release');
    if (!reuse || typeof rel?.value !== 'string') return [];
    const v = kernelVersion(rel.value);
    if (!v || v[0] > 5 || (v[0] === 5 && v[1] >= 9) || reuse.value === '0') return [];
    const evs = [
      evidence(reuse.t, reuse.src, `net.ipv4.vs.conn_reuse_mode = ${reuse.value}`),
      evidence(rel.t, rel.src, `kernel ${rel.value}`),
    ];
    return [
      makeDraft({
        rule: 'ipvs.conn-reuse',
        fm: 'FM-10',
        subject: 'host',
        severity: 'warning',
        confidence: 'likely',
        title: 'IPVS conn_reuse_mode=1 on a kernel before 5.9',
        cause: `On kernel ${rel.value} (before 5.9) IPVS with conntrack and conn_reuse_mode=${reuse.value} drops the SYN of a connection that reuses a source port, costing a 1 s retransmit per new connection.`,
        flows: [],
        evidence: evs,
        needs: [{ kind: 'ipvs-conn-reuse', value: 0 }],
        t: Math.max(reuse.t, rel.t),
      }),
    ];
  },
};

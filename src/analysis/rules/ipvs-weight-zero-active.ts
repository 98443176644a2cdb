// FM-10: IPVS real servers with weight 0 (terminating pods) that still hold connections.
import { endpointKey } from '../../model/endpoint.js';
import type { Draft, Rule } from '../rule.js';
import { MAX_FLOWS_PER_FINDING, evidence, makeDraft } from '../rule.js';
import { kernelVersion } from './ipvs-conn-reuse.js';

export const ipvsWeightZeroActive: Rule = {
  code: 'ipvs.weight-zero-active',
  fm: 'FM-10',
  run(ctx) {
    const iv = ctx.table.ipvsServices;
    if (!iv) return [];
    const reuse = ctx.table.sysctl('net.ipv4.vs.conn_reuse_mode');
    // Before 5.9, conn_reuse_mode=1 with conntrack drops the SYN of a reused port (1 s delays, k8s
    // #81775/#93297): there the node knob is no fix, a newer kernel is.
    const rel = ctx.table.meta('kernel-release');
    const kv = typeof rel?.value === 'string' ? kernelVersion(rel.value) : undefined;
    const oldKernel = kv !== undefined && (kv[0] < 5 || (kv[0] === 5 && kv[1] < 9));
    const out: Draft[] = [];
    // Live established IPVS connections (ActiveConn) by `proto vip:port>dest:port`: the flows still on the server.
    const byDest = new Map<string, string[]>();
    for (const f of ctx.table.flows()) {
      const v = f.ipvs;
      if (!v || v.goneT >= 0 || v.state !== 'ESTABLISHED') continue;
      const k = `${f.proto} ${endpointKey(ctx.table.target(f))}>${endpointKey(v.dest)}`;
      const ids = byDest.get(k) ?? byDest.set(k, []).get(k)!;
      if (ids.length < MAX_FLOWS_PER_FINDING) ids.push(ctx.table.flowId(f));
    }
    for (const s of iv.value) {
      for (const r of s.realServers) {
        if (r.weight !== 0 || r.activeConn + r.inactConn === 0) continue;
        const svc = `${s.proto} ${s.addr}:${s.port}`;
        const rs = `${r.addr}:${r.port}`;
        const evs = [
          evidence(
            iv.t,
            iv.src,
            `${svc} ${s.scheduler}  -> ${rs} ${r.forward} ${r.weight} ${r.activeConn} ${r.inactConn}`,
          ),
        ];
        if (reuse)
          evs.push(evidence(reuse.t, reuse.src, `net.ipv4.vs.conn_reuse_mode = ${reuse.value}`));
        const reuse0 = reuse?.value === '0';
        if (reuse0 && oldKernel && rel)
          evs.push(evidence(rel.t, rel.src, `kernel ${String(rel.value)}`));
        const oldNote =
          reuse0 && oldKernel
            ? `; on kernel ${String(rel?.value)} (before 5.9) conn_reuse_mode=1 would drop the SYNs of reused ports (1 s connect delays), so only a 5.9+ kernel fixes it`
            : '';
        out.push(
          makeDraft({
            rule: 'ipvs.weight-zero-active',
            fm: 'FM-10',
            subject: `${svc}>${rs}`,
            severity: reuse0 ? 'warning' : 'info',
            confidence: 'certain',
            title: 'Weight-0 IPVS real server still holds connections',
            cause: `Real server ${rs} of ${svc} has weight 0 (terminating) but ${r.activeConn} active and ${r.inactConn} inactive connections${reuse0 ? '; with conn_reuse_mode=0 clients reusing source ports keep being sent to it' : '; they break when the pod goes away'}${oldNote}.`,
            flows: [
              ...(byDest.get(
                `${s.proto.toLowerCase()} ${endpointKey({ addr: s.addr, port: s.port })}>${endpointKey({ addr: r.addr, port: r.port })}`,
              ) ?? []),
            ].sort(),
            evidence: evs,
            needs: reuse0 && !oldKernel ? [{ kind: 'ipvs-conn-reuse', value: 1 }] : [],
            t: iv.t,
          }),
        );
      }
    }
    return out;
  },
};

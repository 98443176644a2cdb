// FM-9: UDP conntrack entries to a Service VIP whose backend is no longer an endpoint (or never DNAT'ed)
// keep steering the client's packets to a dead address.
import type { Evidence } from '../../model/diagnosis.js';
import { endpointKey } from '../../model/endpoint.js';
import type { Draft, Rule, RuleContext } from '../rule.js';
import { evidence, latestT, makeDraft } from '../rule.js';

interface ServiceEndpoints {
  readonly name: string;
  readonly endpoints: Set<string>;
  readonly ev: Evidence;
}

/** Service VIP:port (udp) → current endpoints, from iptables-save and ipvsadm. */
function udpServices(ctx: RuleContext): Map<string, ServiceEndpoints> {
  const m = new Map<string, ServiceEndpoints>();
  const ipt = ctx.table.iptables();
  for (const s of ipt?.value.services ?? []) {
    if (!s.clusterIP || s.port === undefined || (s.proto ?? '').toLowerCase() !== 'udp') continue;
    const k = endpointKey({ addr: s.clusterIP, port: s.port });
    m.set(k, {
      name: `${s.namespace}/${s.name}:${s.portName}`,
      endpoints: new Set(s.endpoints.map((e) => endpointKey(e))),
      ev: evidence(
        ipt?.t ?? 0,
        ipt?.src ?? 'iptables',
        `iptables-save: ${s.namespace}/${s.name}:${s.portName} ${k} → ${s.endpoints.map((e) => endpointKey(e)).join(', ') || 'no endpoints'}`,
      ),
    });
  }
  const iv = ctx.table.ipvsServices;
  for (const s of iv?.value ?? []) {
    if (s.proto.toUpperCase() !== 'UDP') continue;
    const k = endpointKey({ addr: s.addr, port: s.port });
    const eps = s.realServers.map((r) => endpointKey({ addr: r.addr, port: r.port }));
    m.set(k, {
      name: k,
      endpoints: new Set(eps),
      ev: evidence(
        iv?.t ?? 0,
        iv?.src ?? 'ipvsadm',
        `ipvsadm -Ln: UDP ${k} → ${eps.join(', ') || 'no real servers'}`,
      ),
    });
  }
  return m;
}

export const conntrackStaleUdp: Rule = {
  code: 'conntrack.stale-udp',
  fm: 'FM-9',
  run(ctx) {
    const svcs = udpServices(ctx);
    if (svcs.size === 0) return [];
    const stale = new Map<
      string,
      { svc: ServiceEndpoints; flows: string[]; backends: Set<string>; ev: Evidence[] }
    >();
    for (const f of ctx.table.flows()) {
      if (f.proto !== 'udp' || !f.ctPresent || f.ctScope !== undefined) continue;
      const vip = endpointKey(ctx.table.target(f));
      const svc = svcs.get(vip);
      if (!svc || svc.endpoints.size === 0) continue;
      const backend = endpointKey({ addr: ctx.table.addr(f.backendAddrId), port: f.backendPort });
      if (svc.endpoints.has(backend)) continue;
      let g = stale.get(vip);
      if (!g) {
        g = { svc, flows: [], backends: new Set(), ev: [svc.ev] };
        stale.set(vip, g);
      }
      g.flows.push(ctx.table.flowId(f));
      g.backends.add(f.natted ? backend : `${backend} (not DNAT'ed)`);
      if (g.ev.length < 4)
        g.ev.push(
          evidence(
            f.ctT,
            f.ctSrc,
            ctx.table.conntrackSummary(f),
            f.natted ? `${backend} is not an endpoint` : "entry was never DNAT'ed",
          ),
        );
    }
    const out: Draft[] = [];
    for (const [vip, g] of stale) {
      const [addr, port] = [
        vip.slice(0, vip.lastIndexOf(':')),
        Number(vip.slice(vip.lastIndexOf(':') + 1)),
      ];
      out.push(
        makeDraft({
          rule: 'conntrack.stale-udp',
          fm: 'FM-9',
          subject: `udp ${vip}`,
          severity: 'warning',
          confidence: 'likely',
          title: 'Stale UDP conntrack entries steer traffic to a gone endpoint',
          cause: `${g.flows.length} UDP conntrack entr${g.flows.length > 1 ? 'ies' : 'y'} for ${g.svc.name} point at ${[...g.backends].sort().join(', ')}, not a current endpoint; the client's packets keep going there as long as it sends within the UDP timeout.`,
          flows: g.flows.sort().slice(0, 50),
          evidence: g.ev,
          needs: [
            {
              kind: 'flush-stale-udp',
              vip: addr.replace(/^\[|\]$/g, ''),
              port,
              staleBackends: [...g.backends].sort(),
            },
          ],
          t: latestT(g.ev, ctx.now),
        }),
      );
    }
    return out;
  },
};

// FM-1 over IPv6: the Service reached at its IPv6 VIP through ip6tables DNAT, idle past the node's
// conntrack timeout (IPv4 and IPv6 entries share nf_conntrack_tcp_timeout_established), then a
// write: the pickup re-DNATs to the other backend, which answers with a RST.
import { beAddr, expiryThenWrite, nodeExpiry, pickupBackend } from './helpers.js';
import type { ScenarioDef } from './types.js';

export const IPV6_CONNTRACK_EXPIRY: ScenarioDef = {
  id: 'ipv6-conntrack-expiry',
  fm: 'FM-1',
  title: 'IPv6 Service (ip6tables DNAT): idle past ct timeout; pickup re-DNATs → RST',
  expected: { client: 'ECONNRESET' },
  settings: nodeExpiry(),
  async run(ctx) {
    const { flow, echo, idleMs } = await expiryThenWrite(ctx, {
      ipv6: true,
      switchBackend: true,
      waitMs: 4000,
    });
    return {
      flow,
      outcome: { client: echo },
      idleMs,
      backendAfter: beAddr(pickupBackend(ctx.flowEvents(flow)), true),
    };
  },
};

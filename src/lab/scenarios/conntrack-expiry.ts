// FM-1 in the lab: idle past ct timeout; pickup re-DNATs → RST. Over IPv4, and over IPv6 with the
// Service reached at its IPv6 VIP through ip6tables DNAT (both families share
// nf_conntrack_tcp_timeout_established).
import { beAddr, expiryThenWrite, nodeExpiry, pickupBackend } from './helpers.js';
import type { ScenarioDef } from './types.js';

function conntrackExpiryOver(ipv6: boolean): ScenarioDef {
  return {
    id: ipv6 ? 'ipv6-conntrack-expiry' : 'conntrack-expiry',
    fm: 'FM-1',
    title: `${ipv6 ? 'IPv6 Service (ip6tables DNAT): ' : ''}idle past ct timeout; pickup re-DNATs → RST`,
    expected: { client: 'ECONNRESET' },
    settings: nodeExpiry(),
    async run(ctx) {
      const { flow, echo, idleMs } = await expiryThenWrite(ctx, {
        ...(ipv6 ? { ipv6 } : {}),
        switchBackend: true,
        waitMs: 4000,
      });
      return {
        flow,
        outcome: { client: echo },
        idleMs,
        backendAfter: beAddr(pickupBackend(ctx.flowEvents(flow)), ipv6),
      };
    },
  };
}

export const conntrackExpiry = conntrackExpiryOver(false);
export const IPV6_CONNTRACK_EXPIRY = conntrackExpiryOver(true);

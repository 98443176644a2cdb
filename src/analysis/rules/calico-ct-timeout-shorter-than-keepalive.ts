// Calico eBPF (issue 22): Calico's own conntrack map forgets an idle flow (bpfConntrackTimeouts,
// TCPEstablished 1 h by default) before keepalive refreshes it.
import type { Rule } from '../rule.js';
import { layerTimeoutFindings } from './layer-timeout.js';

export const calicoCtTimeoutShorterThanKeepalive: Rule = {
  code: 'calico.ct-timeout-shorter-than-keepalive',
  fm: 'FM-1',
  run: (ctx) =>
    layerTimeoutFindings(ctx, {
      rule: 'calico.ct-timeout-shorter-than-keepalive',
      fm: 'FM-1',
      layers: ['calico'],
      title: "Calico's eBPF conntrack forgets idle flows before keepalive refreshes them",
      raise: (aboveSec) => ({ kind: 'calico-ct-timeout', field: 'tcpEstablished', aboveSec }),
    }),
};

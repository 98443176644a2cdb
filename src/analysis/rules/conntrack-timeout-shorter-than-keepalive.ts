// FM-1 (snapshot): conntrack's ESTABLISHED timeout is shorter than the keepalive in force.
import type { Rule } from '../rule.js';
import { layerTimeoutFindings } from './layer-timeout.js';

export const conntrackTimeoutShorterThanKeepalive: Rule = {
  code: 'conntrack.timeout-shorter-than-keepalive',
  fm: 'FM-1',
  run: (ctx) =>
    layerTimeoutFindings(ctx, {
      rule: 'conntrack.timeout-shorter-than-keepalive',
      fm: 'FM-1',
      layers: ['conntrack'],
      title: 'Conntrack forgets idle flows before keepalive refreshes them',
      raise: (aboveSec) => ({ kind: 'conntrack-established', aboveSec }),
    }),
};

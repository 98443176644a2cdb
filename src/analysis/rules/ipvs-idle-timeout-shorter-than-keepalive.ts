// FM-2 (snapshot): the IPVS tcp timeout (900 s by default) is shorter than the keepalive in force.
import type { Rule } from '../rule.js';
import { layerTimeoutFindings } from './layer-timeout.js';

export const ipvsIdleTimeoutShorterThanKeepalive: Rule = {
  code: 'ipvs.idle-timeout-shorter-than-keepalive',
  fm: 'FM-2',
  run: (ctx) =>
    layerTimeoutFindings(ctx, {
      rule: 'ipvs.idle-timeout-shorter-than-keepalive',
      fm: 'FM-2',
      layers: ['ipvs'],
      title: 'IPVS forgets idle flows before keepalive refreshes them',
      raise: (aboveSec) => ({ kind: 'ipvs-tcp', aboveSec }),
    }),
};

// FM-11 (snapshot): an idle timer beyond the node (cloud LB/NAT, --path-idle-timeout) is shorter than keepalive.
import type { Rule } from '../rule.js';
import { layerTimeoutFindings } from './layer-timeout.js';

export const pathIdleTimeout: Rule = {
  code: 'path.idle-timeout',
  fm: 'FM-11',
  run: (ctx) =>
    layerTimeoutFindings(ctx, {
      rule: 'path.idle-timeout',
      fm: 'FM-11',
      layers: ['path', 'cloud'],
      title: 'An idle timer beyond the node forgets flows before keepalive refreshes them',
      // Raising the external timer only helps flows whose keepalive fires before it.
      extraNeeds: (g) =>
        g.every((p) => p.keepalive.state === 'on')
          ? [
              {
                kind: 'external-timeout',
                idleSec: Math.max(
                  ...g.map(
                    (p) =>
                      (p.keepalive.idleSec ?? 0) + p.keepalive.intervalSec * p.keepalive.probes,
                  ),
                ),
              },
            ]
          : [],
    }),
};

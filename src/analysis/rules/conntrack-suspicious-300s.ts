// FM-6: an ESTABLISHED, ASSURED entry refreshed to 300 s: conntrack thinks the flow is suspicious.
import type { Rule } from '../rule.js';
import { clampFindings } from './conntrack-clamp.js';

export const conntrackSuspicious300s: Rule = {
  code: 'conntrack.suspicious-300s',
  fm: 'FM-6',
  run: (ctx) =>
    clampFindings(
      ctx,
      'conntrack.suspicious-300s',
      'FM-6',
      ['suspicious'],
      'Conntrack lowered an established flow to 300 s',
      (g) => [{ kind: 'keepalive', paths: g, budgetSec: 300 }],
    ),
};

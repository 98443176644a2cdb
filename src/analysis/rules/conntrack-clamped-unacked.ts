// FM-7: unacknowledged data, a zero window, retransmits or a mid-stream pickup clamp ESTABLISHED to 300 s.
import type { Rule } from '../rule.js';
import { clampFindings } from './conntrack-clamp.js';

export const conntrackClampedUnacked: Rule = {
  code: 'conntrack.clamped-unacked',
  fm: 'FM-7',
  run: (ctx) =>
    clampFindings(
      ctx,
      'conntrack.clamped-unacked',
      'FM-7',
      ['unacknowledged', 'zero-window', 'retransmits', 'mid-stream-pickup'],
      'Conntrack clamps an established flow to 300 s',
      // Keepalive does not fire while data is in flight: only a longer clamp helps a stalled peer.
      (g, c) => (c === 'mid-stream-pickup' ? [{ kind: 'keepalive', paths: g, budgetSec: 300 }] : [{ kind: 'conntrack-unacknowledged', aboveSec: 900 }]),
    ),
};

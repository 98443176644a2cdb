// FM-1 seen before it bites: the entry expires while both sockets live on, and the idle lasts long
// enough for a conntrack snapshot to miss the entry of an established socket pair before the client
// sends again (then the pickup re-DNATs to the other backend, which resets).
import { NS } from '../topology.js';
import { EXPIRY_IDLE_S, T, beAddr, expiryThenWrite, nodeExpiry, pickupBackend } from './helpers.js';
import type { ScenarioDef } from './types.js';

/** Idle past the expiry: long enough for snapshots every 2 s (trace's default) to see the entry gone. */
export const SEEN_IDLE_S = EXPIRY_IDLE_S + 6;

export const EXPIRED_SEEN_IDLE: ScenarioDef = {
  id: 'expired-seen-idle',
  fm: 'FM-1',
  title: 'entry expired, socket alive, snapshot sees it first',
  expected: { client: 'ECONNRESET' },
  settings: nodeExpiry(),
  async run(ctx) {
    const { flow, echo, idleMs } = await expiryThenWrite(ctx, {
      switchBackend: true,
      waitMs: 4000,
      idleMs: SEEN_IDLE_S * 1000,
      why: `conntrack ESTABLISHED timeout ${T} s in ${NS.node}; the entry is gone ${SEEN_IDLE_S - T} s before the next send`,
    });
    return {
      flow,
      outcome: { client: echo },
      idleMs,
      backendAfter: beAddr(pickupBackend(ctx.flowEvents(flow))),
    };
  },
};

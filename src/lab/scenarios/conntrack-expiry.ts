// FM-1 in the lab: idle past ct timeout; pickup re-DNATs → RST.
import { beAddr, expiryThenWrite, nodeExpiry, pickupBackend } from './helpers.js';
import type { ScenarioDef } from './types.js';

export const conntrackExpiry: ScenarioDef = {
  id: 'conntrack-expiry',
  fm: 'FM-1',
  title: 'idle past ct timeout; pickup re-DNATs → RST',
  expected: { client: 'ECONNRESET' },
  settings: nodeExpiry(),
  async run(ctx) {
    const { flow, echo, idleMs } = await expiryThenWrite(ctx, {
      switchBackend: true,
      waitMs: 4000,
    });
    return {
      flow,
      outcome: { client: echo },
      idleMs,
      backendAfter: beAddr(pickupBackend(ctx.flowEvents(flow))),
    };
  },
};

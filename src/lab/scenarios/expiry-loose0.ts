// FM-1 in the lab: same, tcp_loose=0: INVALID, dropped → timeout.
import { NS } from '../topology.js';
import { expiryThenWrite, nodeExpiry } from './helpers.js';
import type { ScenarioDef } from './types.js';

export const expiryLoose0: ScenarioDef = {
  id: 'expiry-loose0',
  fm: 'FM-1',
  title: 'same, tcp_loose=0: INVALID, dropped → timeout',
  dropInvalid: true,
  expected: { client: 'ETIMEDOUT' },
  // tcp_retries2=2 makes the client give up after a few seconds of retransmissions instead of ≈15 min.
  settings: {
    ...nodeExpiry({ 'net.netfilter.nf_conntrack_tcp_loose': 0 }),
    [NS.client]: { 'net.ipv4.tcp_retries2': 2 },
  },
  async run(ctx) {
    const { flow, echo, idleMs } = await expiryThenWrite(ctx, {
      switchBackend: false,
      waitMs: 10000,
    });
    return { flow, outcome: { client: echo }, idleMs };
  },
};

// FM-12 in the lab: control: keepalive 1 s < ct timeout 5 s → ok.
import { NS } from '../topology.js';
import { expiryThenWrite, nodeExpiry } from './helpers.js';
import type { ScenarioDef } from './types.js';

export const keepaliveSaves: ScenarioDef = {
  id: 'keepalive-saves',
  fm: 'FM-12',
  title: 'control: keepalive 1 s < ct timeout 5 s → ok',
  expected: { client: 'ok' },
  settings: {
    ...nodeExpiry(),
    [NS.client]: { 'net.ipv4.tcp_keepalive_intvl': 1, 'net.ipv4.tcp_keepalive_probes': 3 },
  },
  async run(ctx) {
    const { flow, echo, idleMs } = await expiryThenWrite(ctx, {
      keepAliveMs: 1000,
      switchBackend: true,
      waitMs: 4000,
    });
    const destroyed = ctx.flowEvents(flow).some((e) => e.type === 'DESTROY');
    ctx.notes.push(
      destroyed
        ? 'conntrack entry was destroyed during the idle period'
        : 'conntrack entry survived the idle period (no DESTROY)',
    );
    return { flow, outcome: { client: echo }, idleMs };
  },
};

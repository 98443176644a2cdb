// Keepalive set only on the backend's socket: its probes (and the client kernel's ACKs to them)
// cross the node's conntrack in both directions, so they refresh the entry as well as the client's
// own would. The flow is safe: nothing to predict, nothing to find.
import { T, expiryThenWrite, nodeExpiry } from './helpers.js';
import type { ScenarioDef } from './types.js';

/** The backend's TCP_KEEPIDLE, well under the node's ESTABLISHED timeout. */
export const SERVER_KEEPIDLE_MS = 1000;

export const KEEPALIVE_SERVER_ONLY: ScenarioDef = {
  id: 'keepalive-server-only',
  fm: 'FM-12',
  title: `control: backend keepalive 1 s < ct timeout ${T} s → ok`,
  expected: { client: 'ok' },
  settings: nodeExpiry(),
  async run(ctx) {
    const { flow, echo, idleMs } = await expiryThenWrite(ctx, {
      switchBackend: true,
      waitMs: 4000,
      afterConnect: (f) => {
        ctx.servers[f.backend].send({
          cmd: 'keepalive',
          conn: f.serverConn,
          ms: SERVER_KEEPIDLE_MS,
        });
        ctx.step(
          'keepalive',
          `Backend ${f.backend} set SO_KEEPALIVE, TCP_KEEPIDLE ${SERVER_KEEPIDLE_MS / 1000} s on its socket; the client has none`,
        );
      },
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

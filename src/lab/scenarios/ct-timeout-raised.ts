// FM-1 with a twist: the ESTABLISHED timeout is raised while the connection idles. An entry's
// deadline is set when its last packet passed (nf_ct_refresh), so the raise helps only entries that
// see a packet afterwards: this one still expires at the old deadline.
import { NS } from '../topology.js';
import { T, beAddr, expiryThenWrite, nodeExpiry, pickupBackend, sleep } from './helpers.js';
import type { ScenarioDef } from './types.js';

/** What the timeout is raised to, and how long after the idle starts. */
export const RAISED_TIMEOUT_S = 3600;
export const RAISE_AFTER_MS = 2000;

export const CT_TIMEOUT_RAISED: ScenarioDef = {
  id: 'ct-timeout-raised',
  fm: 'FM-1',
  title: 'ct timeout raised mid-idle: old deadline still kills',
  expected: { client: 'ECONNRESET' },
  settings: nodeExpiry(),
  async run(ctx) {
    const raise = (async () => {
      // Raised while the flow idles, before its old deadline (T s after its last packet).
      while (ctx.ts.idleStart === undefined) await sleep(100);
      await sleep(RAISE_AFTER_MS);
      await ctx.lab.sysctl(NS.node, {
        'net.netfilter.nf_conntrack_tcp_timeout_established': RAISED_TIMEOUT_S,
      });
      ctx.mark('raisedAt');
      ctx.step(
        'raise',
        `nf_conntrack_tcp_timeout_established raised ${T} s → ${RAISED_TIMEOUT_S} s in ${NS.node} (the idle entry keeps its old deadline)`,
      );
    })();
    const { flow, echo, idleMs } = await expiryThenWrite(ctx, {
      switchBackend: true,
      waitMs: 4000,
    });
    await raise;
    return {
      flow,
      outcome: { client: echo },
      idleMs,
      backendAfter: beAddr(pickupBackend(ctx.flowEvents(flow))),
    };
  },
};

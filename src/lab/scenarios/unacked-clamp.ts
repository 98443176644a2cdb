// FM-7 in the lab: unacked data clamps ct timeout → re-DNAT → RST.
import { run } from '../../host/exec.js';
import { ADDR, BACKENDS, NS } from '../topology.js';
import { beAddr, other, pickupBackend } from './helpers.js';
import type { ScenarioDef } from './types.js';

export const unackedClamp: ScenarioDef = {
  id: 'unacked-clamp',
  fm: 'FM-7',
  title: 'unacked data clamps ct timeout → re-DNAT → RST',
  expected: { client: 'ECONNRESET' },
  settings: {
    [NS.node]: {
      'net.netfilter.nf_conntrack_tcp_timeout_unacknowledged': 2,
      'net.netfilter.nf_conntrack_tcp_timeout_max_retrans': 2,
      'net.netfilter.nf_conntrack_tcp_loose': 1,
    },
  },
  async run(ctx) {
    const flow = await ctx.connect();
    await ctx.lab.setEndpoints([other(flow.backend)]);
    ctx.step('endpoints', `Service endpoints switched to ${other(flow.backend)} only`);
    await run(
      ['iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', String(ADDR.backendPort), '-j', 'DROP'],
      { netns: BACKENDS[flow.backend].ns },
    );
    ctx.step('stall', `Backend ${flow.backend} stopped acknowledging (its INPUT drops the flow)`);
    ctx.mark('actionAt');
    ctx.mark('expiryExpected', Date.now() + 2000);
    const echo = await ctx.echo(flow, 'never-acked', 15000);
    if (echo !== 'ok') ctx.mark('failureObserved');
    ctx.step('result', `Failure observed: ${echo}`);
    return {
      flow,
      outcome: { client: echo },
      backendAfter: beAddr(pickupBackend(ctx.flowEvents(flow))),
    };
  },
};

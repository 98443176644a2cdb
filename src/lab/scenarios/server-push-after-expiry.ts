// FM-1 in the lab: backend writes after expiry: not un-NATed → RST.
import { NS } from '../topology.js';
import { codeOutcome, EXPIRY_IDLE_S, nodeExpiry, T } from './helpers.js';
import type { ScenarioDef } from './types.js';

export const serverPushAfterExpiry: ScenarioDef = {
  id: 'server-push-after-expiry',
  fm: 'FM-1',
  title: 'backend writes after expiry: not un-NATed → RST',
  expected: { client: 'ECONNRESET', server: 'ECONNRESET' },
  settings: nodeExpiry(),
  async run(ctx) {
    const flow = await ctx.connect();
    const idleMs = EXPIRY_IDLE_S * 1000;
    ctx.mark('expiryExpected', Date.now() + T * 1000);
    await ctx.idle(
      idleMs,
      `conntrack ESTABLISHED timeout ${T} s in ${NS.node}, expiry expected at +${T} s`,
    );
    const server = ctx.servers[flow.backend];
    const sFrom = server.events.length;
    const cFrom = ctx.client.events.length;
    ctx.mark('actionAt');
    server.send({ cmd: 'write', conn: flow.serverConn, data: 'push-after-idle' });
    ctx.step('push', `Backend ${flow.backend} wrote to the client after the idle period`);
    const sErr = await ctx.waitError(server, flow.serverConn, 4000, sFrom);
    if (sErr) ctx.mark('failureObserved', sErr.t);
    const pushed = ctx.client.events
      .slice(cFrom)
      .some((e) => e.conn === flow.conn && e.ev === 'data' && (e.text ?? '').includes('push'));
    ctx.notes.push(
      pushed
        ? 'client received the push'
        : 'client never received the push (it arrived from the backend address, not the VIP)',
    );
    ctx.step(
      'push-result',
      sErr ? `Failure observed: backend ${sErr.code}` : 'Backend saw no error',
    );
    const client = await ctx.echo(flow, 'after-push', 4000);
    return {
      flow,
      idleMs,
      outcome: { client, server: sErr ? codeOutcome(sErr.code) : pushed ? 'ok' : 'no-reply' },
    };
  },
};

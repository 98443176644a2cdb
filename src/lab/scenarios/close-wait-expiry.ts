// FM-4 in the lab: CLOSE_WAIT expires; late FIN lost → FIN_WAIT2.
import { run } from '../../host/exec.js';
import { ADDR, BACKENDS, NS } from '../topology.js';
import { codeOutcome } from './helpers.js';
import type { ScenarioDef } from './types.js';

export const closeWaitExpiry: ScenarioDef = {
  id: 'close-wait-expiry',
  fm: 'FM-4',
  title: 'CLOSE_WAIT expires; late FIN lost → FIN_WAIT2',
  dropInvalid: true,
  expected: { client: 'fin-lost', server: 'fin-lost' },
  settings: { [NS.node]: { 'net.netfilter.nf_conntrack_tcp_timeout_close_wait': 3 } },
  async run(ctx) {
    const flow = await ctx.connect();
    const server = ctx.servers[flow.backend];
    server.send({ cmd: 'end', conn: flow.serverConn });
    const gotEnd = await ctx.client.waitFor((e) => e.conn === flow.conn && e.ev === 'end', 3000);
    ctx.step(
      'half-close',
      gotEnd
        ? `Backend half-closed; client in CLOSE_WAIT`
        : 'Backend half-close not seen by the client',
    );
    ctx.mark('expiryExpected', Date.now() + 3000);
    const idleMs = 5000;
    await ctx.idle(idleMs, `conntrack CLOSE_WAIT timeout 3 s in ${NS.node}`);
    const sFrom = server.events.length;
    ctx.mark('actionAt');
    ctx.client.send({ cmd: 'end', conn: flow.conn });
    ctx.step('late-fin', 'Client closed its side (late FIN sent)');
    const sEnd = await server.waitFor(
      (e) => e.conn === flow.serverConn && (e.ev === 'end' || e.ev === 'error'),
      3000,
      sFrom,
    );
    if (!sEnd) ctx.mark('failureObserved');
    const ssBe = (
      await run(['ss', '-tanH', 'state', 'fin-wait-2'], {
        netns: BACKENDS[flow.backend].ns,
        reject: false,
      })
    ).stdout.trim();
    const ssCl = (
      await run(['ss', '-tanH', 'state', 'last-ack'], { netns: NS.client, reject: false })
    ).stdout.trim();
    if (ssBe)
      ctx.notes.push(`${BACKENDS[flow.backend].ns} FIN-WAIT-2: ${ssBe.replace(/\s+/g, ' ')}`);
    if (ssCl) ctx.notes.push(`${NS.client} LAST-ACK: ${ssCl.replace(/\s+/g, ' ')}`);
    const stuck = ssCl.includes(`${ADDR.client}:${flow.tuple.sport}`);
    ctx.step(
      'late-fin-result',
      sEnd
        ? `Backend received the client's FIN`
        : `Failure observed: the client's FIN never reached ${flow.backend}`,
    );
    return {
      flow,
      idleMs,
      outcome: {
        client: stuck ? 'fin-lost' : 'ok',
        server: sEnd ? (sEnd.ev === 'end' ? 'ok' : codeOutcome(sEnd.code)) : 'fin-lost',
      },
    };
  },
};

// FM-11 in the lab: mbox drops flows idle 2 s → keepalive ETIMEDOUT.
import { run } from '../../host/exec.js';
import { ADDR, NS } from '../topology.js';
import { codeOutcome } from './helpers.js';
import type { ScenarioDef } from './types.js';

const MBOX_IDLE_S = 2;
const KEEPIDLE_MS = 3000;

export const middleboxIdleDrop: ScenarioDef = {
  id: 'middlebox-idle-drop',
  fm: 'FM-11',
  title: 'mbox drops flows idle 2 s → keepalive ETIMEDOUT',
  expected: { client: 'ETIMEDOUT' },
  // Node's setKeepAlive (libuv >= 1.46) sets TCP_KEEPINTVL=1 s and TCP_KEEPCNT=10 on the socket
  // itself, so the netns tcp_keepalive_intvl/probes below only matter for other applications.
  settings: {
    [NS.client]: { 'net.ipv4.tcp_keepalive_intvl': 1, 'net.ipv4.tcp_keepalive_probes': 3 },
    [NS.mbox]: { 'idle-drop-seconds': MBOX_IDLE_S },
  },
  async run(ctx) {
    await ctx.lab.setMiddleboxIdle(MBOX_IDLE_S);
    ctx.step(
      'mbox',
      `Middlebox idle timer set in ${NS.mbox}: flows idle > ${MBOX_IDLE_S} s are dropped silently`,
    );
    const flow = await ctx.connect({ keepAliveMs: KEEPIDLE_MS });
    ctx.mark('expiryExpected', Date.now() + MBOX_IDLE_S * 1000);
    ctx.mark('idleStart');
    ctx.step(
      'idle',
      `Idle started: keepalive probes from +${KEEPIDLE_MS / 1000} s (middlebox forgets at +${MBOX_IDLE_S} s); giving up takes ≈${KEEPIDLE_MS / 1000 + 10} s`,
    );
    const err = await ctx.waitError(ctx.client, flow.conn, 25000);
    if (err) ctx.mark('failureObserved', err.t);
    ctx.step(
      'result',
      err
        ? `Failure observed: ${err.code} after ${((err.t - (ctx.ts.idleStart ?? err.t)) / 1000).toFixed(1)} s idle`
        : 'No error within 25 s',
    );
    const ct = (
      await run(
        [
          'conntrack',
          '-L',
          '-p',
          'tcp',
          '--orig-src',
          ADDR.client,
          '--sport',
          String(flow.tuple.sport),
        ],
        { netns: NS.node, reject: false },
      )
    ).stdout.trim();
    ctx.notes.push(
      ct
        ? `node conntrack still holds the flow: ${ct.replace(/\s+/g, ' ')}`
        : 'node conntrack no longer holds the flow',
    );
    return {
      flow,
      idleMs: err && ctx.ts.idleStart ? err.t - ctx.ts.idleStart : undefined,
      outcome: { client: err ? codeOutcome(err.code) : 'no-reply' },
    };
  },
};

// A pod netns whose keepalive time is below the node's conntrack timeout but whose interval is
// above it, next to one with both below. The client sets SO_KEEPALIVE only, so its schedule is the
// pod netns's sysctls. After an answered probe the next one comes keepintvl later (measured, see
// docs/kernel-timers.md), so with keepintvl above the timeout the entry expires between probes:
// the next probe is picked up mid-stream, DNAT'd to the other backend and answered with a RST.
import { spawnLines } from '../../host/exec.js';
import { sysctlKeepaliveClientArgv } from '../sysctl-keepalive-client.js';
import { ADDR, NS } from '../topology.js';
import type { Ctx } from './context.js';
import { T, beAddr, nodeExpiry, other } from './helpers.js';
import type { AppOutcome, Flow, ScenarioDef } from './types.js';

/** The pod netns's keepalive time: first probe after 2 s idle, well inside the 5 s timeout. */
export const POD_KEEPIDLE_S = 2;
/** Interval above the node's timeout: the entry dies between the first and second probe. */
export const POD_KEEPINTVL_ABOVE_S = 8;
const IDLE_S = 12;

interface ClientEvent {
  readonly ev: 'connected' | 'idle' | 'result';
  readonly local?: string;
  readonly outcome?: AppOutcome;
  /** The client's own wall clock (ms) when it printed the line. */
  readonly t?: number;
}

async function sysctlKeepaliveRun(ctx: Ctx, keepintvl: number) {
  const abort = new AbortController();
  const client = spawnLines(sysctlKeepaliveClientArgv(ADDR.vip, ADDR.vipPort, IDLE_S, 5), {
    netns: NS.client,
    signal: abort.signal,
    killSignal: 'SIGTERM',
    forceKillAfterMs: 1000,
    dieWithParent: true,
  });
  const seen: ClientEvent[] = [];
  let flow: Flow | undefined;
  const bound = setTimeout(() => abort.abort(), (IDLE_S + 20) * 1000);
  try {
    for await (const l of client.lines) {
      if (l.stream !== 'stdout') continue;
      let e: ClientEvent;
      try {
        e = JSON.parse(l.line) as ClientEvent;
      } catch {
        continue;
      }
      seen.push(e);
      if (e.ev === 'connected') {
        const sport = Number(e.local?.split(':')[1]);
        flow = await acceptedFlow(ctx, sport);
        ctx.mark('connected', e.t);
        ctx.step(
          'connected',
          `Client (SO_KEEPALIVE only) connected: ${ADDR.client}:${sport} → ${ADDR.vip}:${ADDR.vipPort}, DNAT'd to ${flow.backend} ${beAddr(flow.backend)}`,
        );
        await ctx.lab.setEndpoints([other(flow.backend)]);
        ctx.step('endpoints', `Service endpoints switched to ${other(flow.backend)} only`);
      } else if (e.ev === 'idle') {
        const idleStart = ctx.mark('idleStart', e.t);
        if (keepintvl > T) ctx.mark('expiryExpected', idleStart + (POD_KEEPIDLE_S + T) * 1000);
        ctx.step(
          'idle',
          `Idle started: ${IDLE_S} s; the pod's probes come at ${POD_KEEPIDLE_S} s, then every ${keepintvl} s, against a ${T} s conntrack timeout`,
        );
      } else if (e.ev === 'result') {
        ctx.mark('actionAt', (ctx.ts.idleStart ?? Date.now()) + IDLE_S * 1000);
        if (e.outcome !== 'ok') ctx.mark('failureObserved', e.t);
      }
    }
  } finally {
    clearTimeout(bound);
  }
  const outcome = seen.find((e) => e.ev === 'result')?.outcome ?? 'no-reply';
  ctx.step(
    'after-idle',
    outcome === 'ok' ? 'Data echoed after the idle period' : `Failure: ${outcome}`,
  );
  return { flow, outcome: { client: outcome }, idleMs: IDLE_S * 1000 };
}

/** The backend connection that accepted the python client's source port. */
async function acceptedFlow(ctx: Ctx, sport: number): Promise<Flow> {
  for (const be of ['be1', 'be2'] as const) {
    const e = await ctx.servers[be].waitFor(
      (x) => x.ev === 'accept' && x.remote === `${ADDR.client}:${sport}`,
      be === 'be1' ? 1500 : 3000,
    );
    if (e?.conn !== undefined)
      return {
        conn: 0,
        tuple: { src: ADDR.client, sport, dst: ADDR.vip, dport: ADDR.vipPort },
        backend: be,
        serverConn: e.conn,
      };
  }
  throw new Error(`no backend accepted ${ADDR.client}:${sport}`);
}

const podKeepalive = (keepintvl: number) => ({
  ...nodeExpiry(),
  [NS.client]: {
    'net.ipv4.tcp_keepalive_time': POD_KEEPIDLE_S,
    'net.ipv4.tcp_keepalive_intvl': keepintvl,
    'net.ipv4.tcp_keepalive_probes': 9,
  },
});

export const KEEPALIVE_INTERVAL_ABOVE: ScenarioDef = {
  id: 'keepalive-interval-above',
  fm: 'FM-1',
  title: `pod keepalive time ${POD_KEEPIDLE_S} s < ct timeout ${T} s < interval ${POD_KEEPINTVL_ABOVE_S} s → reset`,
  expected: { client: 'ECONNRESET' },
  settings: podKeepalive(POD_KEEPINTVL_ABOVE_S),
  run: (ctx) => sysctlKeepaliveRun(ctx, POD_KEEPINTVL_ABOVE_S),
};

export const KEEPALIVE_NETNS_BELOW: ScenarioDef = {
  id: 'keepalive-netns-below',
  fm: 'FM-1',
  title: `control: pod keepalive time and interval ${POD_KEEPIDLE_S} s < ct timeout ${T} s → ok`,
  expected: { client: 'ok' },
  settings: podKeepalive(POD_KEEPIDLE_S),
  run: (ctx) => sysctlKeepaliveRun(ctx, POD_KEEPIDLE_S),
};

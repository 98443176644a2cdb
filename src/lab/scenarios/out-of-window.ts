// FM-5 in the lab: a segment over the window, with and without the INVALID DROP rule and be_liberal.
import { spawnLines } from '../../host/exec.js';
import { CRAFT_OOW_PY } from '../craft.js';
import { ADDR, BACKENDS, NS } from '../topology.js';
import { codeOutcome, sleep } from './helpers.js';
import type { ScenarioDef } from './types.js';

/** One of the three out-of-window variants. */
function oowScenario(variant: 'drop' | 'no-drop' | 'be-liberal'): ScenarioDef {
  const id = variant === 'drop' ? 'out-of-window' : `out-of-window-${variant}`;
  const title = {
    drop: 'seq over window: INVALID, DROP rule → survives',
    'no-drop': 'same, no DROP rule: leaks un-NATed → both reset',
    'be-liberal': 'same, be_liberal=1: accepted → survives',
  }[variant];
  return {
    id,
    fm: 'FM-5',
    title,
    dropInvalid: variant === 'drop',
    expected:
      variant === 'no-drop'
        ? { client: 'ECONNRESET', server: 'ECONNRESET' }
        : { client: 'ok', server: 'ok' },
    settings: {
      [NS.node]: { 'net.netfilter.nf_conntrack_tcp_be_liberal': variant === 'be-liberal' ? 1 : 0 },
    },
    async run(ctx) {
      const flow = await ctx.connect();
      const be = BACKENDS[flow.backend];
      const abort = new AbortController();
      const crafter = spawnLines(
        [
          'python3',
          '-c',
          CRAFT_OOW_PY,
          'eth0',
          be.ip,
          String(ADDR.backendPort),
          ADDR.client,
          String(flow.tuple.sport),
          '5',
        ],
        {
          netns: be.ns,
          signal: abort.signal,
          killSignal: 'SIGTERM',
          forceKillAfterMs: 1000,
          dieWithParent: true,
        },
      );
      const out: string[] = [];
      let readyResolve: () => void = () => undefined;
      const ready = new Promise<void>((r) => (readyResolve = r));
      const pump = (async () => {
        for await (const l of crafter.lines) {
          out.push(l.line);
          if (l.line.includes('"ready"')) readyResolve();
        }
        readyResolve();
      })();
      try {
        await Promise.race([ready, sleep(5000)]);
        const sFrom = ctx.servers[flow.backend].events.length;
        // The echo of this write is the segment the crafter reads seq/ack from.
        await ctx.echo(flow, 'ping');
        await Promise.race([crafter.exited, sleep(6000)]);
        await pump;
        const sent = out.find((l) => l.includes('"sent"'));
        if (!sent) throw new Error(`crafter sent nothing: ${out.join(' | ')}`);
        ctx.mark('actionAt');
        ctx.notes.push(`crafted: ${sent}`);
        ctx.step(
          'crafted',
          `Out-of-window segment sent from ${be.ip}:${ADDR.backendPort} (seq + 2^30)`,
        );
        const sErr = await ctx.waitError(ctx.servers[flow.backend], flow.serverConn, 1500, sFrom);
        const client = await ctx.echo(flow, 'check', 3000);
        if (client !== 'ok' || sErr) ctx.mark('failureObserved', sErr?.t ?? Date.now());
        const save = await ctx.lab.iptablesSave();
        const dropLine = save
          .split('\n')
          .find((l) => l.includes('KUBE-FORWARD') && l.includes('INVALID') && l.includes('DROP'));
        if (dropLine) ctx.notes.push(`rule counter: ${dropLine}`);
        ctx.step(
          'result',
          `Client ${client === 'ok' ? 'data echoed' : client}; backend ${sErr ? sErr.code : 'no error'}`,
        );
        return { flow, outcome: { client, server: sErr ? codeOutcome(sErr.code) : 'ok' } };
      } finally {
        abort.abort();
        await crafter.exited;
      }
    },
  };
}

export const outOfWindow = oowScenario('drop');
export const outOfWindowNoDrop = oowScenario('no-drop');
export const outOfWindowBeLiberal = oowScenario('be-liberal');

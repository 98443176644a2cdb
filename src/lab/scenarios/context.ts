// What a scenario drives: the lab, its traffic agents and the conntrack event capture.
import type { AgentEvent } from '../agent.js';
import type { CtEvent, CtEventCapture } from '../ct-events.js';
import type { Lab, OnStep } from '../lab.js';
import { ADDR, type BackendName } from '../topology.js';
import { ADDR6 } from '../topology-v6.js';
import type { AgentHandle, Traffic } from '../traffic.js';
import { beAddr, codeOutcome, sleep, VIP } from './helpers.js';
import type { AppOutcome, Flow, FlowTuple } from './types.js';

/** One scenario run's agents, capture, notes and key moments. */
export class Ctx {
  readonly notes: string[] = [];
  readonly ts: Record<string, number> = {};
  servers!: Record<BackendName, AgentHandle>;
  client!: AgentHandle;
  ct!: CtEventCapture;

  constructor(
    readonly lab: Lab,
    readonly traffic: Traffic,
    private readonly onStep: OnStep | undefined,
  ) {}

  step(name: string, message: string): void {
    this.onStep?.({ t: Date.now(), name, message });
  }

  mark(name: string, t = Date.now()): number {
    this.ts[name] = t;
    return t;
  }

  /** Connects the client to the VIP, sends one line and waits for the echo; returns the flow. */
  async connect(opts: { keepAliveMs?: number; ipv6?: boolean } = {}): Promise<Flow> {
    const from = this.client.events.length;
    const fam = opts.ipv6 ? { vip: ADDR6.vip, client: ADDR6.client } : ADDR;
    const vip = opts.ipv6 ? `[${fam.vip}]:${ADDR.vipPort}` : VIP;
    this.client.send({
      cmd: 'connect',
      host: fam.vip,
      port: ADDR.vipPort,
      ...(opts.keepAliveMs === undefined ? {} : { keepAliveMs: opts.keepAliveMs }),
    });
    const ev = await this.client.waitFor(
      (e) => e.ev === 'connected' || e.ev === 'error',
      5000,
      from,
    );
    if (!ev || ev.ev !== 'connected' || ev.conn === undefined)
      throw new Error(`client could not connect to ${vip}: ${ev?.code ?? 'timeout'}`);
    const sport = Number(ev.local?.split(':').pop());
    const tuple: FlowTuple = { src: fam.client, sport, dst: fam.vip, dport: ADDR.vipPort };
    const acceptedBy = await Promise.race(
      (['be1', 'be2'] as const).map((be) =>
        this.servers[be]
          .waitFor((e) => e.ev === 'accept' && e.remote === `${fam.client}:${sport}`, 3000)
          .then((e) => (e ? { be, e } : undefined)),
      ),
    );
    const found = acceptedBy ?? (await this.findAccept(fam.client, sport));
    if (!found || found.e.conn === undefined) throw new Error('no backend accepted the connection');
    const flow: Flow = { conn: ev.conn, tuple, backend: found.be, serverConn: found.e.conn };
    this.mark('connected', ev.t);
    const echo = await this.echo(flow, 'hello');
    if (echo !== 'ok') throw new Error(`first echo failed: ${echo}`);
    this.step(
      'connected',
      opts.ipv6
        ? `Client connected: [${fam.client}]:${sport} → ${vip}, DNAT'd to ${found.be} [${ADDR6[found.be]}]:${ADDR.backendPort}`
        : `Client connected: ${ADDR.client}:${sport} → ${VIP}, DNAT'd to ${found.be} ${beAddr(found.be)}`,
    );
    return flow;
  }

  private async findAccept(
    client: string,
    sport: number,
  ): Promise<{ be: BackendName; e: AgentEvent } | undefined> {
    for (const be of ['be1', 'be2'] as const) {
      const e = this.servers[be].events.find(
        (x) => x.ev === 'accept' && x.remote === `${client}:${sport}`,
      );
      if (e) return { be, e };
    }
    return undefined;
  }

  /** Writes `text` from the client and waits for the echo or an error (bounded). */
  async echo(flow: Flow, text: string, timeoutMs = 3000): Promise<AppOutcome> {
    const from = this.client.events.length;
    this.client.send({ cmd: 'write', conn: flow.conn, data: text });
    let got = '';
    const ev = await this.client.waitFor(
      (e) => {
        if (e.conn !== flow.conn) return false;
        if (e.ev === 'data') got += e.text ?? '';
        return e.ev === 'error' || (e.ev === 'data' && got.includes(text)) || e.ev === 'close';
      },
      timeoutMs,
      from,
    );
    if (!ev) return 'no-reply';
    if (ev.ev === 'data') return 'ok';
    if (ev.ev === 'error') return codeOutcome(ev.code);
    return 'error:closed';
  }

  /** Waits for an error on a client or server connection (bounded); undefined if none came. */
  async waitError(
    agent: AgentHandle,
    conn: number,
    timeoutMs: number,
    from = 0,
  ): Promise<AgentEvent | undefined> {
    return agent.waitFor((e) => e.conn === conn && e.ev === 'error', timeoutMs, from);
  }

  /** Idles for `ms`, saying so (and when conntrack expiry is expected). */
  async idle(ms: number, why: string): Promise<void> {
    this.mark('idleStart');
    this.step('idle', `Idle started: ${(ms / 1000).toFixed(0)} s (${why})`);
    await sleep(ms);
    this.step('idle-done', `Idle ended after ${(ms / 1000).toFixed(0)} s`);
  }

  /** Conntrack events for the client's flow (original direction from the client). */
  flowEvents(flow: Flow): CtEvent[] {
    return this.ct
      .events()
      .filter((e) => e.orig?.src === flow.tuple.src && e.orig.sport === flow.tuple.sport);
  }
}

// What every lab scenario is built from: the result it reports, the context it drives traffic
// through (connect, echo, idle, conntrack events) and the shared expiry steps.
import type { AgentEvent } from './agent.js';
import type { CtEvent, CtEventCapture } from './ct-events.js';
import type { Lab, OnStep } from './lab.js';
import { ADDR, BACKENDS, NS, backendOf, type BackendName } from './topology.js';
import type { AgentHandle, Traffic } from './traffic.js';

/** What an application (or its kernel) ended up with. */
export type AppOutcome =
  | 'ok' // data echoed back / connection still usable
  | 'ECONNRESET'
  | 'ETIMEDOUT'
  | 'EPIPE'
  | 'fin-lost' // our FIN never reached the peer: it stays in FIN_WAIT2, we in LAST_ACK
  | 'no-reply' // nothing came back within the scenario's bound, no error either
  | 'skipped'
  | `error:${string}`;

export interface FlowTuple {
  readonly src: string;
  readonly sport: number;
  readonly dst: string;
  readonly dport: number;
}

export interface ScenarioResult {
  readonly scenario: string;
  readonly fm: string;
  readonly title: string;
  /** The client's tuple to the Service VIP (as the node's conntrack original direction shows it). */
  readonly clientTuple: FlowTuple | undefined;
  readonly vip: string;
  /** Backend picked at connect time, and the one the conntrack pickup re-DNAT'd to (if any). */
  readonly backendBefore: string | undefined;
  readonly backendAfter: string | undefined;
  readonly outcome: { readonly client: AppOutcome; readonly server?: AppOutcome };
  readonly expected: { readonly client: AppOutcome; readonly server?: AppOutcome };
  readonly matched: boolean;
  /** One line for people: what happened. */
  readonly summary: string;
  /** Knobs the scenario set (namespace → key → value). */
  readonly settings: Record<string, Record<string, string | number | boolean>>;
  /** Wall-clock ms of the key moments. */
  readonly timestamps: {
    readonly start: number;
    readonly ready: number;
    readonly connected?: number;
    readonly idleStart?: number;
    readonly expiryExpected?: number;
    readonly actionAt?: number;
    readonly failureObserved?: number;
    readonly end: number;
  };
  readonly idleMs: number | undefined;
  /** Raw `conntrack -E -o timestamp -p tcp` lines from the node namespace during the scenario. */
  readonly conntrackEvents: string[];
  /** `conntrack -S` of the node, summed over CPUs, before traffic and at the end. */
  readonly conntrackStats: { readonly before: Record<string, number>; readonly after: Record<string, number> };
  /** Extra evidence: rule counters, `ss` lines, table sizes. */
  readonly notes: string[];
}

export interface RunScenarioOptions {
  /** A lab that is up; without one, a lab is brought up and removed again (unless `keep`). */
  readonly lab?: Lab;
  readonly keep?: boolean;
  readonly onStep?: OnStep;
  /** Called after setup (knobs set, backends listening, conntrack capture running), before traffic. */
  readonly onReady?: (lab: Lab) => void | Promise<void>;
}

export interface RunOutput {
  readonly outcome: ScenarioResult['outcome'];
  readonly flow?: Flow;
  readonly idleMs?: number | undefined;
  readonly backendAfter?: string | undefined;
}

export interface ScenarioDef {
  readonly id: string;
  readonly fm: string;
  readonly title: string;
  /** INVALID DROP rule wanted (undefined: leave the lab's setting). */
  readonly dropInvalid?: boolean;
  readonly expected: { client: AppOutcome; server?: AppOutcome };
  /** Extra `conntrack -E` filters (the table-fill scenario keeps the capture to the client). */
  readonly ctFilter?: readonly string[];
  readonly settings: Record<string, Record<string, string | number>>;
  run(ctx: Ctx): Promise<RunOutput>;
}

/** Established timeout used by the expiry scenarios, and how long they idle (printed by `run`). */
export const EXPIRY_TIMEOUT_S = 5;
export const EXPIRY_IDLE_S = 7;
export const MBOX_IDLE_S = 2;
export const KEEPIDLE_MS = 3000;

export const VIP = `${ADDR.vip}:${ADDR.vipPort}`;
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const other = (be: BackendName): BackendName => (be === 'be1' ? 'be2' : 'be1');
export const beAddr = (be: BackendName | undefined) => (be ? `${BACKENDS[be].ip}:${ADDR.backendPort}` : undefined);

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
  async connect(opts: { keepAliveMs?: number } = {}): Promise<Flow> {
    const from = this.client.events.length;
    this.client.send({ cmd: 'connect', host: ADDR.vip, port: ADDR.vipPort, ...(opts.keepAliveMs === undefined ? {} : { keepAliveMs: opts.keepAliveMs }) });
    const ev = await this.client.waitFor((e) => e.ev === 'connected' || e.ev === 'error', 5000, from);
    if (!ev || ev.ev !== 'connected' || ev.conn === undefined) throw new Error(`client could not connect to ${VIP}: ${ev?.code ?? 'timeout'}`);
    const sport = Number(ev.local?.split(':')[1]);
    const tuple: FlowTuple = { src: ADDR.client, sport, dst: ADDR.vip, dport: ADDR.vipPort };
    const acceptedBy = await Promise.race(
      (['be1', 'be2'] as const).map((be) =>
        this.servers[be].waitFor((e) => e.ev === 'accept' && e.remote === `${ADDR.client}:${sport}`, 3000).then((e) => (e ? { be, e } : undefined)),
      ),
    );
    const found = acceptedBy ?? (await this.findAccept(sport));
    if (!found || found.e.conn === undefined) throw new Error('no backend accepted the connection');
    const flow: Flow = { conn: ev.conn, tuple, backend: found.be, serverConn: found.e.conn };
    this.mark('connected', ev.t);
    const echo = await this.echo(flow, 'hello');
    if (echo !== 'ok') throw new Error(`first echo failed: ${echo}`);
    this.step('connected', `Client connected: ${ADDR.client}:${sport} → ${VIP}, DNAT'd to ${found.be} ${beAddr(found.be)}`);
    return flow;
  }

  private async findAccept(sport: number): Promise<{ be: BackendName; e: AgentEvent } | undefined> {
    for (const be of ['be1', 'be2'] as const) {
      const e = this.servers[be].events.find((x) => x.ev === 'accept' && x.remote === `${ADDR.client}:${sport}`);
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
  async waitError(agent: AgentHandle, conn: number, timeoutMs: number, from = 0): Promise<AgentEvent | undefined> {
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
    return this.ct.events().filter((e) => e.orig?.src === ADDR.client && e.orig.sport === flow.tuple.sport);
  }
}

export interface Flow {
  readonly conn: number;
  readonly tuple: FlowTuple;
  readonly backend: BackendName;
  readonly serverConn: number;
}

export function codeOutcome(code: string | undefined): AppOutcome {
  if (code === 'ECONNRESET' || code === 'ETIMEDOUT' || code === 'EPIPE') return code;
  return `error:${code ?? 'unknown'}`;
}

/** The backend a conntrack pickup (`[NEW] … [UNREPLIED]`) sent the flow to, from its reply tuple. */
export function pickupBackend(events: readonly CtEvent[]): BackendName | undefined {
  const pickup = events.find((e) => e.type === 'NEW' && e.state === 'ESTABLISHED' && e.unreplied);
  return backendOf(pickup?.reply?.src);
}

export const T = EXPIRY_TIMEOUT_S;
export const nodeExpiry = (extra: Record<string, number> = {}) => ({
  [NS.node]: { 'net.netfilter.nf_conntrack_tcp_timeout_established': T, 'net.netfilter.nf_conntrack_tcp_loose': 1, ...extra },
});

/** Expiry then a client write, with the Service now pointing at the other backend. */
export async function expiryThenWrite(
  ctx: Ctx,
  opts: { keepAliveMs?: number; switchBackend: boolean; waitMs: number; idleMs?: number; why?: string; afterConnect?: (flow: Flow) => void },
) {
  const flow = await ctx.connect(opts.keepAliveMs === undefined ? {} : { keepAliveMs: opts.keepAliveMs });
  opts.afterConnect?.(flow);
  if (opts.switchBackend) {
    await ctx.lab.setEndpoints([other(flow.backend)]);
    ctx.step('endpoints', `Service endpoints switched to ${other(flow.backend)} only (stands in for the 50% re-pick)`);
  }
  const idleMs = opts.idleMs ?? EXPIRY_IDLE_S * 1000;
  ctx.mark('expiryExpected', Date.now() + T * 1000);
  await ctx.idle(idleMs, opts.why ?? `conntrack ESTABLISHED timeout ${T} s in ${NS.node}, expiry expected at +${T} s`);
  ctx.mark('actionAt');
  const from = ctx.client.events.length;
  const echo = await ctx.echo(flow, 'after-idle', opts.waitMs);
  if (echo !== 'ok') ctx.mark('failureObserved', ctx.client.events.slice(from).find((e) => e.ev === 'error')?.t ?? Date.now());
  ctx.step('after-idle', echo === 'ok' ? 'Data echoed after the idle period' : `Failure observed: ${echo}`);
  return { flow, echo, idleMs };
}

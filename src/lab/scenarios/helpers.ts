// Shared by the scenarios: the expiry timing, backend naming and the expiry-then-write sequence.
import type { CtEvent } from '../ct-events.js';
import { ADDR, type BackendName, backendOf, BACKENDS, NS } from '../topology.js';
import { ADDR6 } from '../topology-v6.js';
import type { Ctx } from './context.js';
import type { AppOutcome, Flow } from './types.js';

/** Established timeout used by the expiry scenarios, and how long they idle (printed by `run`). */
export const EXPIRY_TIMEOUT_S = 5;
export const EXPIRY_IDLE_S = 7;
export const VIP = `${ADDR.vip}:${ADDR.vipPort}`;
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const other = (be: BackendName): BackendName => (be === 'be1' ? 'be2' : 'be1');
export const beAddr = (be: BackendName | undefined, ipv6 = false) =>
  be === undefined
    ? undefined
    : ipv6
      ? `[${ADDR6[be]}]:${ADDR.backendPort}`
      : `${BACKENDS[be].ip}:${ADDR.backendPort}`;

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
  [NS.node]: {
    'net.netfilter.nf_conntrack_tcp_timeout_established': T,
    'net.netfilter.nf_conntrack_tcp_loose': 1,
    ...extra,
  },
});

/** Expiry then a client write, with the Service now pointing at the other backend. */
export async function expiryThenWrite(
  ctx: Ctx,
  opts: {
    keepAliveMs?: number;
    ipv6?: boolean;
    switchBackend: boolean;
    waitMs: number;
    idleMs?: number;
    why?: string;
    afterConnect?: (flow: Flow) => void;
  },
) {
  const flow = await ctx.connect({
    ...(opts.keepAliveMs === undefined ? {} : { keepAliveMs: opts.keepAliveMs }),
    ...(opts.ipv6 ? { ipv6: true } : {}),
  });
  opts.afterConnect?.(flow);
  if (opts.switchBackend) {
    await ctx.lab.setEndpoints([other(flow.backend)]);
    ctx.step(
      'endpoints',
      `Service endpoints switched to ${other(flow.backend)} only (stands in for the 50% re-pick)`,
    );
  }
  const idleMs = opts.idleMs ?? EXPIRY_IDLE_S * 1000;
  ctx.mark('expiryExpected', Date.now() + T * 1000);
  await ctx.idle(
    idleMs,
    opts.why ?? `conntrack ESTABLISHED timeout ${T} s in ${NS.node}, expiry expected at +${T} s`,
  );
  ctx.mark('actionAt');
  const from = ctx.client.events.length;
  const echo = await ctx.echo(flow, 'after-idle', opts.waitMs);
  if (echo !== 'ok')
    ctx.mark(
      'failureObserved',
      ctx.client.events.slice(from).find((e) => e.ev === 'error')?.t ?? Date.now(),
    );
  ctx.step(
    'after-idle',
    echo === 'ok' ? 'Data echoed after the idle period' : `Failure observed: ${echo}`,
  );
  return { flow, echo, idleMs };
}

// A flow whose conntrack entry expired is judged by the same race as a live one (expiredPath): the
// keepalive interval counts, not only keepidle against the timeout.
import { describe, expect, it } from 'vitest';
import { buildPathContext } from '../../src/analysis/path/context.js';
import { makeRuleContext, diedAtRisk, predictable } from '../../src/analysis/rule.js';
import { expiredPath, expiryFacts } from '../../src/analysis/rules/expiry-helpers.js';
import { T0, ct, ctSnapshot, obs, sock, ssSnapshot, tableOf } from '../helpers/builders.js';
import type { Observation } from '../../src/model/observation.js';

const ORIG = '10.0.0.1:5000>10.96.0.20:5432';
const REPLY = '10.0.0.7:5432>10.0.0.1:5000';

function world(intvl: number, destroyed: boolean): Observation[] {
  return [
    obs.sysctls(T0, {
      'net.netfilter.nf_conntrack_tcp_timeout_established': '600',
      'net.ipv4.tcp_keepalive_time': '60',
      'net.ipv4.tcp_keepalive_intvl': String(intvl),
      'net.ipv4.tcp_keepalive_probes': '9',
    }),
    ...ctSnapshot(T0, [ct(ORIG, REPLY, { timeout: 600 })]),
    ...ssSnapshot(T0, [
      sock('10.0.0.1:5000', '10.96.0.20:5432', {
        timer: { name: 'keepalive', remainingMs: 60_000, count: 0 },
        lastsndMs: 0,
        lastrcvMs: 0,
        lastackMs: 0,
      }),
    ]),
    ...(destroyed
      ? [
          obs.event(
            T0 + 650_000,
            { type: 'DESTROY', entry: ct(ORIG, REPLY, { timeout: null }) },
            '[1795407650.000000]\t[DESTROY] tcp      6 ESTABLISHED src=10.0.0.1 dst=10.96.0.20 sport=5000 dport=5432 src=10.0.0.7 dst=10.0.0.1 sport=5432 dport=5000 [ASSURED]',
          ),
        ]
      : []),
  ];
}

function judge(intvl: number, destroyed: boolean) {
  const t = tableOf(world(intvl, destroyed));
  const ctx = makeRuleContext(t, buildPathContext(t, {}));
  const f = [...t.flows()].find((x) => t.flowId(x) === `tcp ${ORIG}`)!;
  return { ctx, f };
}

describe('expiredPath', () => {
  it('is not safe when keepidle is below the timeout but keepintvl is above it', () => {
    const { ctx, f } = judge(700, true);
    const x = expiryFacts(ctx, f, 'ESTABLISHED');
    expect(x).toBeDefined();
    const p = expiredPath(ctx.pathOf(f), x!);
    // keepidle 60 < 600 made the old comparison call this safe; answered probes come every 700 s.
    expect(p.keepalive.idleSec).toBe(60);
    expect(p.safe).toBe(false);
    expect(diedAtRisk(p)).toBe(true);
  });
  it('is safe when the answered probes come inside the timeout', () => {
    const { ctx, f } = judge(60, true);
    const p = expiredPath(ctx.pathOf(f), expiryFacts(ctx, f, 'ESTABLISHED')!);
    expect(p.safe).toBe(true);
    expect(diedAtRisk(p)).toBe(false);
  });
  it('agrees with the live prediction of the same flow', () => {
    for (const intvl of [30, 60, 300, 599, 600, 700, 1200]) {
      const live = judge(intvl, false);
      const lp = live.ctx.pathOf(live.f);
      const dead = judge(intvl, true);
      const dp = expiredPath(
        dead.ctx.pathOf(dead.f),
        expiryFacts(dead.ctx, dead.f, 'ESTABLISHED')!,
      );
      expect({ intvl, safe: dp.safe }).toEqual({ intvl, safe: lp.safe });
      expect({ intvl, risk: diedAtRisk(dp) }).toEqual({ intvl, risk: predictable(lp) });
    }
  });
});

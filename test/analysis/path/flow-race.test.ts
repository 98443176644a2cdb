// Every prediction comes from the timer race (flowRace): no idle threshold, the keepalive interval
// counts, unknown keepalive says so, and socket idle comes from ss lastrcv/lastack.
import { describe, expect, it } from 'vitest';
import { buildPathContext } from '../../../src/analysis/path/context.js';
import { pathTimeouts } from '../../../src/analysis/path/path-timeouts.js';
import { NOT_AT_RISK, screenPath } from '../../../src/analysis/path/screen.js';
import { breaksIn, predictable } from '../../../src/analysis/rule.js';
import { diagnose } from '../../../src/engine/diagnose.js';
import type { Observation } from '../../../src/model/observation.js';
import { T0, ct, ctSnapshot, obs, sock, ssSnapshot, tableOf } from '../../helpers/builders.js';

const EST = 'net.netfilter.nf_conntrack_tcp_timeout_established';
const FLOW = 'tcp 10.0.0.1:5000>10.96.0.20:5432';
const entry = (timeout: number, state = 'ESTABLISHED') =>
  ct('10.0.0.1:5000>10.96.0.20:5432', '10.0.0.7:5432>10.0.0.1:5000', { timeout, state });
const tuple = {
  proto: 'tcp' as const,
  saddr: '10.0.0.1',
  sport: 5000,
  daddr: '10.96.0.20',
  dport: 5432,
};

function only(list: Observation[]) {
  const t = tableOf(list);
  const ctx = buildPathContext(t, {});
  const f = [...t.flows()].find((x) => x.ctPresent)!;
  return { t, ctx, f, p: pathTimeouts(ctx, f) };
}

describe('flowRace', () => {
  it('predicts a no-keepalive ESTABLISHED flow idle only 5 s under a 600 s timeout (no idle threshold)', () => {
    const list = [
      obs.sysctls(T0, { [EST]: '600' }),
      ...ctSnapshot(T0 + 10_000, [entry(595)]),
      ...ssSnapshot(
        T0 + 10_000,
        [
          sock('10.0.0.1:5000', '10.96.0.20:5432', {
            lastsndMs: 5000,
            lastrcvMs: 5000,
            lastackMs: 5000,
          }),
        ],
        'app',
      ),
    ];
    const { ctx, f, p } = only(list);
    expect(p.keepalive.state).toBe('off');
    expect(p.race?.result.verdict).toMatchObject({
      kind: 'at-risk',
      layer: 'conntrack',
      forgottenAfterIdleS: 600,
      inS: 595,
    });
    expect(predictable(p)).toBe(true);
    expect(screenPath(ctx, f)).toBe(595);
    const d = diagnose(tableOf(list));
    expect(d.predictions).toEqual([
      expect.objectContaining({
        flow: FLOW,
        layer: 'conntrack',
        timeoutSec: 600,
        idleSec: 5,
        breaksInSec: 595,
      }),
    ]);
    expect(d.predictions[0]?.cause).toBe(
      'conntrack forgets this flow after 600 s (10 min) idle unless it sends; idle 5 s so far; nothing refreshes it (keepalive off).',
    );
  });

  it('a keepalive whose interval is above the timeout is not safe: the second probe comes too late', () => {
    const list = [
      obs.sysctls(T0, { [EST]: '600' }),
      ...ctSnapshot(T0, [entry(600)]),
      obs.probe(T0, {
        kind: 'state',
        oldState: 'SYN_SENT',
        newState: 'ESTABLISHED',
        netns: 0,
        tuple,
        keepalive: { enabled: true, idleSec: 60, intervalSec: 700, probes: 3 },
      }),
      ...ctSnapshot(T0 + 10_000, [entry(590)]),
    ];
    const { ctx, f, p } = only(list);
    // Keepidle 60 s is far below 600 s, the test the old `safe` made; answered probes come every 700 s.
    expect(p.keepalive).toMatchObject({ state: 'on', idleSec: 60 });
    expect(p.safe).toBe(false);
    expect(p.race?.result.verdict).toMatchObject({ kind: 'breaks', layer: 'conntrack' });
    expect(p.race?.result.periods[0]?.periodS).toBe(700);
    expect(predictable(p)).toBe(true);
    // First probe at 50 s (idle 10 s), re-arming to 650 s; the next probe at 750 s is too late.
    expect(breaksIn(p)).toBe(650);
    expect(screenPath(ctx, f)).toBe(650);
  });

  it('the same keepalive with a 60 s interval is safe and not predicted', () => {
    const list = [
      obs.sysctls(T0, { [EST]: '600' }),
      ...ctSnapshot(T0, [entry(600)]),
      obs.probe(T0, {
        kind: 'state',
        oldState: 'SYN_SENT',
        newState: 'ESTABLISHED',
        netns: 0,
        tuple,
        keepalive: { enabled: true, idleSec: 60, intervalSec: 60, probes: 3 },
      }),
      ...ctSnapshot(T0 + 10_000, [entry(590)]),
    ];
    const { ctx, f, p } = only(list);
    expect(p.safe).toBe(true);
    expect(predictable(p)).toBe(false);
    expect(screenPath(ctx, f)).toBe(NOT_AT_RISK);
  });

  it('keeps flows with no socket read predictable, and says keepalive is unknown', () => {
    const list = [obs.sysctls(T0, { [EST]: '600' }), ...ctSnapshot(T0 + 10_000, [entry(575)])];
    const { p } = only(list);
    expect(p.keepalive.state).toBe('unknown');
    expect(p.idleSec).toBe(25);
    expect(predictable(p)).toBe(true);
    const d = diagnose(tableOf(list));
    expect(d.predictions[0]?.cause).toBe(
      'conntrack forgets this flow after 600 s (10 min) idle unless it sends; idle 25 s so far; keepalive unknown (no sockets read).',
    );
  });

  it('leaves a closed flow out by its state, not by its idle time', () => {
    const { p } = only([
      obs.sysctls(T0, { [EST]: '600' }),
      ...ctSnapshot(T0 + 10_000, [entry(100, 'TIME_WAIT')]),
    ]);
    expect(predictable(p)).toBe(false);
  });

  it("times the first probe from the socket's own ss lastrcv/lastack", () => {
    const list = [
      obs.sysctls(T0, { [EST]: '600', 'net.ipv4.tcp_keepalive_time': '300' }, undefined),
      obs.sysctls(
        T0,
        { 'net.ipv4.tcp_keepalive_time': '300', 'net.ipv4.tcp_keepalive_intvl': '30' },
        'app',
      ),
      ...ctSnapshot(T0 + 10_000, [entry(598)]),
      ...ssSnapshot(
        T0 + 10_000,
        [
          sock('10.0.0.1:5000', '10.96.0.20:5432', {
            timer: { name: 'keepalive', remainingMs: 200_000, count: 0 },
            lastsndMs: 2000,
            lastrcvMs: 100_000,
            lastackMs: 100_000,
          }),
        ],
        'app',
      ),
    ];
    const { p } = only(list);
    const s = p.race?.input.sockets[0];
    // The flow sent 2 s ago, but keepalive counts from the last receive: 100 s ago.
    expect(s).toMatchObject({
      side: 'client',
      keepalive: true,
      keepIdleS: { value: 300 },
      keepIntvlS: { value: 30 },
      idleS: { value: 100, source: 'ss lastrcv/lastack' },
    });
    expect(p.race?.result.refreshes[0]?.atS).toBe(200);
    expect(p.safe).toBe(true);
  });
});

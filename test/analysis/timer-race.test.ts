import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  answeredPeriodS,
  firstProbeS,
  raceTimers,
  whatIf,
  type RaceLayer,
  type RaceSocket,
} from '../../src/analysis/path/timer-race.js';

const s = (value: number, source = 'test') => ({ value, source });
const layer = (name: string, deadline: number, rearm: number): RaceLayer => ({
  name,
  deadlineS: s(deadline, 'conntrack -L'),
  rearmS: s(rearm, 'sysctl'),
});
const sock = (
  side: string,
  keepalive: boolean,
  idle: number,
  keepIdle = 7200,
  intvl = 75,
  probes = 9,
): RaceSocket => ({
  side,
  keepalive,
  idleS: s(idle, 'ss lastrcv'),
  keepIdleS: s(keepIdle),
  keepIntvlS: s(intvl),
  probes: s(probes),
});

describe('keepalive schedule (measured kernel rule)', () => {
  it('first probe when idle reaches keepidle, then every max(keepidle, keepintvl)', () => {
    expect(firstProbeS(sock('c', true, 25, 60, 10))).toBe(35);
    expect(answeredPeriodS(sock('c', true, 0, 2, 5))).toBe(5);
    expect(answeredPeriodS(sock('c', true, 0, 4, 1))).toBe(4);
  });
  it('idle past keepidle: unanswered probes every keepintvl', () => {
    expect(firstProbeS(sock('c', true, 63, 60, 10))).toBe(7);
    expect(firstProbeS(sock('c', true, 70, 60, 10))).toBe(0);
  });
});

describe('raceTimers', () => {
  it('no keepalive on either side: at risk, forgotten after the timeout idle', () => {
    const r = raceTimers({
      layers: [layer('cloud NAT', 575, 600), layer('conntrack', 86375, 86400)],
      sockets: [sock('client', false, 25), sock('server', false, 40)],
    });
    expect(r.verdict).toMatchObject({
      kind: 'at-risk',
      layer: 'cloud NAT',
      forgottenAfterIdleS: 600,
      idleS: 25,
      inS: 575,
    });
    expect(r.verdict.reason).toContain(
      'forgets it after 600 s idle unless it sends; idle 25 s so far',
    );
  });

  it('breaks when the first probe comes after a deadline (default keepalive 7200 s vs IPVS 900 s)', () => {
    const r = raceTimers({
      layers: [layer('IPVS', 880, 900)],
      sockets: [sock('client', true, 20)],
    });
    expect(r.verdict).toMatchObject({
      kind: 'breaks',
      layer: 'IPVS',
      inS: 880,
      lateRefreshS: 7180,
    });
    // The forgotten flow answers no probe: 9 probes 75 s apart, then the reset.
    expect(r.verdict.kind === 'breaks' && r.verdict.socketsGiveUp).toEqual([
      { side: 'client', inS: 7180 + 9 * 75 },
    ]);
  });

  it('safe when every refresh comes before every deadline', () => {
    const r = raceTimers({
      layers: [layer('IPVS', 880, 900), layer('conntrack', 86000, 86400)],
      sockets: [sock('client', true, 20, 300, 30)],
    });
    expect(r.verdict).toMatchObject({ kind: 'safe', longestGapS: 300 });
    expect(r.refreshes[0]).toEqual({ atS: 280, side: 'client' });
  });

  it('a probe interval equal to the timeout races it and is not safe', () => {
    const r = raceTimers({
      layers: [layer('NAT', 300, 300)],
      sockets: [sock('client', true, 0, 300, 75)],
    });
    expect(r.verdict.kind).toBe('breaks');
  });

  it('breaks on the steady gap when keepintvl exceeds the timeout', () => {
    const r = raceTimers({
      layers: [layer('NAT', 350, 350)],
      sockets: [sock('client', true, 0, 60, 400)],
    });
    expect(r.verdict).toMatchObject({ kind: 'breaks', inS: 60 + 350, lateRefreshS: 460 });
  });

  it('the earlier of two layers decides', () => {
    const r = raceTimers({
      layers: [layer('conntrack', 500, 86400), layer('IPVS', 100, 900)],
      sockets: [sock('c', true, 0, 200, 10)],
    });
    expect(r.verdict).toMatchObject({ kind: 'breaks', layer: 'IPVS', inS: 100 });
  });

  it('two sides whose probes only interleave are fragile, not safe', () => {
    const r = raceTimers({
      layers: [layer('NAT', 100, 100)],
      sockets: [sock('a', true, 0, 20, 120), sock('b', true, 0, 80, 120)],
    });
    expect(r.verdict.kind).toBe('fragile');
  });

  it('no layers: safe, nothing to race', () => {
    expect(raceTimers({ layers: [], sockets: [sock('c', false, 0)] }).verdict.kind).toBe('safe');
  });

  it('rejects bad numbers with a one-line error', () => {
    expect(() => raceTimers({ layers: [layer('x', -1, 10)], sockets: [] })).toThrow(/deadline -1/);
    expect(() =>
      raceTimers({ layers: [layer('x', 1, 10)], sockets: [sock('c', true, 0, 0, 1)] }),
    ).toThrow(/keepidle 0/);
    expect(() =>
      raceTimers({ layers: [], sockets: [sock('c', false, 0), sock('c', false, 1)] }),
    ).toThrow(/two sockets/);
  });
});

describe('whatIf', () => {
  const input = { layers: [layer('NAT', 340, 350)], sockets: [sock('client', true, 10, 60, 400)] };
  it('lowering keepalive time does not help when the interval is the problem', () => {
    expect(raceTimers(input).verdict.kind).toBe('breaks');
    expect(whatIf(input, { kind: 'socket', side: 'client', keepIdleS: 30 }).verdict.kind).toBe(
      'breaks',
    );
    expect(whatIf(input, { kind: 'socket', side: 'client', keepIntvlS: 30 }).verdict.kind).toBe(
      'safe',
    );
  });
  it('an interval equal to the timeout does not count as a fix', () => {
    expect(whatIf(input, { kind: 'socket', side: 'client', keepIntvlS: 350 }).verdict.kind).toBe(
      'breaks',
    );
  });
  it('a raised layer timeout leaves the held deadline until the next packet unless set on the entry', () => {
    const short = {
      layers: [layer('conntrack', 5, 10)],
      sockets: [sock('client', true, 0, 20, 20)],
    };
    expect(whatIf(short, { kind: 'layer', name: 'conntrack', rearmS: 100 }).verdict).toMatchObject({
      kind: 'breaks',
      inS: 5,
    });
    expect(
      whatIf(short, { kind: 'layer', name: 'conntrack', rearmS: 100, appliesToExisting: true })
        .verdict.kind,
    ).toBe('safe');
  });
  it('an unknown side or layer is an error', () => {
    expect(() => whatIf(input, { kind: 'socket', side: 'nope', keepIdleS: 1 })).toThrow(
      /no socket/,
    );
    expect(() => whatIf(input, { kind: 'layer', name: 'nope', rearmS: 1 })).toThrow(/no layer/);
  });
});

describe('properties', () => {
  const arbLayer = fc.record({
    d: fc.integer({ min: 0, max: 2000 }),
    r: fc.integer({ min: 1, max: 2000 }),
  });
  const arbSock = fc.record({
    ka: fc.boolean(),
    idle: fc.integer({ min: 0, max: 3000 }),
    i: fc.integer({ min: 1, max: 1500 }),
    v: fc.integer({ min: 1, max: 1500 }),
  });
  const build = (
    ls: { d: number; r: number }[],
    ss: { ka: boolean; idle: number; i: number; v: number }[],
  ) => ({
    layers: ls.map((l, k) => layer(`L${k}`, Math.min(l.d, l.r), l.r)),
    sockets: ss.map((x, k) => sock(`S${k}`, x.ka, x.idle, x.i, x.v)),
  });

  it('safe means no gap between consecutive refreshes reaches any layer timeout, and the first comes before every deadline', () => {
    fc.assert(
      fc.property(
        fc.array(arbLayer, { minLength: 1, maxLength: 3 }),
        fc.array(arbSock, { minLength: 1, maxLength: 2 }),
        (ls, ss) => {
          const input = build(ls, ss);
          const r = raceTimers(input);
          if (r.verdict.kind !== 'safe') return;
          const minRearm = Math.min(...input.layers.map((l) => l.rearmS.value));
          const minDeadline = Math.min(...input.layers.map((l) => l.deadlineS.value));
          expect(r.refreshes[0]!.atS).toBeLessThan(minDeadline);
          for (let k = 1; k < r.refreshes.length; k++)
            expect(r.refreshes[k]!.atS - r.refreshes[k - 1]!.atS).toBeLessThan(minRearm);
        },
      ),
    );
  });

  it('a break happens at a layer deadline no later than the refresh that came too late', () => {
    fc.assert(
      fc.property(
        fc.array(arbLayer, { minLength: 1, maxLength: 3 }),
        fc.array(arbSock, { minLength: 1, maxLength: 2 }),
        (ls, ss) => {
          const r = raceTimers(build(ls, ss));
          if (r.verdict.kind !== 'breaks') return;
          expect(r.verdict.inS).toBeGreaterThanOrEqual(0);
          expect(r.verdict.inS).toBeLessThanOrEqual(r.verdict.lateRefreshS!);
        },
      ),
    );
  });

  it('refreshes are in time order and without keepalive there are none', () => {
    fc.assert(
      fc.property(
        fc.array(arbLayer, { minLength: 1, maxLength: 3 }),
        fc.array(arbSock, { maxLength: 2 }),
        (ls, ss) => {
          const r = raceTimers(build(ls, ss));
          for (let k = 1; k < r.refreshes.length; k++)
            expect(r.refreshes[k]!.atS).toBeGreaterThanOrEqual(r.refreshes[k - 1]!.atS);
          if (!ss.some((x) => x.ka)) expect(r.verdict.kind).toBe('at-risk');
        },
      ),
    );
  });
  // Before the first probe only: once probes go out unanswered, the phase of the next one depends
  // on when the kernel armed the timer, which the model derives from keepintvl.
  it('with one socket before its first probe, a longer keepidle or keepintvl never turns a break into safe', () => {
    fc.assert(
      fc.property(
        fc.array(arbLayer, { minLength: 1, maxLength: 3 }),
        arbSock,
        fc.integer({ min: 0, max: 600 }),
        fc.boolean(),
        (ls, x, more, idle) => {
          fc.pre(x.idle < x.i);
          const input = build(ls, [{ ...x, ka: true }]);
          if (raceTimers(input).verdict.kind === 'safe') return;
          const change = idle ? { keepIdleS: x.i + more } : { keepIntvlS: x.v + more };
          expect(whatIf(input, { kind: 'socket', side: 'S0', ...change }).verdict.kind).not.toBe(
            'safe',
          );
        },
      ),
    );
  });
});

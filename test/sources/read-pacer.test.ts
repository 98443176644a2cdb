// Per-namespace reads share a rate: many pods cost the node a bounded number of spawns a second.
import { describe, expect, it } from 'vitest';
import {
  NAMESPACE_READS_PER_SECOND,
  pacedRoundMs,
  ReadPacer,
} from '../../src/sources/read-pacer.js';
import type { RawRecord } from '../../src/engine/raw-record.js';
import { SnapshotSource } from '../../src/sources/snapshot-source.js';

/** A pacer on a clock the test moves: waits are recorded and pass the clock forward. */
function fakePacer(perSecond: number): {
  pacer: ReadPacer;
  waits: number[];
  clock: { now: number };
} {
  const clock = { now: 0 };
  const waits: number[] = [];
  const pacer = new ReadPacer(
    perSecond,
    () => clock.now,
    async (ms) => {
      waits.push(ms);
    },
  );
  return { pacer, waits, clock };
}

describe('ReadPacer', () => {
  it('hands out turns 1/perSecond apart, first asked first served', async () => {
    const { pacer, waits } = fakePacer(5);
    const signal = new AbortController().signal;
    await Promise.all([pacer.turn(signal), pacer.turn(signal), pacer.turn(signal)]);
    // the first runs at once, the next two 200 and 400 ms later
    expect(waits).toEqual([200, 400]);
  });

  it('does not make a caller wait once the rate allows it', async () => {
    const { pacer, waits, clock } = fakePacer(5);
    const signal = new AbortController().signal;
    await pacer.turn(signal);
    clock.now = 150;
    await pacer.turn(signal); // slot at 200
    clock.now = 1000;
    await pacer.turn(signal);
    expect(waits).toEqual([50]);
  });

  it('refuses a rate that is not positive', () => {
    expect(() => new ReadPacer(0)).toThrow(/perSecond/);
  });

  it('lets an aborted session go at once (real timers)', async () => {
    const pacer = new ReadPacer(0.001); // one turn every 1000 s
    const ac = new AbortController();
    await pacer.turn(ac.signal);
    const waiting = pacer.turn(ac.signal);
    ac.abort();
    await expect(waiting).resolves.toBeUndefined();
  });
});

describe('pacedRoundMs (pure)', () => {
  it('is the interval itself while the rate suffices', () => {
    expect(pacedRoundMs(5, [{ count: 4, intervalMs: 2000 }])).toBe(2000);
    expect(pacedRoundMs(5, [])).toBe(0);
  });

  it('spreads 10 pods (sockets every 2 s, sysctls every 6 s) over 3 s at 5 reads a second', () => {
    // sockets 10 × 200 ms / 3 s + sysctls 10 × 200 ms / 6 s = 2/3 + 1/3 of the round
    const round = pacedRoundMs(5, [
      { count: 10, intervalMs: 2000 },
      { count: 10, intervalMs: 6000 },
    ]);
    expect(round).toBeGreaterThanOrEqual(3000);
    expect(round).toBeLessThanOrEqual(3001);
  });

  it('reads each of 110 pods once a round when every source asks within it', () => {
    const round = pacedRoundMs(NAMESPACE_READS_PER_SECOND, [
      { count: 110, intervalMs: 2000 },
      { count: 110, intervalMs: 6000 },
    ]);
    expect(round).toBeGreaterThanOrEqual(44_000);
    expect(round).toBeLessThanOrEqual(44_001);
  });
});

describe('SnapshotSource with a pacer', () => {
  it('reads only at its turn, the first run too', async () => {
    let release: () => void = () => undefined;
    const turns: number[] = [];
    const gate = {
      turn: () =>
        new Promise<void>((r) => {
          turns.push(turns.length);
          release = r;
        }),
    } as unknown as ReadPacer;
    let reads = 0;
    const src = new SnapshotSource({
      kind: 'test:paced',
      argv: ['x'],
      clock: () => 0,
      intervalMs: 1,
      pacer: gate,
      read: async () => {
        reads++;
        return { stdout: 'a\n', stderr: '', exitCode: 0 };
      },
    });
    const ac = new AbortController();
    const seen: RawRecord[] = [];
    const done = (async () => {
      for await (const r of src.records(ac.signal)) {
        seen.push(r);
        if (r.k === 'end' && seen.filter((x) => x.k === 'end').length === 2) ac.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 20));
    expect(turns.length).toBe(1);
    expect(reads).toBe(0);
    release();
    await new Promise((r) => setTimeout(r, 20));
    expect(reads).toBe(1);
    expect(turns.length).toBe(2); // asked again after its interval, and waits
    release();
    await done;
    expect(reads).toBe(2);
  });
});

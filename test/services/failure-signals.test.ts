import { describe, expect, it } from 'vitest';
import type { Observation } from '../../src/model/observation.js';
import type { RawRecord } from '../../src/engine/raw-record.js';
import { FailureSignals } from '../../src/services/failure-signals.js';
import { LiveSession } from '../../src/services/live-session.js';
import type { Source } from '../../src/sources/source.js';

const printf = (data: string): string => JSON.stringify({ type: 'printf', data: `${data}\n` });
const DROP = 'bpftrace:trace_skb_drop';
const DROP_HEADER = JSON.stringify({
  v: 1,
  probe: 'trace_skb_drop',
  dropReasons: { 12: 'NETFILTER_DROP' },
});
const DROP_LINE = printf(
  'drop.v1\t1\t12\tnf_hook_slow\t0\t4\t6\t10.0.0.2\t1\t10.0.0.1\t2\t2\t0\t0',
);

function stats(src: string, drop: number, earlyDrop = 0, insertFailed = 0): Observation {
  return {
    t: 1,
    src,
    kind: 'conntrack-stats',
    cpus: [
      { cpu: 0, counters: { found: 9, drop, early_drop: earlyDrop, insert_failed: insertFailed } },
      { cpu: 1, counters: { found: 3, drop: 0 } },
    ],
  };
}

function probe(kind: 'drop' | 'reset' | 'retransmit'): Observation {
  const tuple = { proto: 'tcp', saddr: '10.0.0.2', sport: 1, daddr: '10.0.0.1', dport: 2 } as const;
  return {
    t: 1,
    src: 'bpftrace:x',
    kind: 'probe',
    event: { kind, tsNs: 1, netns: 0, tuple } as never,
  } as Observation;
}

describe('FailureSignals', () => {
  it('takes probe drops and resets as news, retransmits and snapshots as not', () => {
    const s = new FailureSignals();
    expect(s.isNews(probe('drop'))).toBe(true);
    expect(s.isNews(probe('reset'))).toBe(true);
    expect(s.isNews(probe('retransmit'))).toBe(false);
    expect(s.isNews({ t: 1, src: 'sysctl:all', kind: 'sysctls', values: {} })).toBe(false);
  });

  it('takes a rise of conntrack drop, early_drop or insert_failed as news, per netns', () => {
    const s = new FailureSignals();
    // Counters gathered since boot are history, not news.
    expect(s.isNews(stats('conntrack:stats', 7))).toBe(false);
    expect(s.isNews(stats('conntrack:stats', 7))).toBe(false);
    expect(s.isNews(stats('conntrack:stats', 8))).toBe(true);
    expect(s.isNews(stats('conntrack:stats', 8, 1))).toBe(true);
    expect(s.isNews(stats('conntrack:stats', 8, 1, 1))).toBe(true);
    expect(s.isNews(stats('conntrack:stats', 8, 1, 1))).toBe(false);
    expect(s.isNews(stats('conntrack:stats@pod', 100))).toBe(false);
    expect(s.isNews(stats('conntrack:stats@pod', 101))).toBe(true);
  });
});

describe('LiveSession analysis after a failure signal', () => {
  function session(records: readonly RawRecord[]): { s: LiveSession; ticks: () => number } {
    const source: Source = {
      id: DROP,
      argv: [],
      async *records(signal) {
        for (const r of records) yield r;
        // Stays running, as bpftrace does, until the session stops.
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
      },
    };
    let n = 0;
    const s = new LiveSession({
      sources: [source],
      analysis: {},
      clock: () => Date.now(),
      analyzeEveryMs: 600_000,
    });
    s.subscribe(() => n++);
    return { s, ticks: () => n };
  }

  it('analyses soon after a probe drop, long before its 10-minute period', async () => {
    const { s, ticks } = session([
      { t: 1, src: DROP, k: 'begin', line: DROP_HEADER },
      { t: 2, src: DROP, line: DROP_LINE },
    ]);
    s.start();
    const t0 = Date.now();
    while (ticks() === 0 && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 20));
    const before = ticks();
    await s.stop();
    expect(before).toBeGreaterThan(0);
  });

  it('without a failure signal waits for its period', async () => {
    const { s, ticks } = session([{ t: 1, src: DROP, k: 'begin', line: DROP_HEADER }]);
    s.start();
    await new Promise((r) => setTimeout(r, 1500));
    const before = ticks();
    await s.stop();
    expect(before).toBe(0);
  });
});

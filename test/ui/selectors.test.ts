import { describe, expect, it } from 'vitest';
import type { Diagnosis, FlowView } from '../../src/model/diagnosis.js';
import {
  describeChange,
  flowOrderJob,
  indexFlows,
  normaliseSnapshot,
  radixOrder,
  selectFeedOrder,
  selectFindings,
  selectFlowOrder,
  suggestionsFor,
  flowHaystack,
} from '../../src/ui/state/selectors.js';
import { TEST_DIAGNOSIS, TEST_SUGGESTIONS, testSnapshot } from '../helpers/ui-test-data.js';

const ids = (d: Diagnosis, order: Uint32Array) => Array.from(order, (i) => d.flows[i]!.id);

describe('normaliseSnapshot', () => {
  it('fills every missing field of a malformed snapshot', () => {
    const s = normaliseSnapshot({ diagnosis: { flows: 'nope' }, feed: null, paused: 'yes' });
    expect(s).toMatchObject({
      mode: 'live',
      feed: [],
      sources: [],
      missing: [],
      applied: [],
      paused: false,
    });
    expect(s.diagnosis.flows).toEqual([]);
    expect(Number.isNaN(s.issues)).toBe(true);
    expect(normaliseSnapshot(undefined).diagnosis.findings).toEqual([]);
  });

  it('keeps the diagnosis identity of a well-formed snapshot (memoisation depends on it)', () => {
    const snap = testSnapshot();
    expect(normaliseSnapshot(snap).diagnosis).toBe(snap.diagnosis);
  });
});

describe('flow order', () => {
  it('sorts by time to break with safe flows last, by idle (most idle first), and by flow id', () => {
    const index = indexFlows(TEST_DIAGNOSIS);
    const ttb = ids(TEST_DIAGNOSIS, selectFlowOrder(index, 'time-to-break', ''));
    expect(ttb[0]).toContain('2001:db8::5');
    expect(ttb[3]).toContain('192.0.2.12'); // keepalive-safe flow
    const idle = ids(TEST_DIAGNOSIS, selectFlowOrder(index, 'idle', ''));
    expect(idle[0]).toContain('2001:db8::5');
    expect(idle[3]).toContain('192.0.2.12');
    const byId = ids(TEST_DIAGNOSIS, selectFlowOrder(index, 'flow', ''));
    expect(byId).toEqual([...byId].sort());
    expect(index.atRisk).toBe(3);
  });

  it('filters by pod, port, address and rule', () => {
    const index = indexFlows(TEST_DIAGNOSIS);
    expect(selectFlowOrder(index, 'time-to-break', 'api-7d9f-1')).toHaveLength(1);
    expect(selectFlowOrder(index, 'time-to-break', ':40002')).toHaveLength(1);
    expect(selectFlowOrder(index, 'time-to-break', 'PSQL')).toHaveLength(1);
    expect(selectFlowOrder(index, 'time-to-break', 'conntrack.established')).toHaveLength(1);
    expect(selectFlowOrder(index, 'time-to-break', 'path.idle')).toHaveLength(2);
    expect(selectFlowOrder(index, 'time-to-break', 'no-such-thing')).toHaveLength(0);
  });

  it('uses predictions when no layer says when the flow breaks', () => {
    const flows: FlowView[] = [
      { ...TEST_DIAGNOSIS.flows[0]!, id: 'a', firstToForget: undefined },
      { ...TEST_DIAGNOSIS.flows[0]!, id: 'b', firstToForget: undefined },
    ];
    const d: Diagnosis = {
      ...TEST_DIAGNOSIS,
      flows,
      findings: [],
      predictions: [
        {
          flow: 'b',
          layer: 'conntrack',
          timeoutSec: 600,
          idleSec: 590,
          breaksInSec: 10,
          breaksAt: 0,
          cause: '',
        },
      ],
    };
    const index = indexFlows(d);
    expect(ids(d, selectFlowOrder(index, 'time-to-break', ''))).toEqual(['b', 'a']);
  });

  it('never throws on flows with missing or non-finite fields', () => {
    const bad = [
      null,
      {},
      { id: 'x', layers: 'no', idleSec: Number.NaN, firstToForget: 'conntrack' },
      {
        id: 'y',
        layers: [{ layer: 'conntrack', leftSec: Number.POSITIVE_INFINITY }],
        firstToForget: 'conntrack',
        idleSec: -5,
      },
    ] as unknown as FlowView[];
    const d = { ...TEST_DIAGNOSIS, flows: bad };
    const index = indexFlows(d);
    for (const sort of ['time-to-break', 'idle', 'flow'] as const)
      expect(selectFlowOrder(index, sort, '')).toHaveLength(4);
    expect(selectFlowOrder(index, 'idle', 'x')).toHaveLength(1);
    expect(flowHaystack(null as unknown as FlowView)).toBe('');
  });

  it('gives the same order in time slices as at once', () => {
    const flows = Array.from({ length: 5000 }, (_, i) => ({
      ...TEST_DIAGNOSIS.flows[0]!,
      id: `f${i}`,
      layers: [{ layer: 'path' as const, timeoutSec: 1, source: '', leftSec: (i * 7919) % 70_000 }],
    }));
    const d = { ...TEST_DIAGNOSIS, flows, findings: [] };
    const index = indexFlows(d);
    const job = flowOrderJob(index, 'time-to-break', '', flowHaystack, 512);
    let r = job.next();
    let steps = 0;
    while (!r.done) {
      steps++;
      r = job.next();
    }
    expect(steps).toBeGreaterThan(5);
    expect(Array.from(r.value)).toEqual(Array.from(selectFlowOrder(index, 'time-to-break', '')));
  });
});

describe('radixOrder', () => {
  it('sorts stably by uint32 keys, over one or two 16-bit digits', () => {
    for (const max of [1000, 2 ** 32 - 1]) {
      const keys = Uint32Array.from({ length: 3000 }, (_, i) => (i * 2_654_435_761) % max);
      const idx = Uint32Array.from({ length: 3000 }, (_, i) => i);
      const expected = Array.from(idx).sort((a, b) => keys[a]! - keys[b]! || a - b);
      expect(Array.from(radixOrder(keys, idx))).toEqual(expected);
    }
  });
});

describe('feed, findings and suggestions', () => {
  it('lists the feed newest first and filters it', () => {
    const feed = testSnapshot().feed;
    expect(Array.from(selectFeedOrder(feed, ''))).toEqual([2, 1, 0]);
    expect(Array.from(selectFeedOrder(feed, 'rst'))).toEqual([1]);
  });

  it('orders findings by severity then time, and filters by rule', () => {
    expect(selectFindings(TEST_DIAGNOSIS.findings, '').map((f) => f.fm)).toEqual(['FM-3', 'FM-1']);
    expect(selectFindings(TEST_DIAGNOSIS.findings, 'conntrack.').map((f) => f.fm)).toEqual([
      'FM-1',
    ]);
  });

  it('resolves suggestion ids by rank and skips unknown ones', () => {
    expect(
      suggestionsFor(
        ['node-conntrack-established', 'missing', 'pod-keepalive-time'],
        TEST_SUGGESTIONS,
      ).map((s) => s.id),
    ).toEqual(['pod-keepalive-time', 'node-conntrack-established']);
  });

  it('describes a live change exactly', () => {
    expect(describeChange(TEST_SUGGESTIONS[1])).toEqual([
      'sysctl -w net.netfilter.nf_conntrack_tcp_timeout_established=86400',
    ]);
    expect(
      describeChange({
        ...TEST_SUGGESTIONS[1]!,
        change: { kind: 'sysctl', key: 'k', value: '1', netns: 'cni-1' },
      }),
    ).toEqual(['ip netns exec cni-1 sysctl -w k=1']);
    expect(
      describeChange({
        ...TEST_SUGGESTIONS[1]!,
        change: { kind: 'ipvs-timeout', tcp: 7200, tcpfin: 120, udp: 300 },
      }),
    ).toEqual(['ipvsadm --set 7200 120 300']);
    expect(describeChange(TEST_SUGGESTIONS[0])).toEqual([]);
  });
});

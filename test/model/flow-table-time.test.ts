// Probe events reach kdiag in batches: their kernel time, not the arrival time, orders the timeline.
import { describe, expect, it } from 'vitest';
import type { ProbeEvent } from '../../src/model/probe-event.js';
import { T0, ct, obs, tableOf } from '../helpers/builders.js';

const drop = (tsNs: number): ProbeEvent => ({
  kind: 'drop',
  reason: 'NETFILTER_DROP',
  location: 'nft_do_chain',
  netns: 0,
  tsNs,
  tuple: { proto: 'tcp', saddr: '10.0.0.1', sport: 40000, daddr: '10.96.0.10', dport: 80 },
});

describe('FlowTable probe times', () => {
  it('places a late-delivered probe event at its kernel time, in order with conntrack events', () => {
    const K = 5_000_000_000; // kernel ns at T0
    const t = tableOf([
      obs.entry(T0, ct('10.0.0.1:40000>10.96.0.10:80', '10.0.0.2:8080>10.0.0.1:40000')),
      obs.probe(T0 + 10, drop(K + 10e6)), // delivered promptly: calibrates the offset
      obs.event(T0 + 3000, {
        type: 'UPDATE',
        entry: ct('10.0.0.1:40000>10.96.0.10:80', '10.0.0.2:8080>10.0.0.1:40000', {
          state: 'FIN_WAIT',
          timeout: 120,
        }),
      }),
      obs.probe(T0 + 4000, drop(K + 2000e6)), // happened at T0+2000, delivered 2 s late
    ]);
    const f = [...t.flows()][0];
    expect(f?.timeline?.map((i) => [i.kind, i.t - T0])).toEqual([
      ['drop', 10],
      ['drop', 2000],
      ['ct-update', 3000],
    ]);
  });

  it('never moves an event later than it arrived, nor more than 10 s earlier', () => {
    const t = tableOf([
      obs.entry(T0, ct('10.0.0.1:40000>10.96.0.10:80', '10.0.0.2:8080>10.0.0.1:40000')),
      obs.probe(T0 + 10, drop(1e6)),
      obs.probe(T0 + 20, drop(999_999e6)),
    ]);
    const f = [...t.flows()][0];
    expect(f?.timeline?.map((i) => i.t - T0)).toEqual([10, 20]);
  });
});

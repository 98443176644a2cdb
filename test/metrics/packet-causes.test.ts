import { describe, expect, it } from 'vitest';
import type { Diagnosis, Finding } from '../../src/model/diagnosis.js';
import { CITE_WAIT_MS, PacketCauses, UNEXPLAINED } from '../../src/metrics/packet-causes.js';

const FLOW = 'tcp 10.0.0.1:4000>10.96.0.1:80';

function finding(
  rule: string,
  severity: Finding['severity'],
  flows: string[],
  cites: { t: number; src: string }[] = [],
): Finding {
  return {
    id: `${rule}:x`,
    rule,
    fm: 'FM-1',
    severity,
    confidence: 'certain',
    title: '',
    cause: '',
    flows,
    evidence: cites.map((c) => ({ ...c, text: 'RST' })),
    suggestions: [],
    t: 0,
  };
}
function diag(at: number, findings: Finding[]): Diagnosis {
  return { at, findings, predictions: [], suggestions: [], flows: [] };
}

describe('PacketCauses', () => {
  it('waits for a finding, takes the most severe naming the flow once none cites it, counts once', () => {
    const c = new PacketCauses(30_000);
    c.note({ t: 1000, kind: 'reset', text: 'RST', flow: FLOW, src: 'bpftrace:trace_tcp_reset' });
    c.note({ t: 1000, kind: 'retransmit', text: 'x', flow: FLOW, src: 's' });
    c.settle(diag(2000, []));
    expect(c.snapshot()).toEqual([]);
    expect(c.waiting).toBe(1);
    const both = [finding('a.info', 'info', [FLOW]), finding('b.crit', 'critical', [FLOW])];
    // Within CITE_WAIT_MS a finding that only names the flow may be older than the event.
    c.settle(diag(3000, both));
    expect(c.waiting).toBe(1);
    c.settle(diag(1000 + CITE_WAIT_MS + 1, both));
    c.settle(diag(20_000, [finding('a.info', 'info', [FLOW])]));
    expect(c.snapshot()).toEqual([{ kind: 'reset', rule: 'b.crit', fm: 'FM-1', count: 1 }]);
  });

  it('takes the finding that cites the event over a more severe one naming the flow', () => {
    const c = new PacketCauses(30_000);
    const src = 'bpftrace:trace_tcp_reset';
    // The backend's reset names another tuple (client → backend) than the flow the finding names.
    c.note({ t: 5000, kind: 'reset', text: 'RST', flow: FLOW, src });
    c.note({ t: 5001, kind: 'reset', text: 'RST', flow: 'tcp 10.0.0.1:4000>10.1.0.9:8080', src });
    const predicted = finding('c.predicted', 'critical', [FLOW]);
    const expired = finding(
      'd.expired',
      'warning',
      [FLOW],
      [
        { t: 5000, src },
        { t: 5001, src },
      ],
    );
    c.settle(diag(5500, [predicted]));
    expect(c.snapshot()).toEqual([]);
    c.settle(diag(6000, [predicted, expired]));
    expect(c.snapshot()).toEqual([{ kind: 'reset', rule: 'd.expired', fm: 'FM-1', count: 2 }]);
    expect(c.waiting).toBe(0);
  });

  it('counts as unexplained past the grace, without a flow, and past the pending bound', () => {
    const c = new PacketCauses(30_000, 2);
    c.note({ t: 0, kind: 'drop', text: 'drop', flow: FLOW, src: 's' });
    c.note({ t: 0, kind: 'drop', text: 'drop', src: 's' });
    c.note({ t: 0, kind: 'drop', text: 'drop', flow: 'b', src: 's' });
    c.note({ t: 0, kind: 'drop', text: 'drop', flow: 'c', src: 's' });
    expect(c.snapshot()).toEqual([{ kind: 'drop', rule: UNEXPLAINED, fm: 'none', count: 2 }]);
    c.settle(diag(30_001, []));
    expect(c.snapshot()).toEqual([{ kind: 'drop', rule: UNEXPLAINED, fm: 'none', count: 4 }]);
  });
});

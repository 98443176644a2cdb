import { describe, expect, it } from 'vitest';
import type { Diagnosis, Finding } from '../../src/model/diagnosis.js';
import { PacketCauses, UNEXPLAINED } from '../../src/metrics/packet-causes.js';

const FLOW = 'tcp 10.0.0.1:4000>10.96.0.1:80';

function finding(rule: string, severity: Finding['severity'], flows: string[]): Finding {
  return {
    id: `${rule}:x`,
    rule,
    fm: 'FM-1',
    severity,
    confidence: 'certain',
    title: '',
    cause: '',
    flows,
    evidence: [],
    suggestions: [],
    t: 0,
  };
}
function diag(at: number, findings: Finding[]): Diagnosis {
  return { at, findings, predictions: [], suggestions: [], flows: [] };
}

describe('PacketCauses', () => {
  it('waits for a finding, takes the most severe, and counts once', () => {
    const c = new PacketCauses(30_000);
    c.note({ t: 1000, kind: 'reset', text: 'RST', flow: FLOW, src: 'bpftrace:trace_tcp_reset' });
    c.note({ t: 1000, kind: 'retransmit', text: 'x', flow: FLOW, src: 's' });
    c.settle(diag(2000, []));
    expect(c.snapshot()).toEqual([]);
    expect(c.waiting).toBe(1);
    c.settle(
      diag(3000, [finding('a.info', 'info', [FLOW]), finding('b.crit', 'critical', [FLOW])]),
    );
    c.settle(diag(4000, [finding('a.info', 'info', [FLOW])]));
    expect(c.snapshot()).toEqual([{ kind: 'reset', rule: 'b.crit', fm: 'FM-1', count: 1 }]);
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

import { describe, expect, it } from 'vitest';
import { tracePresenter } from '../../src/cli/output/trace-output.js';
import { TEST_DIAGNOSIS } from '../helpers/ui-test-data.js';

function capture(json: boolean) {
  const out: string[] = [];
  const notes: string[] = [];
  return {
    out,
    notes,
    p: tracePresenter(
      json,
      (s) => out.push(s),
      (s) => notes.push(s),
    ),
  };
}

describe('trace output', () => {
  const d = TEST_DIAGNOSIS;
  const f = d.findings[0]!;

  it('prints a finding as text within 80 columns, with its fixes', () => {
    const { out, p } = capture(false);
    p.finding(f, d, false);
    const lines = out.join('').trimEnd().split('\n');
    expect(lines[0]).toContain(`FINDING ${f.severity} ${f.fm}`);
    expect(lines.every((l) => l.length <= 80)).toBe(true);
    for (const id of f.suggestions) expect(out.join('')).toContain(id);
  });

  it('prints one JSON object per change, and info items as status', () => {
    const { out, notes, p } = capture(true);
    p.finding(f, d, false);
    p.event({ t: 5, kind: 'info', text: 'lost', src: 'conntrack:events' });
    p.event({ t: 6, kind: 'reset', text: 'RST', flow: 'x', src: 's' });
    p.summary({ findings: 2, shown: 1, predictions: 0, issues: 3, sources: [] }, 9);
    const objs = out.map((l) => JSON.parse(l) as { type: string });
    expect(objs.map((o) => o.type)).toEqual(['finding', 'status', 'event', 'summary']);
    expect(objs[0]).toMatchObject({
      finding: { id: f.id },
      suggestions: d.suggestions.filter((s) => f.suggestions.includes(s.id)),
    });
    expect(objs[3]).toEqual({
      type: 'summary',
      t: 9,
      findings: 2,
      predictions: 0,
      issues: 3,
      sources: [],
    });
    expect(notes).toEqual([]);
  });

  it('sends notes and the summary to progress as text', () => {
    const { out, notes, p } = capture(false);
    p.note('IPVS not loaded', 1);
    p.summary(
      {
        findings: 2,
        shown: 1,
        predictions: 4,
        issues: 0,
        sources: [],
        recording: { path: 'r.ndjson', records: 7 },
      },
      9,
    );
    expect(out).toEqual([]);
    expect(notes).toEqual([
      'note: IPVS not loaded',
      'Stopped: 1 finding(s), 4 flow(s) at risk, 0 parse issue(s); recorded 7 records to r.ndjson.',
    ]);
  });
});

describe('trace --json finding lines on a big diagnosis', () => {
  it('carry each suggestion as it concerns that finding: its id in fixes, its flows in the check', () => {
    const d = TEST_DIAGNOSIS;
    const f = {
      ...d.findings[0]!,
      id: 'rule:one',
      flows: ['tcp a>b', 'tcp c>d'],
      suggestions: ['s1'],
    };
    const others = Array.from({ length: 500 }, (_, i) => `rule:other-${i}`);
    const many = Array.from({ length: 5000 }, (_, i) => `tcp x${i}>y`);
    const s1 = {
      ...d.suggestions[0]!,
      id: 's1',
      fixes: [f.id, ...others],
      checked: {
        targets: many.length + 2,
        saves: ['tcp a>b', ...many],
        savesLater: 0,
        atRisk: [{ flow: 'tcp c>d', reason: 'no keepalive' }],
      },
    };
    const out: string[] = [];
    tracePresenter(
      true,
      (s) => out.push(s),
      () => undefined,
    ).finding(f, { ...d, findings: [f], suggestions: [s1] }, false);
    const line = JSON.parse(out[0]!) as { suggestions: (typeof s1)[] };
    expect(line.suggestions[0]!.fixes).toEqual([f.id]);
    expect(line.suggestions[0]!.checked).toEqual({
      targets: many.length + 2,
      saves: ['tcp a>b'],
      savesLater: 0,
      atRisk: [{ flow: 'tcp c>d', reason: 'no keepalive' }],
    });
    expect(out[0]!.length).toBeLessThan(20_000);
  });
});

// Past the cap of at-risk flows kept (10 000 by default, lowered here through analyze's maxAtRisk),
// --json says how many flows are at risk and how many were left out, and the text says so too.
import { describe, expect, it } from 'vitest';
import { analysisToJson } from '../../src/cli/output/report-json.js';
import { renderPredictions } from '../../src/cli/output/report-text.js';
import { diagnose } from '../../src/engine/diagnose.js';
import type { AnalysisResult } from '../../src/services/analyze-input.js';
import { T0, ct, ctSnapshot, obs, tableOf } from '../helpers/builders.js';

function flows(n: number) {
  const ports = Array.from({ length: n }, (_, i) => 40000 + i);
  return tableOf([
    obs.sysctls(T0, { 'net.netfilter.nf_conntrack_tcp_timeout_established': '600' }),
    ...ctSnapshot(
      T0,
      ports.map((p, i) =>
        ct(`10.0.0.1:${p}>10.96.0.20:5432`, `10.0.0.7:5432>10.0.0.1:${p}`, { timeout: 100 + i }),
      ),
    ),
  ]);
}

const json = (d: ReturnType<typeof diagnose>) =>
  analysisToJson({ diagnosis: d, input: {} } as unknown as AnalysisResult) as Record<
    string,
    unknown
  >;

describe('the at-risk count', () => {
  it('counts every at-risk flow and the ones left out past the cap', () => {
    const d = diagnose(flows(30), { maxAtRisk: 12 });
    expect(d.predictions).toHaveLength(12);
    expect(d.atRiskTotal).toBe(30);
    // The most urgent are kept: the 12 smallest timers.
    expect(Math.max(...d.predictions.map((p) => p.breaksInSec))).toBe(111);
    const j = json(d);
    expect(j.atRiskTotal).toBe(30);
    expect(j.atRiskLeftOut).toBe(18);
    const text = renderPredictions(d, 80).join('\n');
    expect(text).toContain('At risk, next to break (30)');
    expect(text).toContain('… 18 more not shown: kdiag keeps the 12 most urgent');
  });
  it('leaves nothing out under the cap', () => {
    const d = diagnose(flows(5), { maxAtRisk: 12 });
    expect(d.atRiskTotal).toBe(5);
    const j = json(d);
    expect([j.atRiskTotal, j.atRiskLeftOut]).toEqual([5, 0]);
    expect(renderPredictions(d, 80).join('\n')).not.toContain('not shown');
  });
});

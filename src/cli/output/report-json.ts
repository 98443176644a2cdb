// The JSON form of an analysis: stable keys for scripts; flows limited to those that matter.
import type { Diagnosis } from '../../model/diagnosis.js';
import type { AnalysisResult } from '../../services/analyze-input.js';

/** Every live flow at risk, listed in the predictions or left out of them. */
export function atRiskTotal(d: Pick<Diagnosis, 'predictions' | 'atRiskTotal'>): number {
  return Math.max(d.atRiskTotal ?? 0, d.predictions.length);
}

/** Flows named by a finding or prediction, or at risk, are included; the rest are counted. */
export function analysisToJson(r: AnalysisResult, opts: { allFlows?: boolean } = {}): unknown {
  const d = r.diagnosis;
  const named = new Set<string>([
    ...d.findings.flatMap((f) => f.flows),
    ...d.predictions.map((p) => p.flow),
  ]);
  const flows = opts.allFlows
    ? d.flows
    : d.flows.filter((f) => named.has(f.id) || f.firstToForget !== undefined);
  return {
    kdiag: 'analysis',
    input: {
      kind: r.input.kind,
      path: r.input.path,
      header: r.input.header,
      bundle: r.input.bundle,
      archive: r.input.archive,
      ticket: r.input.ticket,
    },
    nothingRead: r.nothingRead,
    inputs: r.inputs,
    missing: r.missing,
    records: r.records,
    issueCount: r.issueCount,
    issues: r.issues,
    notices: r.notices,
    sources: r.sources,
    summary: r.summary,
    at: d.at,
    findings: d.findings,
    predictions: d.predictions,
    // A script knows the list was cut when atRiskLeftOut > 0.
    atRiskTotal: atRiskTotal(d),
    atRiskLeftOut: atRiskTotal(d) - d.predictions.length,
    suggestions: d.suggestions,
    flowCount: d.flows.length,
    flows,
  };
}

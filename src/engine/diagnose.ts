// Analysis, then suggestions: FlowTable → Diagnosis. The one place the two meet, so analysis/ never
// reads suggest/.
import { analyze, compareFindings, type AnalyzeOptions } from '../analysis/analyze.js';
import type { Diagnosis, Finding } from '../model/diagnosis.js';
import type { FlowTable } from '../model/flow-table.js';
import { buildSuggestions } from '../suggest/suggest.js';

/** The diagnosis of a table: findings with the suggestions that fix them, predictions, flows. */
export function diagnose(table: FlowTable, opts: AnalyzeOptions = {}): Diagnosis {
  const a = analyze(table, opts);
  // Suggestions are built in rule order: where findings ask different values, the order decides.
  const { suggestions, byFinding, unfixed } = buildSuggestions(
    a.drafts.map((d) => ({ findingId: d.finding.id, needs: d.needs, flows: d.finding.flows })),
    a.path,
  );
  const findings: Finding[] = a.drafts
    .map((d) => {
      const noFix = unfixed.get(d.finding.id);
      return {
        ...d.finding,
        suggestions: byFinding.get(d.finding.id) ?? [],
        ...(noFix ? { noFix } : {}),
      };
    })
    .sort(compareFindings);
  return {
    at: a.at,
    findings,
    predictions: a.predictions,
    atRiskTotal: a.atRiskTotal,
    suggestions,
    flows: a.flows,
  };
}

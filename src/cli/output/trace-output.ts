// What `kdiag trace` prints: one block of text (80 columns) or one NDJSON object per change.
import { printable } from '../../model/printable.js';
import type {
  Diagnosis,
  Finding,
  FlowView,
  Prediction,
  Suggestion,
  SuggestionCheck,
} from '../../model/diagnosis.js';
import type { FeedItem, SourceHealth } from '../../model/session.js';
import type { TracePresenter, TraceSummary } from '../../services/trace-command.js';
import { fmtDuration, fmtTime, wrap } from './text-layout.js';

function flowText(f: FlowView | undefined, id: string): string {
  if (!f) return id;
  return `${f.proto} ${f.client.addr}:${f.client.port} > ${f.target.addr}:${f.target.port}${f.backend ? ` -> ${f.backend.addr}:${f.backend.port}` : ''}`;
}

// A finding can name 100,000 flows: looking each up by a scan of d.flows made emitting it quadratic
// (most of trace's CPU on a 100,000-entry table). One index per diagnosis instead.
const viewIndex = new WeakMap<Diagnosis, Map<string, FlowView>>();

// A suggestion lists every finding it fixes and every flow its race check targets (thousands of
// findings, 100,000 flows on a big table), and trace repeats the suggestions on each finding's line:
// that was gigabytes a minute. Each line carries the suggestion as it concerns that finding only.
const checkIndex = new WeakMap<
  SuggestionCheck,
  { saves: Set<string>; atRisk: Map<string, SuggestionCheck['atRisk'][number]> }
>();

/** `s` as a finding's line shows it: its fixes and race check narrowed to that finding. */
function forFinding(s: Suggestion, f: Finding): Suggestion {
  const c = s.checked;
  const fixes = s.fixes.length > 1 ? [f.id] : s.fixes;
  if (!c) return { ...s, fixes };
  let ix = checkIndex.get(c);
  if (!ix) {
    ix = { saves: new Set(c.saves), atRisk: new Map(c.atRisk.map((r) => [r.flow, r])) };
    checkIndex.set(c, ix);
  }
  const own = ix;
  const saves = f.flows.filter((id) => own.saves.has(id));
  const atRisk = f.flows.flatMap((id) => {
    const r = own.atRisk.get(id);
    return r ? [r] : [];
  });
  return { ...s, fixes, checked: { ...c, saves, atRisk } };
}

function viewOf(d: Diagnosis, id: string): FlowView | undefined {
  let byId = viewIndex.get(d);
  if (!byId) {
    byId = new Map(d.flows.map((f) => [f.id, f]));
    viewIndex.set(d, byId);
  }
  return byId.get(id);
}

function findingText(f: Finding, d: Diagnosis, update: boolean): string[] {
  const out = wrap(
    `${fmtTime(f.t)} FINDING${update ? ' UPDATED' : ''} ${f.severity} ${f.fm} ${f.title}`,
    80,
    13,
    0,
  );
  for (const id of f.flows.slice(0, 3)) out.push(...wrap(flowText(viewOf(d, id), id), 80, 15, 13));
  out.push(...wrap(f.cause, 80, 13, 13));
  // Only changes kdiag can make live are offered as `kdiag apply`; the rest are named for kdiag check.
  const byId = new Map(d.suggestions.map((s) => [s.id, s]));
  const live = f.suggestions.filter((id) => byId.get(id)?.change);
  const other = f.suggestions.filter((id) => !byId.get(id)?.change);
  if (live.length)
    out.push(...wrap(`fix: ${live.map((id) => `kdiag apply ${id}`).join(' | ')}`, 80, 15, 13));
  if (other.length)
    out.push(...wrap(`also: ${other.join(', ')} (kdiag check shows the commands)`, 80, 15, 13));
  if (f.suggestions.length === 0 && f.noFix) out.push(...wrap(`no fix: ${f.noFix}`, 80, 15, 13));
  return out;
}

function predictionText(p: Prediction, d: Diagnosis, now: number): string[] {
  const when = p.breaksInSec <= 0 ? 'now' : `in ${fmtDuration(p.breaksInSec)}`;
  return wrap(
    `${fmtTime(now)} AT RISK ${when} (${p.layer}) ${flowText(viewOf(d, p.flow), p.flow)}: ${p.cause}`,
    80,
    13,
    0,
  );
}

function withdrawnText(f: Finding, d: Diagnosis): string[] {
  const out = wrap(`${fmtTime(d.at)} WITHDRAWN ${f.fm} ${f.title}`, 80, 13, 0);
  for (const id of f.flows.slice(0, 3)) out.push(...wrap(flowText(viewOf(d, id), id), 80, 15, 13));
  out.push(...wrap('later evidence no longer supports this finding', 80, 13, 13));
  return out;
}

function eventText(e: FeedItem): string[] {
  return wrap(`${fmtTime(e.t)} ${e.text}`, 80, 13, 0);
}

/** Trace's output: NDJSON objects on `write` with `json`, else text blocks on `write` and notes on `progress`. */
export function tracePresenter(
  json: boolean,
  rawWrite: (s: string) => void,
  rawProgress: (s: string) => void,
): TracePresenter {
  // Text carries input strings (process and pod names) to the terminal; JSON escapes them itself.
  const write = (s: string): void => rawWrite(json ? s : printable(s));
  const progress = (s: string): void => rawProgress(printable(s));
  const emit = (obj: unknown): void => write(`${JSON.stringify(obj)}\n`);
  return {
    finding(f, d, update) {
      if (json)
        emit({
          type: 'finding',
          t: f.t,
          update,
          finding: f,
          flows: f.flows.map((id) => viewOf(d, id)).filter(Boolean),
          suggestions: d.suggestions
            .filter((s) => f.suggestions.includes(s.id))
            .map((s) => forFinding(s, f)),
        });
      else write(`${findingText(f, d, update).join('\n')}\n`);
    },
    findingWithdrawn(f, d) {
      if (json)
        emit({ type: 'finding-withdrawn', t: d.at, id: f.id, rule: f.rule, flows: f.flows });
      else write(`${withdrawnText(f, d).join('\n')}\n`);
    },
    prediction(p, d, update) {
      if (json)
        emit({ type: 'prediction', t: d.at, update, prediction: p, flow: viewOf(d, p.flow) });
      else write(`${predictionText(p, d, d.at).join('\n')}\n`);
    },
    predictionWithdrawn(p, d) {
      if (json) emit({ type: 'prediction-withdrawn', t: d.at, flow: p.flow });
      else
        write(
          `${wrap(`${fmtTime(d.at)} NO LONGER AT RISK (${p.layer}) ${flowText(viewOf(d, p.flow), p.flow)}`, 80, 13, 0).join('\n')}\n`,
        );
    },
    event(item) {
      if (item.kind === 'info') {
        if (json) emit({ type: 'status', t: item.t, message: item.text, src: item.src });
        else progress(item.text);
      } else if (json) emit({ type: 'event', ...item });
      else write(`${eventText(item).join('\n')}\n`);
    },
    source(h: SourceHealth, t: number) {
      if (json) emit({ type: 'status', t, source: h });
      else progress(`${h.id}: ${h.state}${h.message ? `: ${h.message}` : ''}`);
    },
    note(n, t) {
      if (json) emit({ type: 'status', t, message: n });
      else progress(`note: ${n}`);
    },
    status(message, t) {
      if (json) emit({ type: 'status', t, message });
      else progress(message);
    },
    summary(s: TraceSummary, t: number) {
      if (json)
        emit({
          type: 'summary',
          t,
          findings: s.findings,
          predictions: s.predictions,
          issues: s.issues,
          sources: s.sources,
          ...(s.recording ? { recording: s.recording } : {}),
        });
      else {
        const rec = s.recording
          ? `; recorded ${s.recording.records} records to ${s.recording.path}`
          : '';
        progress(
          `Stopped: ${s.shown} finding(s), ${s.predictions} flow(s) at risk, ${s.issues} parse issue(s)${rec}.`,
        );
      }
    },
  };
}

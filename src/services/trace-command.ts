// Runs `kdiag trace` for a terminal or a script: output, Ctrl-C/SIGTERM, duration, final summary.
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { AnalyzeOptions } from '../analysis/analyze.js';
import { UsageError } from '../errors.js';
import type { Diagnosis, Finding, FlowView, Prediction } from '../model/diagnosis.js';
import type { FeedItem } from '../model/session.js';
import { PROBES } from '../parse/probes/catalog.js';
import { systemClock } from '../sources/source.js';
import { fmtDuration, fmtTime, wrap } from '../cli/output/text-layout.js';
import { matchesFlow, type FlowFilter } from './flow-filter.js';
import type { SessionChange } from './live-session.js';
import { startTrace } from './trace.js';

export interface TraceCommandOptions {
  readonly json: boolean;
  readonly durationMs?: number;
  readonly intervalMs: number;
  readonly record?: string;
  readonly netns?: string;
  readonly kubeProxyConfig?: string;
  readonly probes: string;
  readonly filter: FlowFilter;
  readonly analysis: AnalyzeOptions;
  readonly write?: (s: string) => void;
  readonly progress?: (s: string) => void;
}

/** The package's probes/ folder (dist/src/services → ../../../probes, or src/services → ../../probes). */
export function probesDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return here.includes(`${join('dist', 'src')}`) ? join(here, '..', '..', '..', 'probes') : join(here, '..', '..', 'probes');
}

/** On by default: cheap per-event probes. top_flow_activity samples every segment (see its header). */
export const DEFAULT_PROBES = ['trace_skb_drop', 'trace_tcp_reset', 'trace_tcp_retrans', 'trace_tcp_state'];

function chooseProbes(spec: string): string[] {
  const all = PROBES.map((p) => p.id);
  if (spec === 'default') return DEFAULT_PROBES.filter((p) => all.includes(p));
  if (spec === 'all') return all;
  if (spec === 'none' || spec === '') return [];
  const wanted = spec.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = wanted.filter((w) => !all.includes(w));
  if (unknown.length) throw new UsageError(`unknown probe ${unknown.join(', ')}`, `probes: ${all.join(', ')}`);
  return wanted;
}

function flowText(f: FlowView | undefined, id: string): string {
  if (!f) return id;
  return `${f.proto} ${f.client.addr}:${f.client.port} > ${f.target.addr}:${f.target.port}${f.backend ? ` -> ${f.backend.addr}:${f.backend.port}` : ''}`;
}

function viewOf(d: Diagnosis, id: string): FlowView | undefined {
  return d.flows.find((f) => f.id === id);
}

function findingText(f: Finding, d: Diagnosis): string[] {
  const out = wrap(`${fmtTime(f.t)} FINDING ${f.severity} ${f.fm} ${f.title}`, 80, 13, 0);
  for (const id of f.flows.slice(0, 3)) out.push(...wrap(flowText(viewOf(d, id), id), 80, 15, 13));
  out.push(...wrap(f.cause, 80, 13, 13));
  // Only changes kdiag can make live are offered as `kdiag apply`; the rest are named for kdiag check.
  const byId = new Map(d.suggestions.map((s) => [s.id, s]));
  const live = f.suggestions.filter((id) => byId.get(id)?.change);
  const other = f.suggestions.filter((id) => !byId.get(id)?.change);
  if (live.length) out.push(...wrap(`fix: ${live.map((id) => `kdiag apply ${id}`).join(' | ')}`, 80, 15, 13));
  if (other.length) out.push(...wrap(`also: ${other.join(', ')} (kdiag check shows the commands)`, 80, 15, 13));
  return out;
}

function predictionText(p: Prediction, d: Diagnosis, now: number): string[] {
  const when = p.breaksInSec <= 0 ? 'now' : `in ${fmtDuration(p.breaksInSec)}`;
  return wrap(`${fmtTime(now)} AT RISK ${when} (${p.layer}) ${flowText(viewOf(d, p.flow), p.flow)}: ${p.cause}`, 80, 13, 0);
}

function eventText(e: FeedItem): string[] {
  return wrap(`${fmtTime(e.t)} ${e.text}`, 80, 13, 0);
}

/** Runs trace until the duration ends or the user stops it; returns the exit code. */
export async function runTraceCommand(o: TraceCommandOptions): Promise<number> {
  const write = o.write ?? ((s: string) => void process.stdout.write(s));
  const progress = o.progress ?? ((s: string) => void process.stderr.write(`${s}\n`));
  const probes = chooseProbes(o.probes);
  const clock = systemClock;
  let findings = 0;
  let latest: Diagnosis | undefined;
  const emit = (obj: unknown) => write(`${JSON.stringify(obj)}\n`);
  const onChange = (c: SessionChange) => {
    switch (c.type) {
      case 'finding': {
        latest = c.diagnosis;
        if (!c.finding.flows.some((id) => matchesFlow(o.filter, id, viewOf(c.diagnosis, id))) && c.finding.flows.length > 0) return;
        findings++;
        if (o.json) emit({ type: 'finding', t: c.finding.t, finding: c.finding, flows: c.finding.flows.map((id) => viewOf(c.diagnosis, id)).filter(Boolean), suggestions: c.diagnosis.suggestions.filter((s) => c.finding.suggestions.includes(s.id)) });
        else write(`${findingText(c.finding, c.diagnosis).join('\n')}\n`);
        break;
      }
      case 'prediction':
        latest = c.diagnosis;
        if (!matchesFlow(o.filter, c.prediction.flow, viewOf(c.diagnosis, c.prediction.flow))) return;
        if (o.json) emit({ type: 'prediction', t: c.diagnosis.at, prediction: c.prediction, flow: viewOf(c.diagnosis, c.prediction.flow) });
        else write(`${predictionText(c.prediction, c.diagnosis, c.diagnosis.at).join('\n')}\n`);
        break;
      case 'event':
        if (c.item.kind === 'info') {
          if (o.json) emit({ type: 'status', t: c.item.t, message: c.item.text, src: c.item.src });
          else progress(c.item.text);
          return;
        }
        if (c.item.flow && !matchesFlow(o.filter, c.item.flow)) return;
        if (o.json) emit({ type: 'event', ...c.item });
        else write(`${eventText(c.item).join('\n')}\n`);
        break;
      case 'source':
        if (c.health.state === 'failed' || c.health.state === 'unavailable') {
          if (o.json) emit({ type: 'status', t: clock(), source: c.health });
          else progress(`${c.health.id}: ${c.health.state}${c.health.message ? `: ${c.health.message}` : ''}`);
        }
        break;
    }
  };

  const started = await startTrace(
    {
      probes,
      probesDir: probesDir(),
      intervalMs: o.intervalMs,
      analysis: o.analysis,
      clock,
      progress,
      ...(o.netns ? { netns: o.netns } : {}),
      ...(o.record ? { record: o.record } : {}),
      ...(o.kubeProxyConfig ? { kubeProxyConfig: o.kubeProxyConfig } : {}),
    },
    onChange,
  );
  for (const n of started.notes) {
    if (o.json) emit({ type: 'status', t: clock(), message: n });
    else progress(`note: ${n}`);
  }
  const stopOnce = new Promise<string>((resolve) => {
    const onSignal = (sig: NodeJS.Signals) => () => resolve(sig);
    const sigint = onSignal('SIGINT');
    const sigterm = onSignal('SIGTERM');
    process.once('SIGINT', sigint);
    process.once('SIGTERM', sigterm);
    if (o.durationMs !== undefined) setTimeout(() => resolve('duration'), o.durationMs).unref();
  });
  void started.attached.then(() => {
    const msg = `Tracing${o.netns ? ` (netfilter in ${o.netns})` : ''}${o.record ? `, recording to ${o.record}` : ''}. Ctrl-C to stop.`;
    if (o.json) emit({ type: 'status', t: clock(), message: msg });
    else progress(msg);
  });
  const why = await stopOnce;
  // A second Ctrl-C while stopping means "now": the children die with us (pdeathsig).
  process.once('SIGINT', () => process.exit(130));
  progress(why === 'duration' ? 'Duration reached; stopping probes…' : 'Stopping probes…');
  await started.session.stop();
  const d = latest ?? started.session.getSnapshot().diagnosis;
  const final = started.session.getSnapshot();
  if (o.json) {
    emit({ type: 'summary', t: clock(), findings: d.findings.length, predictions: d.predictions.length, issues: final.issues, sources: final.sources, ...(o.record ? { recording: { path: o.record, records: started.recorder?.count ?? 0 } } : {}) });
  } else {
    progress(`Stopped: ${findings} finding(s), ${d.predictions.length} flow(s) at risk, ${final.issues} parse issue(s)${o.record ? `; recorded ${started.recorder?.count ?? 0} records to ${o.record}` : ''}.`);
  }
  return findings > 0 ? 1 : 0;
}

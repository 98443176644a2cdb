// Runs `kdiag trace` for a terminal or a script: which changes to show, Ctrl-C/SIGTERM, duration,
// final summary; how they look is the presenter's (cli/output/trace-output.ts).
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { AnalyzeOptions } from '../analysis/analyze.js';
import { UsageError } from '../errors.js';
import type { Diagnosis, Finding, FlowView, Prediction } from '../model/diagnosis.js';
import type { FeedItem, SourceHealth } from '../model/session.js';
import { PROBES } from '../parse/probes/catalog.js';
import { systemClock } from '../sources/source.js';
import { matchesFlow, type FlowFilter } from './flow-filter.js';
import type { SessionChange } from './live-session.js';
import { startTrace } from './trace.js';
import type { ListenAddress } from '../metrics/listen-address.js';
import { startTraceMetrics, type TraceMetrics } from './trace-metrics.js';

export interface TraceCommandOptions {
  readonly durationMs?: number;
  readonly intervalMs: number;
  readonly record?: string;
  readonly netns?: string;
  /** Keep only probe events of these named netns (filtered in the kernel); overrides netns's set. */
  readonly probeNetns?: readonly string[];
  readonly kubeProxyConfig?: string;
  readonly probes: string;
  readonly filter: FlowFilter;
  readonly analysis: AnalyzeOptions;
  /** `--metrics`: serve Prometheus metrics here while tracing. */
  readonly metrics?: ListenAddress;
  /** Where changes, notes and the summary go (text or NDJSON). */
  readonly present: TracePresenter;
  /** Progress for a person (stderr in the CLI). */
  readonly progress: (s: string) => void;
}

/** The package's probes/ folder (dist/src/services → ../../../probes, or src/services → ../../probes). */
export function probesDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return here.includes(`${join('dist', 'src')}`)
    ? join(here, '..', '..', '..', 'probes')
    : join(here, '..', '..', 'probes');
}

/** On by default: cheap per-event probes. top_flow_activity samples every segment (see its header). */
export const DEFAULT_PROBES = [
  'trace_skb_drop',
  'trace_tcp_reset',
  'trace_tcp_retrans',
  'trace_tcp_state',
];

function chooseProbes(spec: string): string[] {
  const all = PROBES.map((p) => p.id);
  if (spec === 'default') return DEFAULT_PROBES.filter((p) => all.includes(p));
  if (spec === 'all') return all;
  if (spec === 'none' || spec === '') return [];
  const wanted = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = wanted.filter((w) => !all.includes(w));
  if (unknown.length)
    throw new UsageError(`unknown probe ${unknown.join(', ')}`, `probes: ${all.join(', ')}`);
  return wanted;
}

function viewOf(d: Diagnosis, id: string): FlowView | undefined {
  return d.flows.find((f) => f.id === id);
}

/** What trace reports at the end. */
export interface TraceSummary {
  /** Findings in the last diagnosis. */
  readonly findings: number;
  /** Findings shown (those the flow filter let through). */
  readonly shown: number;
  readonly predictions: number;
  readonly issues: number;
  readonly sources: readonly SourceHealth[];
  readonly recording?: { readonly path: string; readonly records: number };
}

/** How trace's changes reach the user (cli/output/trace-output.ts): text or NDJSON. `t` is ms since the epoch. */
export interface TracePresenter {
  /** `update`: the same id was shown before; this one replaces it. */
  finding(f: Finding, d: Diagnosis, update: boolean): void;
  /** A finding shown before that the latest analysis no longer makes. */
  findingWithdrawn(f: Finding, d: Diagnosis): void;
  prediction(p: Prediction, d: Diagnosis, update: boolean): void;
  /** A flow shown at risk that no longer is (closed, refreshed by keepalive, or broke: a finding says so). */
  predictionWithdrawn(p: Prediction, d: Diagnosis): void;
  event(item: FeedItem): void;
  /** A source that failed or is unavailable. */
  source(h: SourceHealth, t: number): void;
  note(n: string, t: number): void;
  status(message: string, t: number): void;
  summary(s: TraceSummary, t: number): void;
}

/** Routes a session's changes to the presenter through the flow filter. */
export interface TraceRouter {
  readonly onChange: (c: SessionChange) => void;
  /** The diagnosis of the latest finding or prediction change. */
  latest(): Diagnosis | undefined;
  /** Findings shown and not withdrawn since. */
  standing(): number;
}

/**
 * Keeps what was shown, by finding id and by prediction flow: only those are updated or withdrawn,
 * and what still stands at the end decides the exit code, as the replay of the recording would.
 */
export function traceRouter(
  filter: FlowFilter,
  present: TracePresenter,
  clock: () => number,
): TraceRouter {
  const shownFindings = new Set<string>();
  const shownPredictions = new Set<string>();
  let latest: Diagnosis | undefined;
  const onChange = (c: SessionChange): void => {
    switch (c.type) {
      case 'finding': {
        latest = c.diagnosis;
        const f = c.finding;
        const wanted =
          f.flows.length === 0 ||
          f.flows.some((id) => matchesFlow(filter, id, viewOf(c.diagnosis, id)));
        if (wanted) {
          present.finding(f, c.diagnosis, shownFindings.has(f.id));
          shownFindings.add(f.id);
        } else if (shownFindings.delete(f.id)) present.findingWithdrawn(f, c.diagnosis);
        break;
      }
      case 'finding-withdrawn':
        latest = c.diagnosis;
        if (shownFindings.delete(c.finding.id)) present.findingWithdrawn(c.finding, c.diagnosis);
        break;
      case 'prediction':
        latest = c.diagnosis;
        if (!matchesFlow(filter, c.prediction.flow, viewOf(c.diagnosis, c.prediction.flow))) return;
        present.prediction(c.prediction, c.diagnosis, shownPredictions.has(c.prediction.flow));
        shownPredictions.add(c.prediction.flow);
        break;
      case 'prediction-withdrawn':
        latest = c.diagnosis;
        if (shownPredictions.delete(c.prediction.flow))
          present.predictionWithdrawn(c.prediction, c.diagnosis);
        break;
      case 'event':
        if (c.item.kind !== 'info' && c.item.flow && !matchesFlow(filter, c.item.flow)) return;
        present.event(c.item);
        break;
      case 'source':
        if (c.health.state === 'failed' || c.health.state === 'unavailable')
          present.source(c.health, clock());
        break;
    }
  };
  return { onChange, latest: () => latest, standing: () => shownFindings.size };
}

/** Runs trace until the duration ends or the user stops it; returns the exit code. */
export async function runTraceCommand(o: TraceCommandOptions): Promise<number> {
  const progress = o.progress;
  const present = o.present;
  const probes = chooseProbes(o.probes);
  const clock = systemClock;
  const router = traceRouter(o.filter, present, clock);
  const metrics: TraceMetrics | undefined = o.metrics && (await startTraceMetrics(o.metrics));
  const onChange = metrics
    ? (c: SessionChange): void => {
        metrics.onChange(c);
        router.onChange(c);
      }
    : router.onChange;

  const started = await startTrace(
    {
      probes,
      probesDir: probesDir(),
      intervalMs: o.intervalMs,
      analysis: o.analysis,
      clock,
      progress,
      ...(o.netns ? { netns: o.netns } : {}),
      ...(o.probeNetns && o.probeNetns.length > 0 ? { probeNetns: o.probeNetns } : {}),
      ...(o.record ? { record: o.record } : {}),
      ...(o.kubeProxyConfig ? { kubeProxyConfig: o.kubeProxyConfig } : {}),
    },
    onChange,
  ).catch(async (err: unknown) => {
    await metrics?.close();
    throw err;
  });
  metrics?.attach(started.session);
  if (metrics)
    progress(
      `Serving metrics on ${metrics.url}${o.metrics?.loopback ? '' : ' (not loopback: anyone reaching it reads Service names and findings)'}`,
    );
  for (const n of started.notes) present.note(n, clock());
  const stopOnce = new Promise<StopReason>((resolve) => {
    const onSignal = (sig: 'SIGINT' | 'SIGTERM') => () => resolve(sig);
    const sigint = onSignal('SIGINT');
    const sigterm = onSignal('SIGTERM');
    process.once('SIGINT', sigint);
    process.once('SIGTERM', sigterm);
    // The duration is tracing time: it counts from the probes attached, not from the compile.
    if (o.durationMs !== undefined)
      void started.attached.then(() => setTimeout(() => resolve('duration'), o.durationMs).unref());
  });
  void started.attached.then(() => {
    const msg = `Tracing${o.netns ? ` (netfilter in ${o.netns})` : ''}${o.record ? `, recording to ${o.record}` : ''}. Ctrl-C to stop.`;
    present.status(msg, clock());
  });
  const why = await stopOnce;
  // A second signal while stopping means "now": the children die with us (pdeathsig).
  process.once('SIGINT', () => process.exit(SIGNAL_EXIT.SIGINT));
  process.once('SIGTERM', () => process.exit(SIGNAL_EXIT.SIGTERM));
  progress(why === 'duration' ? 'Duration reached; stopping probes…' : 'Stopping probes…');
  await started.session.stop();
  await metrics?.close();
  const d = router.latest() ?? started.session.getSnapshot().diagnosis;
  const final = started.session.getSnapshot();
  present.summary(
    {
      findings: d.findings.length,
      shown: router.standing(),
      predictions: d.predictions.length,
      issues: final.issues,
      sources: final.sources,
      ...(o.record ? { recording: { path: o.record, records: started.recorder?.count ?? 0 } } : {}),
    },
    clock(),
  );
  return traceExitCode(why, router.standing());
}

type StopReason = 'SIGINT' | 'SIGTERM' | 'duration';

/** 128 + the signal's number, as a shell reports a process a signal ended. */
const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;

/**
 * A stop by signal is "interrupted" (130, 143) even though trace stopped cleanly and printed its
 * summary: a script must tell a run cut short from one that ran its --duration. Otherwise 1 when
 * a finding shown still stands, else 0.
 */
export function traceExitCode(why: StopReason, standing: number): number {
  if (why !== 'duration') return SIGNAL_EXIT[why];
  return standing > 0 ? 1 : 0;
}

// kdiag's metrics as a prom-client registry: the catalogue's families, filled at scrape time from
// the diagnosis → metrics mapping, the time-to-break histogram fed by the session's changes, and
// prom-client's process metrics (CPU seconds, RSS, heap) prefixed `kdiag_` for kdiag's own cost.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Diagnosis } from '../model/diagnosis.js';
import type { FeedItem } from '../model/session.js';
import { METRICS, TIME_TO_BREAK_BUCKETS, type MetricKey } from './catalog.js';
import { diagnosisMetrics, type MetricsInput, type Sample } from './diagnosis-metrics.js';
import { PacketCauses } from './packet-causes.js';

/** The session changes the exporter follows (a subset of services/live-session.ts SessionChange). */
export type ExporterChange =
  | {
      readonly type: 'prediction';
      readonly prediction: { readonly layer: string; readonly breaksInSec: number };
      readonly diagnosis: Diagnosis;
      readonly update: boolean;
    }
  | { readonly type: 'event'; readonly item: FeedItem }
  | { readonly type: string; readonly diagnosis?: Diagnosis };

/** What the exporter reads each scrape: undefined until the session runs. */
export type InputProvider = () => Omit<MetricsInput, 'packetCauses'> | undefined;

export interface DiagnosisExporter {
  readonly registry: Registry;
  readonly contentType: string;
  /** Follows the session: drops/resets and at-risk flows as they appear. */
  onChange(c: ExporterChange): void;
  /** The exposition text for one scrape. */
  scrape(): Promise<string>;
}

/** Builds the registry; `processMetrics: false` leaves out prom-client's process collectors (tests). */
export function createDiagnosisExporter(
  provider: InputProvider,
  opts: { processMetrics?: boolean } = {},
): DiagnosisExporter {
  const registry = new Registry();
  const causes = new PacketCauses();
  let current: ReturnType<typeof diagnosisMetrics> | undefined;
  const samplesOf = (key: Exclude<MetricKey, 'timeToBreak'>): Sample[] => current?.[key] ?? [];

  for (const [key, def] of Object.entries(METRICS) as [MetricKey, (typeof METRICS)[MetricKey]][]) {
    if (def.type === 'histogram') continue;
    const k = key as Exclude<MetricKey, 'timeToBreak'>;
    const common = {
      name: def.name,
      help: def.help,
      labelNames: [...def.labelNames],
      registers: [registry],
    };
    if (def.type === 'gauge')
      new Gauge({
        ...common,
        collect(this: Gauge) {
          this.reset();
          for (const s of samplesOf(k)) this.set({ ...s.labels }, s.value);
        },
      });
    else
      new Counter({
        ...common,
        collect(this: Counter) {
          // The values are totals kept elsewhere (sources, PacketCauses): copied, never decreasing.
          this.reset();
          for (const s of samplesOf(k)) this.inc({ ...s.labels }, s.value);
        },
      });
  }
  const ttb = new Histogram({
    name: METRICS.timeToBreak.name,
    help: METRICS.timeToBreak.help,
    labelNames: [...METRICS.timeToBreak.labelNames],
    buckets: TIME_TO_BREAK_BUCKETS,
    registers: [registry],
  });
  if (opts.processMetrics !== false) {
    collectDefaultMetrics({ register: registry, prefix: 'kdiag_' });
    // prom-client names three gauges `_total`, which `promtool check metrics` rejects (a `_total`
    // suffix is for counters); they count libuv handles, not kdiag's cost, so they are left out.
    for (const name of ['active_handles', 'active_requests', 'active_resources'])
      registry.removeSingleMetric(`kdiag_nodejs_${name}_total`);
  }

  return {
    registry,
    contentType: registry.contentType,
    onChange(c) {
      if (c.type === 'event' && 'item' in c) causes.note(c.item);
      else if (c.type === 'prediction' && 'prediction' in c && !c.update)
        ttb.observe({ layer: c.prediction.layer }, Math.max(0, c.prediction.breaksInSec));
      if ('diagnosis' in c && c.diagnosis !== undefined) causes.settle(c.diagnosis);
    },
    async scrape() {
      const input = provider();
      if (input !== undefined) causes.settle(input.diagnosis);
      current =
        input === undefined
          ? undefined
          : diagnosisMetrics({ ...input, packetCauses: causes.snapshot() });
      return registry.metrics();
    },
  };
}

// kube-proxy's own metrics as the rules read them: the latest scrape and the first one (for what
// moved during the capture), from the `kube-proxy:metrics` source (parse/kube-proxy-metrics.ts).
import type { Evidence } from '../../model/diagnosis.js';
import type { HistogramReading, KubeProxyMetrics } from '../../model/kube-proxy-metrics.js';
import type { FlowTable } from '../../model/flow-table.js';
import { evidence } from '../rule.js';

export interface KubeProxyMetricsReading {
  readonly latest: KubeProxyMetrics;
  readonly first: KubeProxyMetrics;
  /** Time of the latest scrape (ms since the epoch). */
  readonly t: number;
  readonly src: string;
  /** Seconds between the first and the latest scrape. */
  readonly spanSec: number;
}

function isMetrics(v: unknown): v is KubeProxyMetrics {
  return (
    typeof v === 'object' && v !== null && typeof (v as { samples?: unknown }).samples === 'number'
  );
}

/** The latest and first scrapes of kube-proxy's metrics, when kdiag read any. */
export function kubeProxyMetricsReading(table: FlowTable): KubeProxyMetricsReading | undefined {
  const last = table.meta('kube-proxy-metrics');
  const first = table.meta('kube-proxy-metrics-first');
  if (!last || !isMetrics(last.value)) return undefined;
  const f = first && isMetrics(first.value) ? first : last;
  return {
    latest: last.value,
    first: f.value as KubeProxyMetrics,
    t: last.t,
    src: last.src,
    spanSec: Math.max(0, (last.t - f.t) / 1000),
  };
}

/** One metric line as evidence, the way kube-proxy printed it. */
export function metricEvidence(r: KubeProxyMetricsReading, text: string, note?: string): Evidence {
  return evidence(r.t, r.src, text, note);
}

/** The syncs between two readings of the duration histogram (the latest alone when it did not grow). */
export function histogramDelta(
  latest: HistogramReading,
  first: HistogramReading | undefined,
): HistogramReading {
  if (!first || latest.count <= first.count || latest.buckets.length !== first.buckets.length)
    return latest;
  return {
    count: latest.count - first.count,
    sum: latest.sum - first.sum,
    buckets: latest.buckets.map((b, i) => ({ le: b.le, count: b.count - first.buckets[i]!.count })),
  };
}

/** Go's %g for a metric value in a quoted line (`1.7824697e+09` style is kept as seconds). */
export function fmtValue(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(3).replace(/\.?0+$/, '');
}

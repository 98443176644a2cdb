// kube-proxy's /metrics exposition → the values kdiag judges (model/kube-proxy-metrics.ts). Family
// names and which mode registers which family: kubernetes pkg/proxy/metrics/metrics.go
// RegisterMetrics; kubernetes_build_info: component-base/metrics/prometheus/version.
import type { ProxyMode } from '../model/kube-proxy.js';
import type { HistogramReading, KubeProxyMetrics } from '../model/kube-proxy-metrics.js';
import { parsePrometheusText, promValue, type PromExposition } from './prometheus-text.js';
import type { ParseResult } from './result.js';

export const KP_INVALID_DROPPED = 'kubeproxy_iptables_ct_state_invalid_dropped_packets_total';
export const KP_LAST_SYNC = 'kubeproxy_sync_proxy_rules_last_timestamp_seconds';
export const KP_LAST_QUEUED = 'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds';
export const KP_SYNC_DURATION = 'kubeproxy_sync_proxy_rules_duration_seconds';

function histogram(e: PromExposition, name: string): HistogramReading | undefined {
  const f = e.families.get(name);
  if (!f || f.type !== 'histogram') return undefined;
  let count: number | undefined;
  let sum: number | undefined;
  const buckets: { le: number; count: number }[] = [];
  for (const s of f.samples) {
    if (s.name === `${name}_count`) count = s.value;
    else if (s.name === `${name}_sum`) sum = s.value;
    else if (s.name === `${name}_bucket`) {
      const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      if (Number.isFinite(le) || le === Infinity) buckets.push({ le, count: s.value });
    }
  }
  if (count === undefined || sum === undefined) return undefined;
  buckets.sort((a, b) => a.le - b.le);
  return { count, sum, buckets };
}

function modeOf(e: PromExposition): ProxyMode | undefined {
  const has = (n: string): boolean => e.families.has(n);
  if (has('kubeproxy_sync_proxy_rules_nftables_sync_failures_total')) return 'nftables';
  if (has('kubeproxy_sync_full_proxy_rules_duration_seconds') || has(KP_INVALID_DROPPED))
    return 'iptables';
  // IPVS mode registers the iptables-restore failure counter and none of iptables' own families.
  if (has('kubeproxy_sync_proxy_rules_iptables_restore_failures_total')) return 'ipvs';
  return undefined;
}

/** The values kdiag uses from one scrape of kube-proxy's /metrics. */
export function kubeProxyMetricsOf(e: PromExposition): KubeProxyMetrics {
  const num = (name: string): number | undefined => {
    const v = promValue(e, name)?.value;
    return v !== undefined && Number.isFinite(v) ? v : undefined;
  };
  const mode = modeOf(e);
  const version = promValue(e, 'kubernetes_build_info')?.labels.git_version;
  const failures =
    num('kubeproxy_sync_proxy_rules_iptables_restore_failures_total') ??
    num('kubeproxy_sync_proxy_rules_nftables_sync_failures_total');
  const out: Record<string, unknown> = {
    ...(mode ? { mode } : {}),
    ...(version ? { version } : {}),
    invalidDropped: num(KP_INVALID_DROPPED),
    lastSyncSec: num(KP_LAST_SYNC),
    lastQueuedSec: num(KP_LAST_QUEUED),
    syncDuration: histogram(e, KP_SYNC_DURATION),
    endpointChangesPending: num('kubeproxy_sync_proxy_rules_endpoint_changes_pending'),
    serviceChangesPending: num('kubeproxy_sync_proxy_rules_service_changes_pending'),
    syncFailures: failures,
    samples: e.samples,
  };
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out as unknown as KubeProxyMetrics;
}

/** Parses a scrape and reads kube-proxy's values from it; an exposition without them is an issue. */
export function parseKubeProxyMetrics(text: string): ParseResult<KubeProxyMetrics> {
  const r = parsePrometheusText(text);
  const value = kubeProxyMetricsOf(r.value);
  const issues = [...r.issues];
  if (r.value.samples > 0 && ![...r.value.families.keys()].some((n) => n.startsWith('kubeproxy_')))
    issues.push({
      line: 1,
      code: 'prom.not-kube-proxy',
      message: "no kubeproxy_* family: not kube-proxy's /metrics",
      text: '',
    });
  return { value, issues };
}

/** kube-proxy's /proxyMode answer (`iptables`, `ipvs`, `nftables`, `kernelspace`), or undefined. */
export function parseProxyModeAnswer(text: string): ProxyMode | undefined {
  const t = text.trim();
  return t === 'iptables' || t === 'ipvs' || t === 'nftables' || t === 'kernelspace'
    ? t
    : undefined;
}

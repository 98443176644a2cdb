// What kdiag reads from kube-proxy's own /metrics (pkg/proxy/metrics/metrics.go): the values its
// rules use, as one scrape gave them. Times are kube-proxy's (seconds since the epoch).
import type { ProxyMode } from './kube-proxy.js';

export interface HistogramReading {
  readonly count: number;
  readonly sum: number;
  /** Cumulative counts by upper bound, ascending; the last is +Inf. */
  readonly buckets: readonly { readonly le: number; readonly count: number }[];
}

export interface KubeProxyMetrics {
  /** The mode the families registered imply (RegisterMetrics registers per mode). */
  readonly mode?: ProxyMode;
  /** kubernetes_build_info's git_version. */
  readonly version?: string;
  /** kubeproxy_iptables_ct_state_invalid_dropped_packets_total (iptables mode, nfacct). */
  readonly invalidDropped?: number;
  /** kubeproxy_sync_proxy_rules_last_timestamp_seconds: the last successful sync. */
  readonly lastSyncSec?: number;
  /** kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds: the last sync asked for. */
  readonly lastQueuedSec?: number;
  /** kubeproxy_sync_proxy_rules_duration_seconds. */
  readonly syncDuration?: HistogramReading;
  readonly endpointChangesPending?: number;
  readonly serviceChangesPending?: number;
  /** iptables-restore failures (iptables, IPVS) or nftables sync failures. */
  readonly syncFailures?: number;
  readonly samples: number;
}

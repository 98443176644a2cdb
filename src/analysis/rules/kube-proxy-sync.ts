// kube-proxy's rule sync judged from its own metrics (pkg/proxy/metrics/metrics.go): a sync asked for
// and not done, or none for long, means Service and endpoint changes are not in the node's rules (a
// deleted pod keeps getting new connections, FM-9/FM-10's stale endpoints); slow syncs mean they
// arrive late. kube-proxy's own note on last_queued: "If this is much larger than
// kubeproxy_sync_proxy_rules_last_timestamp_seconds, then something is hung."
import type { Evidence } from '../../model/diagnosis.js';
import { KP_LAST_QUEUED, KP_LAST_SYNC, KP_SYNC_DURATION } from '../../parse/kube-proxy-metrics.js';
import type { Rule } from '../rule.js';
import { fmtSec, makeDraft } from '../rule.js';
import {
  fmtValue,
  histogramDelta,
  kubeProxyMetricsReading,
  metricEvidence,
} from './kube-proxy-metrics-facts.js';

/** A sync queued this long before the last success counts as hung (kube-proxy retries within seconds). */
export const SYNC_HUNG_SEC = 60;
/** No successful sync for this long is stale: kube-proxy re-syncs every syncPeriod (30 s by default). */
export const SYNC_STALE_SEC = 600;
/** Mean sync time above this delays every change by as much. */
export const SYNC_SLOW_SEC = 1;

export const kubeProxySyncStale: Rule = {
  code: 'kube-proxy.sync-stale',
  fm: 'FM-9',
  run(ctx) {
    const r = kubeProxyMetricsReading(ctx.table);
    const last = r?.latest.lastSyncSec;
    if (!r || last === undefined || !(last > 0)) return [];
    const nowSec = r.t / 1000;
    const ageSec = Math.round(nowSec - last);
    const queued = r.latest.lastQueuedSec;
    const hungSec = queued !== undefined && queued > last ? Math.round(queued - last) : 0;
    const hung = hungSec > SYNC_HUNG_SEC;
    if (!hung && ageSec <= SYNC_STALE_SEC) return [];
    const pending = (r.latest.endpointChangesPending ?? 0) + (r.latest.serviceChangesPending ?? 0);
    const evs: Evidence[] = [
      metricEvidence(
        r,
        `${KP_LAST_SYNC} ${fmtValue(last)}`,
        `last successful sync ${fmtSec(ageSec)} before the capture`,
      ),
    ];
    if (queued !== undefined)
      evs.push(
        metricEvidence(
          r,
          `${KP_LAST_QUEUED} ${fmtValue(queued)}`,
          hung
            ? `a sync was asked for ${fmtSec(hungSec)} after the last success`
            : 'no sync waiting',
        ),
      );
    if (pending > 0)
      evs.push(
        metricEvidence(
          r,
          `kubeproxy_sync_proxy_rules_endpoint_changes_pending ${r.latest.endpointChangesPending ?? 0}, kubeproxy_sync_proxy_rules_service_changes_pending ${r.latest.serviceChangesPending ?? 0}`,
          'changes not yet in the rules',
        ),
      );
    if ((r.latest.syncFailures ?? 0) > 0)
      evs.push(
        metricEvidence(
          r,
          `sync failures ${r.latest.syncFailures}`,
          'kube-proxy failed to write its rules',
        ),
      );
    return [
      makeDraft({
        rule: 'kube-proxy.sync-stale',
        fm: 'FM-9',
        subject: 'kube-proxy',
        severity: 'warning',
        confidence: hung || pending > 0 ? 'certain' : 'likely',
        title: "kube-proxy's rules are stale",
        cause: `kube-proxy last synced its rules ${fmtSec(ageSec)} before the capture${hung ? ` and a sync asked for since has not completed (${fmtSec(hungSec)} later)` : ''}${pending > 0 ? `, with ${pending} Service/endpoint change${pending > 1 ? 's' : ''} pending` : ''}: removed endpoints keep receiving new connections and new ones get none; read kube-proxy's log for the failing sync.`,
        flows: [],
        evidence: evs,
        needs: [],
        t: r.t,
      }),
    ];
  },
};

export const kubeProxySyncSlow: Rule = {
  code: 'kube-proxy.sync-slow',
  fm: 'FM-9',
  run(ctx) {
    const r = kubeProxyMetricsReading(ctx.table);
    const h = r?.latest.syncDuration;
    if (!r || !h) return [];
    const d = histogramDelta(h, r.first.syncDuration);
    if (d.count <= 0) return [];
    const mean = d.sum / d.count;
    if (!(mean > SYNC_SLOW_SEC)) return [];
    // Syncs over a second, from the first bucket bound at or above it.
    const b = d.buckets.find((x) => x.le >= SYNC_SLOW_SEC);
    const over = b === undefined ? undefined : d.count - b.count;
    const during =
      d === h
        ? 'since kube-proxy started'
        : `during the capture (${fmtSec(Math.round(r.spanSec))})`;
    return [
      makeDraft({
        rule: 'kube-proxy.sync-slow',
        fm: 'FM-9',
        subject: 'kube-proxy',
        severity: mean >= 5 ? 'warning' : 'info',
        confidence: 'certain',
        title: "kube-proxy's rule syncs are slow",
        cause: `kube-proxy's rule syncs took ${mean.toFixed(1)} s on average ${during} (${d.count} syncs${over !== undefined && b ? `, ${over} over ${fmtValue(b.le)} s` : ''}): every Service and endpoint change reaches this node's rules that late.`,
        flows: [],
        evidence: [
          metricEvidence(
            r,
            `${KP_SYNC_DURATION}_sum ${fmtValue(h.sum)}, ${KP_SYNC_DURATION}_count ${h.count}`,
            `mean ${mean.toFixed(2)} s per sync`,
          ),
        ],
        needs: [],
        t: r.t,
      }),
    ];
  },
};

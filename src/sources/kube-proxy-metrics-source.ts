// kube-proxy's own metrics as recorded sources: GET /metrics (src `kube-proxy:metrics`, the
// exposition's lines) and GET /proxyMode (src `kube-proxy:proxymode`, one word), on the address its
// configuration names (parse/kube-proxy-metrics-address.ts). Recorded as the curl command they
// stand for; kdiag reads them with its own HTTP client (no curl needed).
import { readFile } from 'node:fs/promises';
import type { KubeProxyDiscovery } from '../host/kube-proxy.js';
import {
  metricsBindOf,
  scrapeTargetOf,
  targetUrl,
  type MetricsBind,
} from '../parse/kube-proxy-metrics-address.js';
import { SnapshotSource, type SnapshotOptions, type SnapshotOutput } from './snapshot-source.js';

const SCRAPE_TIMEOUT_MS = 5_000;
const MAX_BYTES = 16_000_000;

/** One HTTP GET with a timeout and a size bound; a failure is stderr and a non-zero exit, like curl's. */
export async function httpGet(url: string, timeoutMs = SCRAPE_TIMEOUT_MS): Promise<SnapshotOutput> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
    const body = await res.text();
    if (!res.ok) return { stdout: '', stderr: `GET ${url}: HTTP ${res.status}\n`, exitCode: 22 };
    if (body.length > MAX_BYTES)
      return { stdout: '', stderr: `GET ${url}: over ${MAX_BYTES} bytes\n`, exitCode: 63 };
    return { stdout: body, stderr: '', exitCode: 0 };
  } catch (err) {
    const e = err as {
      cause?: { code?: string; message?: string };
      name?: string;
      message?: string;
    };
    const why =
      e.cause?.code ?? (e.name === 'TimeoutError' ? 'timed out' : (e.message ?? String(err)));
    return { stdout: '', stderr: `GET ${url}: ${why}\n`, exitCode: 7 };
  }
}

export interface KubeProxyMetricsSources {
  readonly sources: SnapshotSource[];
  readonly bind: MetricsBind;
  /** Why there is nothing to scrape, when there is not. */
  readonly note?: string;
  /** The /metrics URL scraped. */
  readonly url?: string;
}

/** The /metrics and /proxyMode sources of the kube-proxy discovery found (none when it is off). */
export async function kubeProxyMetricsSources(
  d: KubeProxyDiscovery,
  opts: Omit<SnapshotOptions, 'netns'> = {},
): Promise<KubeProxyMetricsSources> {
  const configText =
    d.readPath === undefined
      ? undefined
      : await readFile(d.readPath, 'utf8').catch(() => undefined);
  const bind = metricsBindOf(d.argv, configText);
  if (d.pid === undefined)
    return { sources: [], bind, note: 'kube-proxy metrics: no kube-proxy process to scrape' };
  const target = scrapeTargetOf(bind.bind);
  if (target === undefined)
    return {
      sources: [],
      bind,
      note:
        bind.bind === ''
          ? 'kube-proxy metrics: off (metricsBindAddress is empty)'
          : `kube-proxy metrics: can't read the address "${bind.bind.slice(0, 60)}"`,
    };
  const url = targetUrl(target, '/metrics');
  const modeUrl = targetUrl(target, '/proxyMode');
  return {
    bind,
    url,
    sources: [
      new SnapshotSource({
        kind: 'kube-proxy:metrics',
        argv: ['curl', '-sf', url],
        ...opts,
        read: () => httpGet(url),
      }),
      new SnapshotSource({
        kind: 'kube-proxy:proxymode',
        argv: ['curl', '-sf', modeUrl],
        ...opts,
        read: () => httpGet(modeUrl),
      }),
    ],
  };
}

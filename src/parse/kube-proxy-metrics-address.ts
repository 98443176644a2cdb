// Where kube-proxy serves /metrics: `metricsBindAddress` of its KubeProxyConfiguration (bare or in a
// kubeadm ConfigMap's config.conf), else `--metrics-bind-address` when it runs without --config
// (flags beside --config are ignored, see kube-proxy-args.ts), else the default 127.0.0.1:10249
// (pkg/proxy/apis/config/v1alpha1/defaults.go). An empty value turns the server off.

export const DEFAULT_METRICS_BIND = '127.0.0.1:10249';

export interface MetricsBind {
  /** The address as configured (`0.0.0.0:10249`, `127.0.0.1:10249`, `` = off). */
  readonly bind: string;
  readonly from: 'config' | 'flag' | 'default';
}

export interface ScrapeTarget {
  /** Host to connect to: a wildcard bind is reached on loopback (kube-proxy runs in the host netns). */
  readonly host: string;
  readonly port: number;
}

function unquote(v: string): string {
  const t = v.replace(/\s+#.*$/, '').trim();
  return /^(['"]).*\1$/.test(t) ? t.slice(1, -1) : t;
}

/** The metrics bind address kube-proxy uses, from its argv and config text (pure). */
export function metricsBindOf(
  argv: readonly string[] | undefined,
  configText: string | undefined,
): MetricsBind {
  if (configText !== undefined) {
    const m = /^[ \t]*metricsBindAddress:[ \t]*(.*)$/m.exec(configText.slice(0, 1_000_000));
    if (m) return { bind: unquote(m[1]!), from: 'config' };
    // A config without the field takes the default: flags beside --config do not count.
    return { bind: DEFAULT_METRICS_BIND, from: 'default' };
  }
  const a = argv ?? [];
  for (let i = 0; i < a.length; i++) {
    const arg = a[i]!;
    if (arg.startsWith('--metrics-bind-address='))
      return { bind: arg.slice('--metrics-bind-address='.length), from: 'flag' };
    if (arg === '--metrics-bind-address' && a[i + 1] !== undefined)
      return { bind: a[i + 1]!, from: 'flag' };
  }
  return { bind: DEFAULT_METRICS_BIND, from: 'default' };
}

/**
 * Where to scrape a bind address; undefined when the server is off or the address is unreadable.
 * `0.0.0.0:P`, `[::]:P`, `:P` and CIDR forms (`0.0.0.0/0:P`, kube-proxy ≥1.29) are served on
 * loopback too; a specific address is used as given.
 */
export function scrapeTargetOf(bind: string): ScrapeTarget | undefined {
  const m = /^(.*):(\d{1,5})$/.exec(bind.trim());
  if (!m) return undefined;
  const port = Number(m[2]);
  if (!(port > 0 && port < 65536)) return undefined;
  let host = m[1]!.replace(/^\[|\]$/g, '');
  if (host === '' || host === '0.0.0.0' || host === '::' || host.includes('/')) host = '127.0.0.1';
  if (!/^[0-9a-fA-F:.]+$/.test(host)) return undefined;
  return { host, port };
}

/** `http://HOST:PORT` for a scrape target. */
export function targetUrl(t: ScrapeTarget, path: string): string {
  return `http://${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}${path}`;
}

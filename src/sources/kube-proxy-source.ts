// kube-proxy's configuration as recorded sources: the process's argv (src `kube-proxy:args`, one
// argv element per line) and its config file (src `kube-proxy:config`, the YAML lines), both as
// host/kube-proxy.ts found them.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EnvironmentError } from '../errors.js';
import {
  DEFAULT_KUBE_PROXY_CONFIG,
  kubeProxyArgsLines,
  type KubeProxyDiscovery,
} from '../host/kube-proxy.js';
import { SnapshotSource, type SnapshotOptions } from './snapshot-source.js';

/** The config file as a snapshot (src `kube-proxy:config`), recorded as `cat READPATH`. */
export function kubeProxyConfigSource(
  d: KubeProxyDiscovery,
  opts: Omit<SnapshotOptions, 'netns'> = {},
): SnapshotSource {
  const readPath = d.readPath;
  return new SnapshotSource({
    kind: 'kube-proxy:config',
    argv: ['cat', readPath ?? DEFAULT_KUBE_PROXY_CONFIG],
    ...opts,
    ...(readPath === undefined
      ? { unavailable: "can't find kube-proxy's config (give --kube-proxy-config FILE)" }
      : {}),
    read: async () => {
      try {
        return { stdout: await readFile(readPath!, 'utf8'), stderr: '', exitCode: 0 };
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'ENOENT')
          throw new EnvironmentError(
            'KDIAG_ENVIRONMENT',
            `can't read kube-proxy's config ${readPath}: no such file`,
            'give the file with --kube-proxy-config FILE',
          );
        return { stdout: '', stderr: `cat: ${readPath}: ${(err as Error).message}\n`, exitCode: 1 };
      }
    },
  });
}

/** The process's argv, one element per line (src `kube-proxy:args`), recorded as `cat /proc/PID/cmdline`. */
export function kubeProxyArgsSource(
  d: KubeProxyDiscovery,
  opts: Omit<SnapshotOptions, 'netns'> & { readonly proc?: string } = {},
): SnapshotSource {
  const proc = opts.proc ?? '/proc';
  const path =
    d.pid === undefined ? join(proc, '<pid>', 'cmdline') : join(proc, String(d.pid), 'cmdline');
  return new SnapshotSource({
    kind: 'kube-proxy:args',
    argv: ['cat', path],
    ...opts,
    ...(d.argv === undefined ? { unavailable: "can't find a kube-proxy process" } : {}),
    // The argv captured at discovery: re-reading could hit a restarted (different) process.
    read: async () => ({
      stdout: kubeProxyArgsLines(d.argv ?? [])
        .map((a) => `${a}\n`)
        .join(''),
      stderr: '',
      exitCode: 0,
    }),
  });
}

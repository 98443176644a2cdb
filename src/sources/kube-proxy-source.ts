// kube-proxy's configuration on this node, without the API server: the running process (the PID whose
// /proc/PID/comm is `kube-proxy`), its NUL-separated /proc/PID/cmdline (src `kube-proxy:args`, one
// argv element per line) and its `--config` file read inside its mount namespace through
// /proc/PID/root/PATH (src `kube-proxy:config`, the YAML lines); without a process,
// /var/lib/kube-proxy/config.conf (kubeadm's mount path) on the host.
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EnvironmentError } from '../errors.js';
import { listPids } from '../host/procfs.js';
import { SnapshotSource, type SnapshotOptions } from './snapshot-source.js';

export const DEFAULT_KUBE_PROXY_CONFIG = '/var/lib/kube-proxy/config.conf';

/** Splits /proc/PID/cmdline (NUL-separated, NUL-terminated) into argv (pure). */
export function parseCmdline(raw: string): string[] {
  const parts = raw.split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** The `--config` value of a kube-proxy argv: pflag takes `--config=F` and `--config F` (pure). */
export function configFlag(argv: readonly string[]): string | undefined {
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a.startsWith('--config=')) return a.slice('--config='.length) || undefined;
    if (a === '--config') return argv[i + 1];
  }
  return undefined;
}

export interface KubeProxyDiscovery {
  /** Where the config came from: the user's file, the running process, the default path, or nowhere. */
  readonly origin: 'user' | 'process' | 'default-path' | 'none';
  readonly pid?: number;
  /** kube-proxy's own argv, when a process was found. */
  readonly argv?: readonly string[];
  /** The `--config` path as kube-proxy sees it. */
  readonly configPath?: string;
  /** Where kdiag reads it (`/proc/PID/root/…` for a containerised kube-proxy). */
  readonly readPath?: string;
  /** Why there is no config file, when there is none. */
  readonly note?: string;
}

export interface DiscoverOptions {
  /** `--kube-proxy-config FILE`: an explicit file wins over discovery (the user knows better). */
  readonly userConfig?: string;
  readonly proc?: string;
  readonly defaultConfig?: string;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Finds kube-proxy processes by /proc/PID/comm (lowest pid first). */
export async function findKubeProxyPids(proc = '/proc'): Promise<number[]> {
  const pids: number[] = [];
  for (const pid of await listPids(proc)) {
    try {
      if ((await readFile(join(proc, String(pid), 'comm'), 'utf8')).replace(/\n$/, '') === 'kube-proxy') pids.push(pid);
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** Locates kube-proxy's argv and configuration file on this node. */
export async function discoverKubeProxy(opts: DiscoverOptions = {}): Promise<KubeProxyDiscovery> {
  const proc = opts.proc ?? '/proc';
  const defaultConfig = opts.defaultConfig ?? DEFAULT_KUBE_PROXY_CONFIG;
  let found: { pid: number; argv: string[] } | undefined;
  for (const pid of await findKubeProxyPids(proc)) {
    try {
      const argv = parseCmdline(await readFile(join(proc, String(pid), 'cmdline'), 'utf8'));
      if (argv.length > 0) {
        found = { pid, argv };
        break;
      }
    } catch {
      // exited meanwhile
    }
  }
  const proc$ = found === undefined ? {} : { pid: found.pid, argv: found.argv };
  if (opts.userConfig !== undefined) return { origin: 'user', ...proc$, configPath: opts.userConfig, readPath: opts.userConfig };
  if (found !== undefined) {
    const configPath = configFlag(found.argv);
    if (configPath !== undefined) {
      // The path is inside kube-proxy's mount namespace (a ConfigMap volume in the DaemonSet pod).
      const readPath = configPath.startsWith('/') ? join(proc, String(found.pid), 'root', configPath) : join(proc, String(found.pid), 'cwd', configPath);
      return { origin: 'process', ...proc$, configPath, readPath };
    }
    if (await exists(defaultConfig)) return { origin: 'default-path', ...proc$, configPath: defaultConfig, readPath: defaultConfig };
    return { origin: 'process', ...proc$, note: 'kube-proxy runs without --config: its flags are its settings' };
  }
  if (await exists(defaultConfig)) return { origin: 'default-path', configPath: defaultConfig, readPath: defaultConfig };
  return { origin: 'none', note: `no kube-proxy process, no ${defaultConfig}` };
}

/** The config file as a snapshot (src `kube-proxy:config`), recorded as `cat READPATH`. */
export function kubeProxyConfigSource(d: KubeProxyDiscovery, opts: Omit<SnapshotOptions, 'netns'> = {}): SnapshotSource {
  const readPath = d.readPath;
  return new SnapshotSource({
    kind: 'kube-proxy:config',
    argv: ['cat', readPath ?? DEFAULT_KUBE_PROXY_CONFIG],
    ...opts,
    ...(readPath === undefined ? { unavailable: "can't find kube-proxy's config (give --kube-proxy-config FILE)" } : {}),
    read: async () => {
      try {
        return { stdout: await readFile(readPath!, 'utf8'), stderr: '', exitCode: 0 };
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'ENOENT') throw new EnvironmentError('KDIAG_ENVIRONMENT', `can't read kube-proxy's config ${readPath}: no such file`, 'give the file with --kube-proxy-config FILE');
        return { stdout: '', stderr: `cat: ${readPath}: ${(err as Error).message}\n`, exitCode: 1 };
      }
    },
  });
}

/** The process's argv, one element per line (src `kube-proxy:args`), recorded as `cat /proc/PID/cmdline`. */
export function kubeProxyArgsSource(d: KubeProxyDiscovery, opts: Omit<SnapshotOptions, 'netns'> & { readonly proc?: string } = {}): SnapshotSource {
  const proc = opts.proc ?? '/proc';
  const path = d.pid === undefined ? join(proc, '<pid>', 'cmdline') : join(proc, String(d.pid), 'cmdline');
  return new SnapshotSource({
    kind: 'kube-proxy:args',
    argv: ['cat', path],
    ...opts,
    ...(d.argv === undefined ? { unavailable: "can't find a kube-proxy process" } : {}),
    // The argv captured at discovery: re-reading could hit a restarted (different) process.
    read: async () => ({ stdout: (d.argv ?? []).map((a) => `${a.replace(/\n/g, ' ')}\n`).join(''), stderr: '', exitCode: 0 }),
  });
}

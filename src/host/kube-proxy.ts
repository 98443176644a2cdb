// kube-proxy on this node, without the API server: the running process (the PID whose
// /proc/PID/comm is `kube-proxy`), its NUL-separated /proc/PID/cmdline, and its `--config` file read
// inside its mount namespace through /proc/PID/root/PATH; without a process,
// /var/lib/kube-proxy/config.conf (kubeadm's mount path) on the host. The one reader of both for
// doctor, check and the recorded sources; the settings (mode first) come from one decision,
// resolveKubeProxy, the same the analysis applies to the recorded lines.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeProxySettings } from '../model/kube-proxy.js';
import { parseKubeProxyArgs, resolveKubeProxy } from '../parse/kube-proxy-args.js';
import { parseKubeProxyConfig } from '../parse/kube-proxy-config.js';
import { pathExists } from './atomic-file.js';
import { listPids } from './procfs.js';

export const DEFAULT_KUBE_PROXY_CONFIG = '/var/lib/kube-proxy/config.conf';

/** Splits /proc/PID/cmdline (NUL-separated, NUL-terminated) into argv (pure). */
export function parseCmdline(raw: string): string[] {
  const parts = raw.split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** The argv as the `kube-proxy:args` source records it: one element per line (pure). */
export function kubeProxyArgsLines(argv: readonly string[]): string[] {
  return argv.map((a) => a.replace(/\n/g, ' '));
}

/** The `--config` path of a kube-proxy argv, read the way the analysis reads the recorded lines (pure). */
export function configFlag(argv: readonly string[]): string | undefined {
  return parseKubeProxyArgs(kubeProxyArgsLines(argv).join('\n')).value.configPath || undefined;
}

/**
 * kube-proxy's effective settings from its argv and config text, either possibly unknown: the config
 * file wins when --config names it, flags count only without it (pure; the decision the analysis makes).
 */
export function kubeProxySettingsOf(
  argv: readonly string[] | undefined,
  configText: string | undefined,
): KubeProxySettings {
  const args =
    argv === undefined ? undefined : parseKubeProxyArgs(kubeProxyArgsLines(argv).join('\n'));
  return resolveKubeProxy(
    args,
    configText === undefined ? undefined : parseKubeProxyConfig(configText),
  );
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

/** Finds kube-proxy processes by /proc/PID/comm (lowest pid first). */
export async function findKubeProxyPids(proc = '/proc'): Promise<number[]> {
  const pids: number[] = [];
  for (const pid of await listPids(proc)) {
    try {
      if (
        (await readFile(join(proc, String(pid), 'comm'), 'utf8')).replace(/\n$/, '') ===
        'kube-proxy'
      )
        pids.push(pid);
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
  if (opts.userConfig !== undefined)
    return { origin: 'user', ...proc$, configPath: opts.userConfig, readPath: opts.userConfig };
  if (found !== undefined) {
    const configPath = configFlag(found.argv);
    if (configPath !== undefined) {
      // The path is inside kube-proxy's mount namespace (a ConfigMap volume in the DaemonSet pod).
      const readPath = configPath.startsWith('/')
        ? join(proc, String(found.pid), 'root', configPath)
        : join(proc, String(found.pid), 'cwd', configPath);
      return { origin: 'process', ...proc$, configPath, readPath };
    }
    if (await pathExists(defaultConfig))
      return {
        origin: 'default-path',
        ...proc$,
        configPath: defaultConfig,
        readPath: defaultConfig,
      };
    return {
      origin: 'process',
      ...proc$,
      note: 'kube-proxy runs without --config: its flags are its settings',
    };
  }
  if (await pathExists(defaultConfig))
    return { origin: 'default-path', configPath: defaultConfig, readPath: defaultConfig };
  return { origin: 'none', note: `no kube-proxy process, no ${defaultConfig}` };
}

/** What kdiag knows of kube-proxy here: where it is, its config text, and the settings both give. */
export interface KubeProxyReading {
  readonly discovery: KubeProxyDiscovery;
  /** The config file's text, when one was found and could be read. */
  readonly configText?: string;
  readonly settings: KubeProxySettings;
}

/** Discovers kube-proxy and reads its config file: one reading for doctor and check alike. */
export async function readKubeProxy(opts: DiscoverOptions = {}): Promise<KubeProxyReading> {
  const discovery = await discoverKubeProxy(opts);
  let configText: string | undefined;
  if (discovery.readPath !== undefined)
    configText = await readFile(discovery.readPath, 'utf8').catch(() => undefined);
  return {
    discovery,
    ...(configText === undefined ? {} : { configText }),
    settings: kubeProxySettingsOf(discovery.argv, configText),
  };
}

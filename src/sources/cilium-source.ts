// Cilium's BPF conntrack and CT timeouts as recorded sources, on a node that runs the agent:
// `cilium:ct` is `cilium-dbg bpf ct list global -d`, run from PATH or, when only the agent's
// container has it, inside the agent's mount namespace (`nsenter -t PID -m`); `cilium:config` is
// what the agent was started with: its CT flags from /proc/PID/cmdline and the cilium-config keys
// it reads from its --config-dir (one file per key), through /proc/PID/root.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { which } from '../host/exec.js';
import { listPids } from '../host/procfs.js';
import { SnapshotSource, type SnapshotOptions } from './snapshot-source.js';

/** Where the agent's ConfigMap is mounted when --config-dir is not given (the Helm chart's path). */
export const CILIUM_DEFAULT_CONFIG_DIR = '/tmp/cilium/config-map';

const CT_ARGS = ['bpf', 'ct', 'list', 'global', '-d'] as const;

/** A running cilium-agent. */
export interface CiliumAgent {
  readonly pid: number;
  readonly argv: readonly string[];
  /** Its --config-dir, as a path inside its own mount namespace. */
  readonly configDir: string;
}

/** The agent's --config-dir, from `--config-dir=D` or `--config-dir D`. */
export function ciliumConfigDir(argv: readonly string[]): string {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--config-dir=')) return a.slice('--config-dir='.length);
    if (a === '--config-dir' && argv[i + 1] !== undefined) return argv[i + 1]!;
  }
  return CILIUM_DEFAULT_CONFIG_DIR;
}

/** Finds the cilium-agent process under `proc` (its comm), or undefined. */
export async function findCiliumAgent(proc = '/proc'): Promise<CiliumAgent | undefined> {
  for (const pid of await listPids(proc)) {
    let comm: string;
    try {
      comm = (await readFile(join(proc, String(pid), 'comm'), 'utf8')).trim();
    } catch {
      continue;
    }
    if (comm !== 'cilium-agent') continue;
    try {
      const raw = await readFile(join(proc, String(pid), 'cmdline'), 'utf8');
      const argv = raw.split('\0').filter((x) => x !== '');
      return { pid, argv, configDir: ciliumConfigDir(argv) };
    } catch {
      continue;
    }
  }
  return undefined;
}

/** The argv that lists the CT maps: cilium-dbg on PATH, else inside the agent's mount namespace. */
export async function ciliumCtArgv(
  agent: CiliumAgent | undefined,
): Promise<readonly string[] | undefined> {
  if ((await which('cilium-dbg')) !== undefined) return ['cilium-dbg', ...CT_ARGS];
  if (agent === undefined) return undefined;
  return ['nsenter', '-t', String(agent.pid), '-m', '--', 'cilium-dbg', ...CT_ARGS];
}

/** `cilium-dbg bpf ct list global -d` as a snapshot (src `cilium:ct`). */
export async function ciliumCtSource(
  agent: CiliumAgent | undefined,
  opts: Omit<SnapshotOptions, 'netns'> = {},
): Promise<SnapshotSource> {
  const argv = await ciliumCtArgv(agent);
  return new SnapshotSource({
    kind: 'cilium:ct',
    argv: argv ?? ['cilium-dbg', ...CT_ARGS],
    ...opts,
    ...(argv === undefined
      ? { unavailable: 'no cilium-dbg on PATH and no cilium-agent process on this node' }
      : {}),
  });
}

/** The agent's CT settings as `key: value` lines, then its `--bpf-ct-…` flags (src `cilium:config`). */
export function ciliumConfigSource(
  agent: CiliumAgent | undefined,
  opts: Omit<SnapshotOptions, 'netns'> & { readonly proc?: string } = {},
): SnapshotSource {
  const { proc = '/proc', ...rest } = opts;
  const dir =
    agent === undefined ? undefined : join(proc, String(agent.pid), 'root', agent.configDir);
  return new SnapshotSource({
    kind: 'cilium:config',
    argv: ['cat', `${dir ?? join(proc, '<pid>', 'root', CILIUM_DEFAULT_CONFIG_DIR)}/*`],
    ...rest,
    ...(agent === undefined ? { unavailable: "can't find a cilium-agent process" } : {}),
    read: async () => {
      const lines: string[] = [];
      let stderr = '';
      try {
        for (const name of (await readdir(dir!)).sort()) {
          // Only the keys kdiag reads: the ConfigMap holds secrets-free but unrelated settings too.
          if (!/^(bpf-ct-timeout-[a-z-]+|conntrack-gc-(max-)?interval)$/.test(name)) continue;
          const v = (await readFile(join(dir!, name), 'utf8')).trim();
          lines.push(`${name}: ${v}`);
        }
      } catch (err) {
        stderr = `cat: ${dir}: ${(err as Error).message}\n`;
      }
      for (const a of agent?.argv ?? [])
        if (/^--(bpf-ct-timeout-|conntrack-gc-)/.test(a)) lines.push(a);
      return {
        stdout: lines.map((l) => `${l}\n`).join(''),
        stderr,
        exitCode: stderr !== '' && lines.length === 0 ? 1 : 0,
      };
    },
  });
}

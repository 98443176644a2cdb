// Calico's eBPF data plane on this node: its conntrack map, dumped by the calico-node binary inside
// the calico-node container (`nsenter -t PID -m`: the binary is in the container's filesystem; the
// map is pinned under /sys/fs/bpf, which the container shares), and the cluster's
// FelixConfiguration (`kubectl get felixconfiguration default -o yaml`). Read-only.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../host/exec.js';
import { listPids } from '../host/procfs.js';
import { SnapshotSource, commandSource, type SnapshotOptions } from './snapshot-source.js';

/** `--raw`: one `ConntrackKey{…} -> Entry{…}` line per map entry, NAT forward entries included. */
export const CALICO_CT_ARGV = ['calico-node', '-bpf', 'conntrack', 'dump', '--raw'] as const;
export const FELIX_CONFIG_ARGV = [
  'kubectl',
  'get',
  'felixconfiguration',
  'default',
  '-o',
  'yaml',
] as const;

/** calico-node processes by /proc/PID/comm (lowest pid first: the one that started the others). */
export async function findCalicoNodePids(proc = '/proc'): Promise<number[]> {
  const pids: number[] = [];
  for (const pid of await listPids(proc)) {
    try {
      const comm = (await readFile(join(proc, String(pid), 'comm'), 'utf8')).replace(/\n$/, '');
      if (comm === 'calico-node') pids.push(pid);
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** The command that runs the dump inside the container of process `pid`. */
export function calicoCtRan(pid: number): string[] {
  return ['nsenter', '-t', String(pid), '-m', '--', ...CALICO_CT_ARGV];
}

/** Snapshot of Calico's eBPF conntrack map, or an unavailable source when calico-node is not running. */
export function calicoConntrackSource(
  pid: number | undefined,
  opts: { readonly timeoutMs?: number } = {},
): SnapshotSource {
  const base = { kind: 'calico:conntrack', argv: CALICO_CT_ARGV };
  if (pid === undefined)
    return new SnapshotSource({ ...base, unavailable: 'no calico-node process on this node' });
  // The map is the node's, whatever network namespace kdiag was asked to look at.
  const ran = calicoCtRan(pid);
  return new SnapshotSource({
    ...base,
    read: () => run(ran, { reject: false, timeoutMs: opts.timeoutMs ?? 120_000 }),
  });
}

/** Snapshot of the FelixConfiguration named default. */
export function felixConfigSource(opts: SnapshotOptions = {}): SnapshotSource {
  return commandSource('calico:felixconfig', FELIX_CONFIG_ARGV, opts);
}

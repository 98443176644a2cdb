// Finds the live network namespace a change goes into when it is not the node's: a named one, or a
// process's (a pod's that has no name under /run/netns), by pid or by the label kdiag gave it
// (netnsScope: `pod_NAMESPACE_NAME`, `pod_UID`, `netns_INODE`).
import { UsageError } from '../errors.js';
import { hostNetnsId, namedNetnsInode, pidNetnsId } from '../host/netns.js';
import { netnsScope, readOwners } from '../host/owners.js';
import { NODE, targetFor, type Target } from './target.js';

/** The network namespace of process `pid` (the node itself when that is the node's). */
export async function pidTarget(pid: number, label?: string): Promise<Target> {
  const nsId = await pidNetnsId(pid);
  if (nsId === undefined)
    throw new UsageError(
      `no process ${pid}`,
      'give the pid of a process in the pod (ps, crictl inspect)',
    );
  if (nsId === (await hostNetnsId())) return NODE;
  return label === undefined ? { kind: 'pid', pid, nsId } : { kind: 'pid', pid, nsId, label };
}

/** The namespace a suggestion names by its scope label: a named netns, else a pod's found through its processes. */
export async function scopeTarget(label: string): Promise<Target> {
  if ((await namedNetnsInode(label)) !== undefined) return targetFor(label);
  const owners = await readOwners();
  const ns = owners.netns.find(
    (n) => !n.host && n.enterPid !== undefined && netnsScope(n, owners.pods) === label,
  );
  if (ns?.enterPid === undefined) {
    throw new UsageError(
      `no network namespace named ${label.slice(0, 80)} under /run/netns, and no process in one kdiag calls so`,
      'the pod may be gone: re-run kdiag check',
    );
  }
  return pidTarget(ns.enterPid, label);
}

/** The namespace finder apply plans with on this host. */
export function systemNamespaces(): {
  pidTarget: typeof pidTarget;
  scopeTarget: typeof scopeTarget;
} {
  return { pidTarget, scopeTarget };
}

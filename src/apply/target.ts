// Where a change is made: the node (init network namespace), a named network namespace, or the
// network namespace of a process (a pod's, which has no name under /run/netns). A process target
// carries the namespace's identity (`dev:inode`) taken when it was chosen: every read and write
// enters the namespace through one open descriptor and checks that identity first, so a pid that
// exited and was reused never leads a write into another namespace.
import { UsageError } from '../errors.js';

export type Target =
  | { readonly kind: 'node' }
  | { readonly kind: 'netns'; readonly name: string }
  | { readonly kind: 'pid'; readonly pid: number; readonly nsId: string; readonly label?: string };

export const NODE: Target = { kind: 'node' };

// iproute2 keeps named namespaces as files in /run/netns: a plain file name, no slashes.
const NETNS_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** Builds a target from a `--netns` flag value (undefined = the node). */
export function targetFor(netns: string | undefined): Target {
  if (netns === undefined) return NODE;
  if (!NETNS_NAME.test(netns) || netns === '.' || netns === '..') {
    throw new UsageError(
      `--netns ${JSON.stringify(netns.slice(0, 70))}: not a network namespace name`,
      'list them with: ip netns list',
    );
  }
  return { kind: 'netns', name: netns };
}

/** Parses a `--pid` flag value: a process id (its network namespace is looked up later). */
export function pidOf(text: string): number {
  if (!/^[0-9]{1,10}$/.test(text.trim()) || Number(text) < 1 || Number(text) > 4_194_304) {
    throw new UsageError(
      `--pid ${JSON.stringify(text.slice(0, 20))}: not a process id`,
      'e.g. the pid of a process in the pod, from ps or crictl inspect',
    );
  }
  return Number(text);
}

/** The netns name to pass to `run`/`withNetns`, or undefined for the node and for a process target. */
export function netnsOf(target: Target): string | undefined {
  return target.kind === 'netns' ? target.name : undefined;
}

/** Short human form: `node`, `netns NAME` or `netns of pid N (LABEL)`. */
export function describeTarget(target: Target): string {
  if (target.kind === 'node') return 'node';
  if (target.kind === 'netns') return `netns ${target.name}`;
  return `netns of pid ${target.pid}${target.label === undefined ? '' : ` (${target.label})`}`;
}

/** The target as the journal stores it (a process target's namespace identity goes in the entry's nsId). */
export function journalTarget(
  target: Target,
):
  | { kind: 'node' }
  | { kind: 'netns'; name: string }
  | { kind: 'pid'; pid: number; label?: string } {
  if (target.kind === 'node') return { kind: 'node' };
  if (target.kind === 'netns') return { kind: 'netns', name: target.name };
  return target.label === undefined
    ? { kind: 'pid', pid: target.pid }
    : { kind: 'pid', pid: target.pid, label: target.label };
}

/** A journal entry's target back as a Target (a process target with the entry's nsId). */
export function fromJournal(
  t: {
    readonly kind: string;
    readonly name?: unknown;
    readonly pid?: unknown;
    readonly label?: unknown;
  },
  nsId: string | undefined,
): Target {
  if (t.kind === 'netns') return { kind: 'netns', name: String(t.name) };
  if (t.kind === 'pid')
    return {
      kind: 'pid',
      pid: Number(t.pid),
      nsId: nsId ?? '',
      ...(typeof t.label === 'string' ? { label: t.label } : {}),
    };
  return NODE;
}

// Where a change is made: the node (init network namespace) or a named network namespace.
// A pod's netns by pid fits as a third member later: `{ kind: 'pid'; pid; nsId }`, run through
// `nsenter -t PID -n`, with nsId checked before every write (a pid can be reused; a netns inode
// identifies the namespace itself).
import { UsageError } from '../errors.js';

export type Target = { readonly kind: 'node' } | { readonly kind: 'netns'; readonly name: string };

export const NODE: Target = { kind: 'node' };

// iproute2 keeps named namespaces as files in /run/netns: a plain file name, no slashes.
const NETNS_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** Builds a target from a `--netns` flag value (undefined = the node). */
export function targetFor(netns: string | undefined): Target {
  if (netns === undefined) return NODE;
  if (!NETNS_NAME.test(netns) || netns === '.' || netns === '..') {
    throw new UsageError(`--netns ${JSON.stringify(netns.slice(0, 70))}: not a network namespace name`, 'list them with: ip netns list');
  }
  return { kind: 'netns', name: netns };
}

/** The netns name to pass to `run`/`withNetns`, or undefined for the node. */
export function netnsOf(target: Target): string | undefined {
  return target.kind === 'netns' ? target.name : undefined;
}

/** Short human form: `node` or `netns NAME`. */
export function describeTarget(target: Target): string {
  return target.kind === 'node' ? 'node' : `netns ${target.name}`;
}

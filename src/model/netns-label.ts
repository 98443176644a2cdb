// The label kdiag gives a network namespace: the scope after `@` in a source id (`ss:sockets@LABEL`),
// a bundle file name (`ss@LABEL.txt`) and the `netns-label` meta that ties probe events (which only
// know the inode) to those sources. One rule for all of them, so a namespace has one label. Pure.

/** What the label is made from: the namespace's names under /run/netns, its inode, and the pod in it. */
export interface NetnsLabelInput {
  readonly ino: number;
  readonly names: readonly string[];
  /** The first pod with a process in the namespace, as far as it is known. */
  readonly pod?:
    | {
        readonly uid: string;
        readonly namespace?: string | undefined;
        readonly name?: string | undefined;
      }
    | undefined;
}

// A label goes into file names and source ids: a plain component of bounded length.
const SAFE = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The namespace's label, limited to `[A-Za-z0-9._-]`, at most 64 characters: its first /run/netns
 * name, else `pod_<namespace>_<name>` (`_` cannot occur in either, as in the kubelet's log folders),
 * else `pod_<uid>` (a long pod name does not fit), else `netns_<inode>`.
 */
export function netnsLabel(ns: NetnsLabelInput): string {
  const name = ns.names[0];
  if (name !== undefined && SAFE.test(name)) return name;
  const pod = ns.pod;
  if (pod?.namespace && pod.name) {
    const byName = `pod_${pod.namespace}_${pod.name}`;
    if (SAFE.test(byName)) return byName;
  }
  if (pod !== undefined) return `pod_${pod.uid}`;
  return `netns_${ns.ino}`;
}

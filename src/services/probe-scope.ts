// Which network namespaces trace's probes keep, filtered in the kernel: the ones `--probe-netns`
// names, or with `--netns NODE` NODE and every named namespace wired to it over veths.
import { EnvironmentError, UsageError } from '../errors.js';
import { describeNetnsScope } from '../parse/netns-veth.js';
import { namedNetnsInode } from '../host/netns.js';
import { NETNS_FILTER_CAP, readNetnsScope } from '../host/netns-scope.js';

export interface ProbeScope {
  /** Inodes the probes keep; undefined = every namespace. */
  readonly inodes?: readonly number[];
  /** The namespaces by name, in the same order as inodes. */
  readonly names?: readonly string[];
  /** What the filter covers and what it leaves out, for the user and the recording. */
  readonly notes: readonly string[];
}

/** Resolves the probes' netns filter; `probeNetns` (explicit names) wins over `netns`. */
export async function probeScope(o: {
  readonly netns?: string;
  readonly probeNetns?: readonly string[];
}): Promise<ProbeScope> {
  const explicit = [...new Set(o.probeNetns ?? [])];
  if (explicit.length > NETNS_FILTER_CAP)
    throw new UsageError(
      `--probe-netns names ${explicit.length} namespaces; the probes' filter holds at most ${NETNS_FILTER_CAP}`,
    );
  if (explicit.length > 0) {
    const inodes: number[] = [];
    for (const name of explicit) {
      const ino = await namedNetnsInode(name);
      if (ino === undefined)
        throw new EnvironmentError(
          'KDIAG_ENVIRONMENT',
          `can't filter probes to network namespace ${name}: no /run/netns/${name}`,
          'list them with: ip netns list',
        );
      inodes.push(ino);
    }
    const list = explicit.map((n, i) => `${n} (inode ${inodes[i]})`).join(', ');
    return {
      inodes,
      names: explicit,
      notes: [
        `probes filtered in the kernel to ${explicit.length === 1 ? 'network namespace' : 'network namespaces'} ${list} (--probe-netns): other namespaces' events are not traced`,
      ],
    };
  }
  if (o.netns === undefined) return { notes: [] };
  const scope = await readNetnsScope(o.netns);
  const d = describeNetnsScope(o.netns, scope, NETNS_FILTER_CAP);
  return d.inodes === undefined
    ? { notes: d.notes }
    : { inodes: d.inodes, names: scope.traced.map((t) => t.name), notes: d.notes };
}

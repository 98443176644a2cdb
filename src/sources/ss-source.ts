// Socket snapshots: `ss -tinoeH` (TCP, internal info, timers, extended: ino/uid/sk; no header), in the
// host, a named netns (`nsenter --net=/run/netns/NAME`) or a pod's netns entered by pid
// (`nsenter --net=/proc/PID/ns/net ss -tinoeH`).
import { which, run } from '../host/exec.js';
import { inPidNetns } from '../host/netns.js';
import { netnsScope, podNetns, type OwnersTable } from '../host/owners.js';
import {
  commandSource,
  SnapshotSource,
  toolMissing,
  type SnapshotOptions,
} from './snapshot-source.js';

export const SS_ARGV = ['ss', '-tinoeH'] as const;

/** Sockets of the host or of a named netns (src `ss:sockets[@netns]`). */
export function ssSource(opts: SnapshotOptions = {}): SnapshotSource {
  return commandSource('ss:sockets', SS_ARGV, opts);
}

/** The argv that runs ss inside the netns of a process (a pod's sandbox), without a named netns. */
export function ssInPidNetnsArgv(pid: number): string[] {
  return inPidNetns(pid, SS_ARGV);
}

/**
 * Sockets of an unnamed netns, entered through a process in it (src `ss:sockets@<scope>`, the scope
 * naming the pod, see owners.ts `netnsScope`).
 */
export function ssInPidNetnsSource(
  pid: number,
  scope: string,
  opts: Omit<SnapshotOptions, 'netns'> = {},
): SnapshotSource {
  const argv = ssInPidNetnsArgv(pid);
  return new SnapshotSource({
    kind: 'ss:sockets',
    argv,
    scope,
    ...opts,
    read: async () => {
      for (const tool of ['nsenter', 'ss'])
        if ((await which(tool)) === undefined) throw toolMissing(tool);
      return run(argv, { reject: false, timeoutMs: opts.timeoutMs ?? 60_000 });
    },
  });
}

/** One ss source per pod network namespace of an owners table (the host's is `ssSource()`). */
export function podSocketSources(
  table: OwnersTable,
  opts: Omit<SnapshotOptions, 'netns'> = {},
): SnapshotSource[] {
  return podNetns(table).map((ns) =>
    ssInPidNetnsSource(ns.enterPid!, netnsScope(ns, table.pods), opts),
  );
}

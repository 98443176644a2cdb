// Open vSwitch's conntrack (Antrea, OVN-Kubernetes): `ovs-appctl dpctl/dump-conntrack -m -s` talks
// to ovs-vswitchd over its unixctl socket; -m adds ids and status, -s counters and the timeout.
// Read-only.
import { which } from '../host/exec.js';
import { SnapshotSource } from './snapshot-source.js';

export const OVS_CT_ARGV = ['ovs-appctl', 'dpctl/dump-conntrack', '-m', '-s'] as const;

/** Snapshot of OVS's conntrack entries, or an unavailable source when ovs-appctl is not on PATH. */
export async function ovsConntrackSource(
  opts: { readonly timeoutMs?: number } = {},
): Promise<SnapshotSource> {
  const base = { kind: 'ovs:conntrack', argv: OVS_CT_ARGV };
  if ((await which('ovs-appctl')) === undefined)
    return new SnapshotSource({ ...base, unavailable: 'ovs-appctl not on PATH (no OVS here)' });
  return new SnapshotSource({
    ...base,
    ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
  });
}

// /proc/net/netlink (or /proc/PID/net/netlink, the netns of PID): one row per netlink socket of the
// namespace. kdiag reads the Drops column of conntrack -E's event socket: the kernel counts there every
// event message it could not queue (netlink_overrun), while conntrack prints one ENOBUFS warning per
// overflow, however many events it lost.
//   sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode
//   0000000060c31904 12  2406710042 00000007 0        0        0     2        0        324974

/** One socket's row. */
export interface NetlinkSocketRow {
  /** Netlink protocol (12 = NETLINK_NETFILTER). */
  readonly protocol: number;
  readonly portId: number;
  /** The first 32 multicast groups it listens to, as a bit mask. */
  readonly groups: number;
  readonly rmem: number;
  readonly drops: number;
  readonly inode: number;
}

export const NETLINK_NETFILTER = 12;

/** Parses the table (pure); rows that do not have the ten columns as numbers are skipped. */
export function parseProcNetNetlink(text: string): NetlinkSocketRow[] {
  const rows: NetlinkSocketRow[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !/^[0-9a-f]+$/i.test(f[0]!)) continue;
    const protocol = Number(f[1]);
    const portId = Number(f[2]);
    const groups = /^[0-9a-f]{1,8}$/i.test(f[3]!) ? Number.parseInt(f[3]!, 16) : Number.NaN;
    const rmem = Number(f[4]);
    const drops = Number(f[8]);
    const inode = Number(f[9]);
    if (
      ![protocol, portId, groups, rmem, drops, inode].every(
        (n) => Number.isSafeInteger(n) && n >= 0,
      )
    )
      continue;
    rows.push({ protocol, portId, groups, rmem, drops, inode });
  }
  return rows;
}

/** The drops of the netfilter sockets among `inodes` that listen to some group (the event sockets), summed; undefined when none is there. */
export function eventSocketDrops(
  rows: readonly NetlinkSocketRow[],
  inodes: ReadonlySet<number>,
): number | undefined {
  let sum: number | undefined;
  for (const r of rows) {
    if (r.protocol === NETLINK_NETFILTER && r.groups !== 0 && inodes.has(r.inode))
      sum = (sum ?? 0) + r.drops;
  }
  return sum;
}

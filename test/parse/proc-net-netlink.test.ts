import { describe, expect, it } from 'vitest';
import { eventSocketDrops, parseProcNetNetlink } from '../../src/parse/proc-net-netlink.js';

// /proc/net/netlink of a netns with `conntrack -E -b 8388608` (conntrack 1.4.7) running, kernel 6.18:
// its two netfilter sockets (groups 0 with the 16 MiB buffer, groups 7 = NEW|UPDATE|DESTROY for the
// events), the kernel's own, then a route socket.
const TABLE = `sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode
00000000c4d5758a 12  20602      00000000 0        0        0     2        0        324973  
0000000060c31904 12  2406710042 00000007 212480   0        0     2        77       324974  
000000002ee6885d 12  0          00000000 0        0        0     2        0        324963  
000000009f1e22aa 0   0          00000000 0        0        0     2        0        324960  
`;

describe('parseProcNetNetlink', () => {
  it('reads every row of the real format', () => {
    const rows = parseProcNetNetlink(TABLE);
    expect(rows).toHaveLength(4);
    expect(rows[1]).toEqual({
      protocol: 12,
      portId: 2406710042,
      groups: 7,
      rmem: 212480,
      drops: 77,
      inode: 324974,
    });
  });

  it('skips the header, short and non-numeric rows', () => {
    expect(parseProcNetNetlink('sk Eth Pid\n00ab 12 1 zz 0 0 0 2 0 5\n00ab 12 1\n\n')).toEqual([]);
  });
});

describe('eventSocketDrops', () => {
  it('sums the drops of the process’s netfilter sockets that listen to a group', () => {
    const rows = parseProcNetNetlink(TABLE);
    expect(eventSocketDrops(rows, new Set([324973, 324974]))).toBe(77);
    // the groups-0 socket alone is not an event socket
    expect(eventSocketDrops(rows, new Set([324973]))).toBeUndefined();
    // another process's event socket is not ours
    expect(eventSocketDrops(rows, new Set([1]))).toBeUndefined();
  });
});

// How many events the kernel dropped for a process's netfilter event socket: its socket inodes from
// /proc/PID/fd, their rows from /proc/PID/net/netlink (the process's netns, read without entering it).
import { readdir, readFile, readlink } from 'node:fs/promises';
import { eventSocketDrops, parseProcNetNetlink } from '../parse/proc-net-netlink.js';

/** The drop count of pid's netfilter event socket(s), or undefined when the process or socket is gone. */
export async function readEventSocketDrops(
  pid: number,
  proc = '/proc',
): Promise<number | undefined> {
  try {
    const inodes = new Set<number>();
    for (const fd of await readdir(`${proc}/${pid}/fd`)) {
      const target = await readlink(`${proc}/${pid}/fd/${fd}`).catch(() => '');
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m) inodes.add(Number(m[1]));
    }
    if (inodes.size === 0) return undefined;
    return eventSocketDrops(
      parseProcNetNetlink(await readFile(`${proc}/${pid}/net/netlink`, 'utf8')),
      inodes,
    );
  } catch {
    return undefined;
  }
}

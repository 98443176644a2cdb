// Finding conntrack's event socket among its descriptors (a fake /proc), and the status line that
// says what buffer it got: never read as a loss.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findEventSocketFd } from '../../src/sources/event-socket-buffer.js';
import { bufferLine } from '../../src/sources/conntrack-source.js';
import { lostEventCount } from '../../src/parse/lost-events.js';

// /proc/PID/net/netlink as Linux 6.18 prints it (net/netlink/af_netlink.c netlink_seq_show).
const NETLINK = [
  'sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode',
  '000000002fffe2de 12  2566797179 00000007 0        0        0     2        0        854630  ',
  '00000000a5fc45fb 12  0          00000000 0        0        0     2        0        853633  ',
  '000000008a46fe07 12  11907      00000000 0        0        0     2        0        854629  ',
  '00000000deadbeef 0   900        00000011 0        0        0     2        0        854700  ',
  '',
].join('\n');

function fakeProc(fds: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'kdiag-proc-'));
  mkdirSync(join(root, '42', 'fd'), { recursive: true });
  mkdirSync(join(root, '42', 'net'));
  writeFileSync(join(root, '42', 'net', 'netlink'), NETLINK);
  for (const [fd, target] of Object.entries(fds)) symlinkSync(target, join(root, '42', 'fd', fd));
  return root;
}

describe('conntrack event socket buffer', () => {
  it('finds the fd of the netfilter socket that listens to groups, not the -b one', async () => {
    const root = fakeProc({ '0': '/dev/null', '3': 'socket:[854629]', '4': 'socket:[854630]' });
    try {
      expect(await findEventSocketFd(42, root)).toBe(4);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('finds nothing before the socket is open, or for another process', async () => {
    const root = fakeProc({ '3': 'socket:[854629]', '5': 'socket:[854700]' });
    try {
      expect(await findEventSocketFd(42, root)).toBeUndefined();
      expect(await findEventSocketFd(43, root)).toBeUndefined();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('reports the buffer in a line the loss counters read as no loss', () => {
    const ok = bufferLine({ ok: true, bytes: 16777216 });
    const no = bufferLine({ ok: false, why: 'perl not found on PATH' });
    expect(ok).toMatch(/set to 16777216 bytes/);
    expect(no).toMatch(/keeps the default receive buffer .*perl not found/);
    expect(lostEventCount(ok)).toBe(0);
    expect(lostEventCount(no)).toBe(0);
  });
});

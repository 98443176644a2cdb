// Gives `conntrack -E`'s event socket the receive buffer `-b` asks for. conntrack-tools 1.4.7 and
// 1.4.8 (src/conntrack.c, CT_EVENT case of do_command_ct) apply --buffer-size with SO_RCVBUFFORCE to
// the query socket `sock`, not to `event_sock` they read events from; `ss -f netlink -m -e` shows it:
// rb16777216 on the socket with groups=0, rb212992 (net.core.rmem_default) on the one with
// groups=0x7. At ~160 events of buffer, a burst of conntrack gc expiries overflows it.
//
// The fix, without touching host defaults: a copy of conntrack's event socket descriptor is taken
// with pidfd_getfd(2) (Linux >= 5.6, root) and SO_RCVBUFFORCE set on it, which sets it on the one
// socket both descriptors name. Node has no syscall(2), perl (perl-base, on every Debian/Ubuntu
// node image) has; the script is given as an argument, never a shell string.
import { readdir, readFile, readlink } from 'node:fs/promises';
import { NETLINK_NETFILTER, parseProcNetNetlink } from '../parse/proc-net-netlink.js';
import { run, which } from '../host/exec.js';
import { sleep } from './sleep.js';

// pidfd_open = 434 and pidfd_getfd = 438 on every architecture (syscalls from 424 on share their
// numbers); SOL_SOCKET = 1, SO_RCVBUF = 8, SO_RCVBUFFORCE = 33 (asm-generic/socket.h).
const PERL_SET_RCVBUF = [
  'use strict;',
  'my ($pid, $fd, $size) = @ARGV;',
  'my $pidfd = syscall(434, $pid + 0, 0);',
  'die "pidfd_open: $!\\n" if $pidfd < 0;',
  'my $dup = syscall(438, $pidfd + 0, $fd + 0, 0);',
  'die "pidfd_getfd: $!\\n" if $dup < 0;',
  'open(my $fh, "+<&=", $dup) or die "fdopen: $!\\n";',
  'setsockopt($fh, 1, 33, pack("i", $size)) or die "SO_RCVBUFFORCE: $!\\n";',
  'print unpack("i", getsockopt($fh, 1, 8)), "\\n";',
].join(' ');

/** pid's netfilter socket that listens to events: its fd number and its queued bytes (Rmem). */
async function eventSocket(
  pid: number,
  proc: string,
): Promise<{ fd: number; queued: number } | undefined> {
  try {
    const rows = parseProcNetNetlink(await readFile(`${proc}/${pid}/net/netlink`, 'utf8'));
    const events = new Map(
      rows
        .filter((r) => r.protocol === NETLINK_NETFILTER && r.groups !== 0)
        .map((r) => [r.inode, r.rmem]),
    );
    if (events.size === 0) return undefined;
    for (const fd of await readdir(`${proc}/${pid}/fd`)) {
      const target = await readlink(`${proc}/${pid}/fd/${fd}`).catch(() => '');
      const m = /^socket:\[(\d+)\]$/.exec(target);
      const queued = m ? events.get(Number(m[1])) : undefined;
      if (queued !== undefined) return { fd: Number(fd), queued };
    }
  } catch {
    // the process is gone
  }
  return undefined;
}

/** The fd number (in pid) of its netfilter socket that listens to events, or undefined. */
export async function findEventSocketFd(pid: number, proc = '/proc'): Promise<number | undefined> {
  return (await eventSocket(pid, proc))?.fd;
}

/**
 * Waits (up to `timeoutMs`) until pid's event socket has nothing queued: what conntrack has not
 * read yet when it is stopped would go with it, uncounted (the kernel dropped none of it).
 */
export async function drainEventSocket(
  pid: number,
  timeoutMs = 3000,
  proc = '/proc',
): Promise<void> {
  const never = new AbortController().signal;
  for (let waited = 0; waited < timeoutMs; waited += 50) {
    const s = await eventSocket(pid, proc);
    if (s === undefined || s.queued === 0) return;
    await sleep(50, never);
  }
}

export type BufferOutcome =
  { readonly ok: true; readonly bytes: number } | { readonly ok: false; readonly why: string };

/**
 * Waits (up to `waitMs`) for pid's event socket, then sets its receive buffer to `size` bytes (the
 * kernel doubles it, and reports the doubled size).
 */
export async function enlargeEventSocket(
  pid: number,
  size: number,
  signal: AbortSignal,
  waitMs = 3000,
): Promise<BufferOutcome> {
  if ((await which('perl')) === undefined)
    return { ok: false, why: 'perl not found on PATH (it sets the buffer through pidfd_getfd)' };
  let fd: number | undefined;
  for (let waited = 0; waited <= waitMs && !signal.aborted; waited += 50) {
    fd = await findEventSocketFd(pid);
    if (fd !== undefined) break;
    await sleep(50, signal);
  }
  if (fd === undefined) return { ok: false, why: 'no event socket found in /proc' };
  const r = await run(['perl', '-e', PERL_SET_RCVBUF, String(pid), String(fd), String(size)], {
    reject: false,
    timeoutMs: 5000,
  }).catch((err: unknown) => ({ exitCode: 1, stdout: '', stderr: String(err) }));
  const bytes = Number(r.stdout.trim());
  if (r.exitCode !== 0 || !Number.isSafeInteger(bytes))
    return { ok: false, why: r.stderr.trim().split('\n')[0] || `perl exited ${r.exitCode}` };
  return { ok: true, bytes };
}

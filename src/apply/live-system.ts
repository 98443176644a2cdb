// Reads and writes the live settings kdiag may change, in the right network namespace.
// Injected into apply/revert so tests can put a misbehaving writer in front of the real one.
import { open, stat } from 'node:fs/promises';
import { EnvironmentError, KdiagError, ToolFailedError } from '../errors.js';
import { parseIpvsTimeout } from '../parse/ipvsadm-timeout.js';
import { run, type RunOptions, type RunResult } from '../host/exec.js';
import type { IpvsTimeouts } from './allowlist.js';
import { hostNetnsId, nsIdOf, pidNetnsId } from '../host/netns.js';
import { describeTarget, netnsOf, type Target } from './target.js';

export interface LiveSystem {
  /** The current value of an (allowlisted) sysctl, trimmed. */
  readSysctl(key: string, target: Target): Promise<string>;
  /** Writes a sysctl; throws when the kernel refuses it. The caller reads back. */
  writeSysctl(key: string, value: string, target: Target): Promise<void>;
  readIpvsTimeouts(target: Target): Promise<IpvsTimeouts>;
  /** `ipvsadm --set tcp tcpfin udp` (0 = keep). */
  setIpvsTimeouts(t: IpvsTimeouts, target: Target): Promise<void>;
  /** Identity of the target's namespace (`dev:inode`), or undefined when it no longer exists. */
  namespaceId(target: Target): Promise<string | undefined>;
  /** Runs conntrack(8) with these arguments (list or update); its stdout. Throws when it fails. */
  conntrack(args: readonly string[], target: Target): Promise<string>;
}

/** `/proc/sys/…` path of a dotted key (allowlisted keys have no dots inside a component). */
export function procPathOf(key: string): string {
  return `/proc/sys/${key.replaceAll('.', '/')}`;
}

const MODULE_HINT: Record<string, string> = {
  'net.netfilter.': 'load conntrack first (modprobe nf_conntrack); kube-proxy loads it on a node',
  'net.ipv4.vs.':
    'IPVS is not loaded here (modprobe ip_vs); it matters only with kube-proxy in ipvs mode',
};

function missingKey(key: string, target: Target): EnvironmentError {
  const hint =
    Object.entries(MODULE_HINT).find(([prefix]) => key.startsWith(prefix))?.[1] ??
    'check the kernel version and loaded modules';
  return new EnvironmentError(
    'KDIAG_ENVIRONMENT',
    `sysctl ${key} doesn't exist in the ${describeTarget(target)}`,
    hint,
  );
}

function ipvsMissing(err: ToolFailedError): EnvironmentError | ToolFailedError {
  // ipvsadm prints "Protocol not available" when the kernel has no IPVS (module absent or not built).
  if (/Protocol not available|Can't initialize ipvs/i.test(err.stderrTail)) {
    return new EnvironmentError(
      'KDIAG_ENVIRONMENT',
      "can't reach IPVS: this kernel has no IPVS loaded",
      'modprobe ip_vs (kube-proxy in ipvs mode loads it)',
    );
  }
  return err;
}

/**
 * Runs argv in the target's network namespace. A process target is entered through one descriptor
 * of /proc/PID/ns/net, checked against the identity the target was chosen with: a pid that exited
 * and was reused by a process elsewhere is refused, never written into.
 */
async function runIn(
  target: Target,
  argv: readonly string[],
  opts: Omit<RunOptions, 'netns' | 'nsFd'>,
): Promise<RunResult> {
  if (target.kind !== 'pid') return run(argv, { ...opts, netns: netnsOf(target) });
  let fh;
  try {
    fh = await open(`/proc/${target.pid}/ns/net`, 'r');
  } catch {
    throw new EnvironmentError(
      'KDIAG_ENVIRONMENT',
      `process ${target.pid} is gone: can't reach its network namespace`,
      're-run kdiag check to find the pod again',
    );
  }
  try {
    if (nsIdOf(await fh.stat()) !== target.nsId) {
      throw new EnvironmentError(
        'KDIAG_ENVIRONMENT',
        `process ${target.pid} is no longer in the network namespace it was chosen for (${target.nsId})`,
        're-run to choose it again',
      );
    }
    return await run(argv, { ...opts, nsFd: fh.fd });
  } finally {
    await fh.close();
  }
}

/** The real system: `cat`/`tee` on /proc/sys (via nsenter for a named netns or a process's) and ipvsadm. */
export function systemLive(): LiveSystem {
  return {
    async readSysctl(key, target) {
      const path = procPathOf(key);
      try {
        const r = await runIn(target, ['cat', path], { timeoutMs: 10_000 });
        return r.stdout.trim();
      } catch (err) {
        if (
          err instanceof ToolFailedError &&
          err.stderrTail.includes(path) &&
          /No such file/.test(err.stderrTail)
        )
          throw missingKey(key, target);
        throw err;
      }
    },
    async writeSysctl(key, value, target) {
      // tee reports the kernel's errno and exits non-zero; procps `sysctl -w` exits 0 on some
      // refused writes (seen: EACCES on nf_conntrack_max in a netns), so it is not used here.
      const path = procPathOf(key);
      try {
        await runIn(target, ['tee', path], { input: `${value}\n`, timeoutMs: 10_000 });
      } catch (err) {
        if (
          err instanceof ToolFailedError &&
          err.stderrTail.includes(path) &&
          /No such file/.test(err.stderrTail)
        )
          throw missingKey(key, target);
        throw err;
      }
    },
    async readIpvsTimeouts(target) {
      let out: string;
      try {
        out = (await runIn(target, ['ipvsadm', '-Ln', '--timeout'], { timeoutMs: 10_000 })).stdout;
      } catch (err) {
        throw err instanceof ToolFailedError ? ipvsMissing(err) : err;
      }
      const t = parseIpvsTimeout(out).value;
      if (t === null)
        throw new KdiagError(
          'KDIAG_TOOL_FAILED',
          `ipvsadm -Ln --timeout printed no "Timeout (tcp tcpfin udp):" line`,
        );
      return { tcp: t.tcp, tcpfin: t.tcpfin, udp: t.udp };
    },
    async setIpvsTimeouts(t, target) {
      try {
        await runIn(target, ['ipvsadm', '--set', String(t.tcp), String(t.tcpfin), String(t.udp)], {
          timeoutMs: 10_000,
        });
      } catch (err) {
        throw err instanceof ToolFailedError ? ipvsMissing(err) : err;
      }
    },
    async conntrack(args, target) {
      return (await runIn(target, ['conntrack', ...args], { timeoutMs: 60_000 })).stdout;
    },
    async namespaceId(target) {
      // A named netns is an nsfs bind mount under /run/netns.
      if (target.kind === 'pid') return pidNetnsId(target.pid);
      if (target.kind === 'node') return hostNetnsId();
      const path = `/run/netns/${target.name}`;
      try {
        return nsIdOf(await stat(path));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
  };
}

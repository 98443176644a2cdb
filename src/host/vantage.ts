// Whether kdiag sees the node: in a container without the host's network namespace it reads an
// empty netns, and without capabilities part of the tables, both silently (docs/install.md).
// One line says so in collect's progress and manifest.
import { readFile, readlink } from 'node:fs/promises';

// The initial PID namespace's inode is fixed (PROC_PID_INIT_INO, include/linux/proc_ns.h).
const PROC_PID_INIT_INO = 0xeffffffc;
// CAP_NET_ADMIN (conntrack netlink, iptables), CAP_SYS_ADMIN (setns, bpf), CAP_SYS_PTRACE
// (/proc/PID/root and ns of other processes).
const NEEDED: readonly [number, string][] = [
  [12, 'CAP_NET_ADMIN'],
  [21, 'CAP_SYS_ADMIN'],
  [19, 'CAP_SYS_PTRACE'],
];

/** The one-line warning for what the status and namespace links show (pure), or undefined. */
export function vantageWarning(v: {
  readonly pidNs?: string;
  readonly selfNet?: string;
  readonly initNet?: string;
  readonly capEff?: string;
}): string | undefined {
  const parts: string[] = [];
  const inHostPid = v.pidNs === `pid:[${PROC_PID_INIT_INO}]`;
  if (v.pidNs !== undefined && !inHostPid)
    parts.push(
      "not in the host's PID namespace: can't tell whether this is the node's network namespace",
    );
  else if (
    inHostPid &&
    v.selfNet !== undefined &&
    v.initNet !== undefined &&
    v.selfNet !== v.initNet
  )
    parts.push(
      "not in the host's network namespace: tables read are this namespace's, not the node's",
    );
  if (v.capEff !== undefined && /^[0-9a-f]+$/i.test(v.capEff)) {
    const caps = BigInt(`0x${v.capEff}`);
    const missing = NEEDED.filter(([bit]) => (caps & (1n << BigInt(bit))) === 0n).map(([, n]) => n);
    if (missing.length > 0)
      parts.push(`without ${missing.join(', ')}: some reads fail or come back partial`);
  }
  return parts.length === 0 ? undefined : `warning: kdiag runs ${parts.join('; ')}`;
}

/** Reads /proc/self and /proc/1 and returns the warning, if any. */
export async function readVantageWarning(proc = '/proc'): Promise<string | undefined> {
  const link = (p: string): Promise<string | undefined> => readlink(p).catch(() => undefined);
  const status = await readFile(`${proc}/self/status`, 'utf8').catch(() => '');
  const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  const [pidNs, selfNet, initNet] = await Promise.all([
    link(`${proc}/self/ns/pid`),
    link(`${proc}/self/ns/net`),
    link(`${proc}/1/ns/net`),
  ]);
  return vantageWarning({
    ...(pidNs === undefined ? {} : { pidNs }),
    ...(selfNet === undefined ? {} : { selfNet }),
    ...(initNet === undefined ? {} : { initNet }),
    ...(capEff === undefined ? {} : { capEff }),
  });
}

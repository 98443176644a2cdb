// Whether kdiag sees the node: in a container without the host's network namespace it reads an
// empty netns, and without capabilities part of the tables, both silently (docs/install.md).
// One line says so in collect's progress and manifest, check's and trace's notes and doctor's report;
// where kdiag cannot read the links to compare, the line says it cannot tell.
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
  const inHostPid = v.pidNs === `pid:[${PROC_PID_INIT_INO}]`;
  const cantTell = "can't tell whether this is the node's network namespace";
  // Unreadable links are said as such: a silent "no warning" would read as "kdiag sees the node".
  let ns: string | undefined;
  if (v.pidNs === undefined || v.selfNet === undefined)
    ns = `can't read its own namespace links (/proc/self/ns): ${cantTell}`;
  else if (!inHostPid) ns = `runs not in the host's PID namespace: ${cantTell}`;
  else if (v.initNet === undefined)
    ns = `can't read /proc/1/ns/net (not root, hidepid, or a restricted container): ${cantTell}`;
  else if (v.selfNet !== v.initNet)
    ns =
      "runs not in the host's network namespace: tables read are this namespace's, not the node's";
  let caps: string | undefined;
  if (v.capEff !== undefined && /^[0-9a-f]+$/i.test(v.capEff)) {
    const have = BigInt(`0x${v.capEff}`);
    const missing = NEEDED.filter(([bit]) => (have & (1n << BigInt(bit))) === 0n).map(([, n]) => n);
    if (missing.length > 0)
      caps = `without ${missing.join(', ')}: some reads fail or come back partial`;
  }
  if (ns === undefined && caps === undefined) return undefined;
  const capsPart =
    caps === undefined
      ? ''
      : ns === undefined
        ? `runs ${caps}`
        : ns.startsWith('runs')
          ? `; ${caps}`
          : `; runs ${caps}`;
  return `warning: kdiag ${ns ?? ''}${capsPart}`;
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

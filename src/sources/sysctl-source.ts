// sysctls that decide flow lifetimes, read straight from /proc/sys and printed as `sysctl -a` does
// (`key = value`): net.netfilter.nf_conntrack_*, net.nf_conntrack_max, net.ipv4.tcp_keepalive_*,
// net.ipv4.vs.*, net.ipv4.ip_forward, kernel.osrelease. Inside a named netns the files are read by
// `nsenter --net=/run/netns/NAME -- grep -H -s '' FILE…`, inside a pod's by `nsenter --net=/proc/PID/ns/net grep …`
// (net.* sysctls are per netns: /proc/sys/net shows the reader's netns). Faster than `sysctl -a`,
// which reads ~1,500 files.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EnvironmentError } from '../errors.js';
import { run, which } from '../host/exec.js';
import { inPidNetns } from '../host/netns.js';
import { netnsScope, podNetns, type OwnersTable } from '../host/owners.js';
import {
  SnapshotSource,
  toolMissing,
  type SnapshotOptions,
  type SnapshotOutput,
} from './snapshot-source.js';

/** Directories scanned, with the file-name prefix kept ('' = every file). */
export const SYSCTL_DIRS: readonly { readonly dir: string; readonly prefix: string }[] = [
  { dir: 'net/netfilter', prefix: 'nf_conntrack_' },
  { dir: 'net/ipv4', prefix: 'tcp_keepalive_' },
  { dir: 'net/ipv4/vs', prefix: '' },
];

/** Single files read when present. */
export const SYSCTL_FILES: readonly string[] = [
  'net/nf_conntrack_max',
  'net/ipv4/ip_forward',
  'kernel/osrelease',
];

/** `net/ipv4/ip_forward` → `net.ipv4.ip_forward` (sysctl(8) naming: `/` becomes `.`). */
export function sysctlKeyOf(relPath: string): string {
  return relPath.replace(/^\/+/, '').split('/').join('.');
}

/** One line of `sysctl -a` output: the value's trailing newline dropped, inner tabs kept. */
export function formatSysctl(key: string, value: string): string {
  return `${key} = ${value.replace(/\n+$/, '').split('\n').join(' ')}`;
}

/** Turns `grep -H -s '' FILE…` output (`/proc/sys/a/b:value`) into `key = value` lines (pure). */
export function grepToSysctl(text: string, procSys = '/proc/sys'): string[] {
  const out: string[] = [];
  const prefix = procSys.endsWith('/') ? procSys : `${procSys}/`;
  for (const line of text.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const colon = line.indexOf(':', prefix.length);
    if (colon < 0) continue;
    out.push(formatSysctl(sysctlKeyOf(line.slice(prefix.length, colon)), line.slice(colon + 1)));
  }
  return out;
}

/** Lists the sysctl files to read, relative to procSys, sorted by key. */
export async function listSysctlFiles(procSys = '/proc/sys'): Promise<string[]> {
  const files: string[] = [];
  for (const { dir, prefix } of SYSCTL_DIRS) {
    let names: string[];
    try {
      names = await readdir(join(procSys, dir));
    } catch {
      continue; // net/ipv4/vs exists only with ip_vs loaded
    }
    for (const name of names) if (name.startsWith(prefix)) files.push(`${dir}/${name}`);
  }
  files.push(...SYSCTL_FILES);
  return [...new Set(files)].sort((a, b) => sysctlKeyOf(a).localeCompare(sysctlKeyOf(b)));
}

/** Reads the sysctls of the current netns from procSys; unreadable or absent files are skipped. */
export async function readSysctls(procSys = '/proc/sys'): Promise<string[]> {
  const lines: string[] = [];
  for (const rel of await listSysctlFiles(procSys)) {
    try {
      lines.push(formatSysctl(sysctlKeyOf(rel), await readFile(join(procSys, rel), 'utf8')));
    } catch {
      // absent (net.nf_conntrack_max without conntrack) or write-only: `sysctl -a` skips them too
    }
  }
  return lines;
}

/** The argv that prints sysctl files as `/proc/sys/…:value` lines (run inside the netns to read). */
function grepArgv(files: readonly string[]): string[] {
  return ['grep', '-H', '-s', '', ...files];
}

/**
 * Reads the sysctls of another netns: `grep` run in it by nsenter (/run/netns/NAME for a named
 * one, /proc/PID/ns/net for a pod's) prints each file; the host's listing is a superset, as a netns sees the same
 * per-netns sysctl files or fewer.
 */
async function readSysctlsIn(
  where: { readonly netns: string } | { readonly pid: number },
  timeoutMs: number | undefined,
): Promise<SnapshotOutput> {
  const tools = ['nsenter', 'grep'];
  for (const tool of tools) if ((await which(tool)) === undefined) throw toolMissing(tool);
  const files = (await listSysctlFiles()).map((rel) => `/proc/sys/${rel}`);
  const opts = { reject: false, timeoutMs: timeoutMs ?? 30_000 };
  const r =
    'netns' in where
      ? await run(grepArgv(files), { ...opts, netns: where.netns })
      : await run(inPidNetns(where.pid, grepArgv(files)), opts);
  // grep exits 2 when some file was unreadable (-s hides the message) but still prints the rest.
  const stdout = grepToSysctl(r.stdout)
    .map((l) => `${l}\n`)
    .join('');
  return { stdout, stderr: r.stderr, exitCode: r.exitCode === 2 && stdout !== '' ? 0 : r.exitCode };
}

/** The sysctl snapshot (src `sysctl:all[@netns]`); argv is the equivalent `sysctl KEY…` command. */
export async function sysctlSource(opts: SnapshotOptions = {}): Promise<SnapshotSource> {
  const keys = (await listSysctlFiles()).map(sysctlKeyOf);
  const { netns } = opts;
  return new SnapshotSource({
    kind: 'sysctl:all',
    argv: ['sysctl', ...keys],
    ...opts,
    read: async () => {
      if (netns !== undefined) return readSysctlsIn({ netns }, opts.timeoutMs);
      const lines = await readSysctls();
      if (lines.length === 0)
        throw new EnvironmentError(
          'KDIAG_ENVIRONMENT',
          "can't read /proc/sys: no sysctl readable",
          'mount procfs at /proc',
        );
      return { stdout: lines.map((l) => `${l}\n`).join(''), stderr: '', exitCode: 0 };
    },
  });
}

/**
 * The sysctls of an unnamed netns, entered through a process in it (src `sysctl:all@<scope>`, the
 * scope naming the pod as its socket snapshot does): a pod's own tcp_keepalive_* (securityContext
 * sysctls), which its sockets use instead of the node's.
 */
export async function sysctlInPidNetnsSource(
  pid: number,
  scope: string,
  opts: Omit<SnapshotOptions, 'netns'> = {},
): Promise<SnapshotSource> {
  const keys = (await listSysctlFiles()).map(sysctlKeyOf);
  return new SnapshotSource({
    kind: 'sysctl:all',
    argv: inPidNetns(pid, ['sysctl', ...keys]),
    scope,
    ...opts,
    read: () => readSysctlsIn({ pid }, opts.timeoutMs),
  });
}

/** What sysctlInPidNetnsSource runs to read them (for a bundle's manifest). */
export async function sysctlInPidNetnsReadArgv(pid: number): Promise<string[]> {
  return inPidNetns(pid, grepArgv((await listSysctlFiles()).map((rel) => `/proc/sys/${rel}`)));
}

/** One sysctl source per pod network namespace of an owners table (the host's is `sysctlSource()`). */
export async function podSysctlSources(
  table: OwnersTable,
  opts: Omit<SnapshotOptions, 'netns'> = {},
): Promise<SnapshotSource[]> {
  const out: SnapshotSource[] = [];
  for (const ns of podNetns(table))
    out.push(await sysctlInPidNetnsSource(ns.enterPid!, netnsScope(ns, table.pods), opts));
  return out;
}

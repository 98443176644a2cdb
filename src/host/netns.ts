// Named network namespaces: the entries `ip netns add` creates under /run/netns (nsfs bind mounts),
// the ones `--netns NAME` and `ip netns exec NAME` accept.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EnvironmentError } from '../errors.js';
import { listPids } from './procfs.js';

export const RUN_NETNS = '/run/netns';

/** True for a name `ip netns` accepts: one path component, no `/`, not `.` or `..`, bounded (pure). */
export function isValidNetnsName(name: string): boolean {
  return (
    name.length > 0 &&
    name.length <= 255 &&
    !name.includes('/') &&
    !name.includes('\0') &&
    name !== '.' &&
    name !== '..'
  );
}

/** The named network namespaces, sorted. */
export async function listNamedNetns(runNetns = RUN_NETNS): Promise<string[]> {
  try {
    return (await readdir(runNetns)).filter(isValidNetnsName).sort();
  } catch {
    return [];
  }
}

/** The inode of a named netns (the key /proc/PID/ns/net links carry), or undefined when absent. */
export async function namedNetnsInode(
  name: string,
  runNetns = RUN_NETNS,
): Promise<number | undefined> {
  if (!isValidNetnsName(name)) return undefined;
  try {
    return (await stat(join(runNetns, name))).ino;
  } catch {
    return undefined;
  }
}

/** argv run inside the network namespace of process pid, a pod's that has no name (`nsenter --net`). */
export function inPidNetns(pid: number, argv: readonly string[]): string[] {
  return ['nsenter', `--net=/proc/${pid}/ns/net`, ...argv];
}

/** Throws the error a user should see when `name` is not a named network namespace kdiag can enter. */
export async function requireNamedNetns(name: string): Promise<void> {
  const problem = await netnsProblem(name);
  if (problem)
    throw new EnvironmentError(
      'KDIAG_ENVIRONMENT',
      `can't use network namespace ${name}: ${problem}`,
      'list them with: ip netns list',
    );
}

/** Why `--netns NAME` cannot be used, or undefined when the namespace exists. */
export async function netnsProblem(
  name: string,
  runNetns = RUN_NETNS,
): Promise<string | undefined> {
  if (!isValidNetnsName(name)) return `invalid network namespace name '${name}'`;
  if ((await namedNetnsInode(name, runNetns)) === undefined)
    return `no network namespace '${name}' under ${runNetns} (see ip netns list)`;
  return undefined;
}

/** The identity (`dev:inode`) of a process's network namespace, or undefined when the process is gone. */
export async function pidNetnsId(pid: number, proc = '/proc'): Promise<string | undefined> {
  return nsFileId(`${proc}/${pid}/ns/net`);
}

/** A process in the network namespace `nsId` (`dev:inode`), trying `preferred` first; undefined when none is left. */
export async function processInNetns(
  nsId: string,
  preferred?: number,
  proc = '/proc',
): Promise<number | undefined> {
  if (preferred !== undefined && (await pidNetnsId(preferred, proc)) === nsId) return preferred;
  for (const pid of await listPids(proc)) if ((await pidNetnsId(pid, proc)) === nsId) return pid;
  return undefined;
}

/** The identity of the node's network namespace: PID 1's, or kdiag's own where PID 1's is unreadable (a sandboxed PID 1). */
export async function hostNetnsId(proc = '/proc'): Promise<string | undefined> {
  return (await pidNetnsId(1, proc)) ?? (await nsFileId(`${proc}/self/ns/net`));
}

/** A namespace's identity from the stat of one of its files: `dev:inode` (the form journals and targets keep). */
export function nsIdOf(s: { readonly dev: number; readonly ino: number }): string {
  return `${s.dev}:${s.ino}`;
}

/** `dev:inode` of a namespace file, or undefined when it can't be read. */
async function nsFileId(path: string): Promise<string | undefined> {
  try {
    return nsIdOf(await stat(path));
  } catch {
    return undefined;
  }
}

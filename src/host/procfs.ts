// The processes under /proc: one listing for everything that walks them (owners, kube-proxy, netns).
import { readdir } from 'node:fs/promises';

/** The pids under `proc`, lowest first; none when it can't be read. */
export async function listPids(proc = '/proc'): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(proc);
  } catch {
    return [];
  }
  return names
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .sort((a, b) => a - b);
}

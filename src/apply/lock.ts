// One kdiag at a time may change settings or the journal: an exclusive lock file in the journal
// directory, created with link(2) so it appears complete (owner pid and start time) or not at all.
// A lock whose owner is gone (or whose pid was reused: start time differs) is stale and broken,
// under a second "breaker" lock so two processes never both break it and both proceed.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { link, open, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { KdiagError } from '../errors.js';
import { readTrustedFile } from '../host/trusted-file.js';

export const LOCK_FILE = 'lock';
const BREAKER_FILE = 'lock.break';
// Breaking takes milliseconds; a breaker older than this was left by a process that died inside it.
const BREAKER_STALE_MS = 30_000;

interface LockOwner {
  readonly pid: number;
  /** Process start time (clock ticks since boot, /proc/PID/stat field 22): tells a reused pid apart. */
  readonly start: string | null;
  readonly host: string;
  readonly token: string;
  readonly at: string;
}

export interface HeldLock {
  readonly path: string;
  release(): Promise<void>;
}

export interface LockOptions {
  /** How long to wait for another kdiag to finish (default 0: fail at once). */
  readonly waitMs?: number;
  readonly pollMs?: number;
}

/** The start time of a live process, or null when it does not exist. */
export async function processStart(pid: number): Promise<string | null> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may hold spaces and parentheses: fields resume after the last ')'.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? null; // field 22 = index 19 after fields 1-2
  } catch {
    return null;
  }
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (
      typeof o.pid === 'number' &&
      Number.isSafeInteger(o.pid) &&
      o.pid > 0 &&
      typeof o.token === 'string' &&
      typeof o.host === 'string'
    ) {
      return {
        pid: o.pid,
        start: typeof o.start === 'string' ? o.start : null,
        host: o.host,
        token: o.token,
        at: String(o.at ?? ''),
      };
    }
  } catch {
    // unreadable owner: not stale by our rules (we can't prove its owner is gone)
  }
  return undefined;
}

async function isStale(owner: LockOwner): Promise<boolean> {
  // A lock from another host (shared directory) or pid namespace can't be judged from here.
  if (owner.host !== hostname()) return false;
  const start = await processStart(owner.pid);
  if (start === null) return true;
  return owner.start !== null && start !== owner.start;
}

async function readOwner(
  path: string,
): Promise<{ text: string; owner: LockOwner | undefined } | undefined> {
  // A lock someone else could have written might name any pid: not trusted, not broken.
  const text = await readTrustedFile(path, 'lock file');
  return text === null ? undefined : { text, owner: parseOwner(text) };
}

/** Breaks `lockPath` if it still holds exactly `staleText`; returns whether it did. */
async function breakStale(dir: string, lockPath: string, staleText: string): Promise<boolean> {
  const breaker = join(dir, BREAKER_FILE);
  let fh;
  try {
    fh = await open(breaker, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const s = await stat(breaker).catch(() => undefined);
    if (s && Date.now() - s.mtimeMs > BREAKER_STALE_MS) await rm(breaker, { force: true });
    return false;
  }
  try {
    await fh.close();
    const now = await readOwner(lockPath);
    if (now === undefined) return true;
    if (now.text !== staleText) return false; // someone else broke it and took it meanwhile
    await rm(lockPath, { force: true });
    return true;
  } finally {
    await rm(breaker, { force: true });
  }
}

/** Takes the journal directory's exclusive lock, or throws KDIAG_REFUSED naming the holder. */
export async function acquireLock(dir: string, opts: LockOptions = {}): Promise<HeldLock> {
  const lockPath = join(dir, LOCK_FILE);
  const token = randomBytes(8).toString('hex');
  const owner: LockOwner = {
    pid: process.pid,
    start: await processStart(process.pid),
    host: hostname(),
    token,
    at: new Date().toISOString(),
  };
  const text = `${JSON.stringify(owner)}\n`;
  const deadline = Date.now() + (opts.waitMs ?? 0);
  const tmp = join(dir, `.lock.${process.pid}.${token}.tmp`);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(text, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    for (;;) {
      try {
        await link(tmp, lockPath);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const held = await readOwner(lockPath);
      if (held === undefined) continue; // released between link and read: try again
      if (held.owner !== undefined && (await isStale(held.owner))) {
        if (await breakStale(dir, lockPath, held.text)) continue;
      }
      if (Date.now() >= deadline) {
        const who = held.owner
          ? `pid ${held.owner.pid}${held.owner.host === hostname() ? '' : ` on ${held.owner.host}`}, since ${held.owner.at}`
          : 'unknown owner';
        throw new KdiagError('KDIAG_REFUSED', `another kdiag is changing settings (${who})`, {
          hint: `wait for it to finish; if no kdiag runs, remove ${lockPath}`,
        });
      }
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 100));
    }
  } finally {
    await rm(tmp, { force: true });
  }
  return {
    path: lockPath,
    async release() {
      // Remove only our own lock: if it was (wrongly) broken, the new holder's stays.
      const now = await readOwner(lockPath);
      if (now?.owner?.token === token) await rm(lockPath, { force: true });
    },
  };
}

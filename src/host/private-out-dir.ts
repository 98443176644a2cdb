// Output folders written as root (issue: files as root). A bundle is built in a private 0700
// folder made next to the target, then renamed into place: nobody can plant a link or a file in
// it while kdiag writes, and a target swapped for a link meanwhile makes the rename fail, never
// write through the link.
import { chmod, lstat, mkdir, mkdtemp, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { EnvironmentError, UsageError } from '../errors.js';

/** Why a folder others can write to must not hold kdiag's output, or undefined when it may. */
export function unsafeParentBecause(
  st: { uid: number; mode: number; isDirectory(): boolean },
  uid: number,
): string | undefined {
  if (!st.isDirectory()) return 'not a folder';
  // Writable by others without the sticky bit: anyone can rename our files away and put theirs.
  if ((st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0)
    return 'writable by other users without the sticky bit';
  if (st.uid !== uid && st.uid !== 0) return `owned by another user (uid ${st.uid})`;
  return undefined;
}

function refused(path: string, why: string, hint: string): UsageError {
  return new UsageError(`refusing ${path}: ${why}`, hint);
}

/**
 * Checks the folder a file or bundle will be made in: it must exist, be a folder (a link to one is
 * followed only if the folder it names is safe), owned by root or this user, not writable by others
 * unless sticky (/tmp).
 */
export async function checkOutputParent(
  parent: string,
  what: string,
  uid = process.getuid?.() ?? 0,
): Promise<void> {
  const st = await stat(parent).catch((err: NodeJS.ErrnoException) => {
    throw new EnvironmentError(
      'KDIAG_ENVIRONMENT',
      `can't use ${parent} for ${what}: ${err.code === 'ENOENT' ? 'no such folder' : err.message}`,
      'create the folder first, or choose another',
    );
  });
  const why = unsafeParentBecause(st, uid);
  if (why !== undefined)
    throw new EnvironmentError(
      why === 'not a folder' ? 'KDIAG_ENVIRONMENT' : 'KDIAG_REFUSED',
      `refusing ${parent} for ${what}: ${why}`,
      `choose a folder of your own for ${what}`,
    );
}

/**
 * Checks the target folder: absent, or an empty folder of this user's; never a link (a dangling
 * one included) or something owned by another user.
 */
export async function checkOutputTarget(
  target: string,
  flag: string,
  uid = process.getuid?.() ?? 0,
): Promise<void> {
  const st = await lstat(target).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw new EnvironmentError(
      'KDIAG_ENVIRONMENT',
      `can't use ${target}: ${err.message}`,
      `choose another folder with ${flag}`,
    );
  });
  if (st === undefined) return;
  if (st.isSymbolicLink())
    throw refused(target, 'it is a symbolic link', `give a new folder with ${flag}, not a link`);
  if (st.uid !== uid)
    throw refused(
      target,
      `owned by another user (uid ${st.uid})`,
      `give a new folder of your own with ${flag}`,
    );
  if (!st.isDirectory()) throw refused(target, 'not a folder', `give a new folder with ${flag}`);
  if ((await readdir(target)).length > 0)
    throw new UsageError(
      `${target} exists and is not empty`,
      `give a new or empty folder with ${flag}`,
    );
}

export interface StagedDir {
  /** The private folder to write into. */
  readonly path: string;
  /** Renames it onto the target; throws (keeping it) when the target changed meanwhile. */
  commit(mode?: number): Promise<void>;
  /** Removes it and what it holds. */
  discard(): Promise<void>;
}

/** Makes the private 0700 staging folder next to `target`, after checking parent and target. */
export async function stageOutputDir(target: string, flag: string): Promise<StagedDir> {
  const parent = dirname(target);
  // Missing parents are made as before (mkdir -p); an existing one is checked as it is.
  await mkdir(parent, { recursive: true, mode: 0o755 }).catch(() => undefined);
  await checkOutputParent(parent, `${flag} ${basename(target)}`);
  await checkOutputTarget(target, flag);
  const path = await mkdtemp(join(parent, `.${basename(target)}.kdiag-`)).catch(
    (err: NodeJS.ErrnoException) => {
      throw new EnvironmentError(
        'KDIAG_ENVIRONMENT',
        `can't create a folder in ${parent}: ${err.message}`,
        `choose a writable place with ${flag}`,
      );
    },
  );
  return {
    path,
    async commit(mode = 0o755) {
      await chmod(path, mode);
      // An empty folder at the target was accepted above; rename(2) replaces an empty folder and
      // fails on a link (ENOTDIR) or a folder someone filled (ENOTEMPTY).
      const now = await lstat(target).catch(() => undefined);
      if (now !== undefined && (now.isSymbolicLink() || !now.isDirectory()))
        throw changed(target, path, 'it is now a symbolic link or not a folder');
      try {
        await rename(path, target);
      } catch (err) {
        throw changed(target, path, (err as NodeJS.ErrnoException).code ?? String(err));
      }
    },
    async discard() {
      await rm(path, { recursive: true, force: true });
      await rmdir(path).catch(() => undefined);
    },
  };
}

function changed(target: string, kept: string, why: string): EnvironmentError {
  return new EnvironmentError(
    'KDIAG_ENVIRONMENT',
    `${target} changed while kdiag wrote (${why}); nothing was written there, the output is in ${kept}`,
    'check who else writes there, then move the folder yourself',
  );
}

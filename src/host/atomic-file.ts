// Crash-safe file replacement: a reader sees the old file or the new one, never a torn one.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, lstat, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../errors.js';

/** fsyncs a directory so a rename or unlink inside it survives a power cut. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Writes `path` atomically and durably: a new temp file in the same directory (O_CREAT|O_EXCL|
 * O_NOFOLLOW: never a file or link someone planted), fsync, rename over `path`, fsync the directory.
 * The rename replaces a link at `path` itself, never what it points to. Mode 0600 unless told.
 */
export async function writeFileAtomic(
  path: string,
  content: string | Uint8Array,
  mode = 0o600,
): Promise<void> {
  const dir = dirname(path);
  // The random part keeps concurrent writers apart.
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(
    tmp,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    mode,
  );
  try {
    try {
      await fh.chmod(mode); // the umask may have removed bits from `mode`
      await fh.writeFile(content, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dir);
}

/** Whether a path exists (for kdiag's purposes: it can be reached). */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Removes a file and fsyncs its directory; a missing file is fine. */
export async function removeFileDurably(path: string): Promise<void> {
  await rm(path, { force: true });
  await fsyncDir(dirname(path));
}

/** Reads a regular file's text, or null when it does not exist. Refuses symlinks and other kinds. */
export async function readRegularFile(path: string): Promise<string | null> {
  try {
    const s = await lstat(path);
    if (!s.isFile())
      throw new InputError(
        path,
        undefined,
        "not a regular file: kdiag doesn't follow or replace it",
      );
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  return readFile(path, 'utf8');
}

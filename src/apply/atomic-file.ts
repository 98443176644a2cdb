// Crash-safe file replacement: a reader sees the old file or the new one, never a torn one.
import { randomBytes } from 'node:crypto';
import { lstat, open, readFile, rename, rm } from 'node:fs/promises';
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

/** Writes `path` atomically: temp file in the same directory (O_EXCL), fsync, rename, fsync the directory. */
export async function writeFileAtomic(path: string, content: string, mode: number): Promise<void> {
  const dir = dirname(path);
  // O_EXCL ('wx') never follows a planted symlink; the random part keeps concurrent writers apart.
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', mode);
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

/** Removes a file and fsyncs its directory; a missing file is fine. */
export async function removeFileDurably(path: string): Promise<void> {
  await rm(path, { force: true });
  await fsyncDir(dirname(path));
}

/** Reads a regular file's text, or null when it does not exist. Refuses symlinks and other kinds. */
export async function readRegularFile(path: string): Promise<string | null> {
  try {
    const s = await lstat(path);
    if (!s.isFile()) throw new InputError(path, undefined, "not a regular file: kdiag doesn't follow or replace it");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  return readFile(path, 'utf8');
}

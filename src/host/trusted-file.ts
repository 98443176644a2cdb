// Files kdiag acts on later (the apply journal, its lock) must be ones only root could have written:
// a journal planted or edited by another user would steer `kdiag revert` into writing its values.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { KdiagError } from '../errors.js';

/** Why a file's stat makes it untrusted, or undefined when it is a regular file of root (or of us) that only its owner may write (pure). */
export function untrustedBecause(
  s: { readonly uid: number; readonly mode: number; isFile(): boolean },
  ownUid: number | undefined = process.getuid?.(),
): string | undefined {
  if (!s.isFile()) return 'not a regular file';
  if (s.uid !== 0 && s.uid !== ownUid) return `owned by uid ${s.uid}, not root`;
  if ((s.mode & 0o022) !== 0)
    return `writable by group or others (mode ${(s.mode & 0o777).toString(8).padStart(4, '0')})`;
  return undefined;
}

/** Reads a file kdiag trusts, or null when it does not exist; a link, another owner or group/other write is refused. */
export async function readTrustedFile(path: string, what: string): Promise<string | null> {
  let fh;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') throw refuse(what, path, 'a symbolic link');
    throw err;
  }
  try {
    // Judged on the open descriptor: the file read is the file checked.
    const why = untrustedBecause(await fh.stat());
    if (why !== undefined) throw refuse(what, path, why);
    return await fh.readFile('utf8');
  } finally {
    await fh.close();
  }
}

function refuse(what: string, path: string, why: string): KdiagError {
  return new KdiagError('KDIAG_REFUSED', `won't trust ${what} ${path}: ${why}`, {
    hint: 'only root may write it (chown root, chmod go-w); if you did not make it, move it aside',
  });
}

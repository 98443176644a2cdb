// Changing kernel settings and reading the journal need root; say so before doing anything.
import { EnvironmentError } from '../errors.js';

/** Throws the not-root EnvironmentError unless the process runs as uid 0. */
export function requireRoot(action: string, uid: number | undefined = process.getuid?.()): void {
  if (uid !== 0) throw new EnvironmentError('KDIAG_NOT_ROOT', `can't ${action}: not root`, 're-run with sudo');
}

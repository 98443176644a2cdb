// Root: what reading conntrack, other namespaces and tracefs, loading probes and changing kernel
// settings need. One check, so every command says it the same way and before it starts anything.
import { EnvironmentError } from '../errors.js';

/** Whether the process runs as uid 0 (`uid` for tests). */
export function isRoot(uid: number | undefined = process.getuid?.()): boolean {
  return uid === 0;
}

export interface RootNeed {
  /** Why root is needed, in brackets after "not root". */
  readonly why?: string;
  /** What to do instead (default: re-run with sudo). */
  readonly hint?: string;
  /** The uid to judge (tests); default the process's. */
  readonly uid?: number;
}

/** Throws the not-root EnvironmentError (`can't ACTION: not root`) unless the process runs as uid 0. */
export function requireRoot(action: string, need: RootNeed = {}): void {
  if (isRoot('uid' in need ? need.uid : process.getuid?.())) return;
  throw new EnvironmentError(
    'KDIAG_NOT_ROOT',
    `can't ${action}: not root${need.why === undefined ? '' : ` (${need.why})`}`,
    need.hint ?? 're-run with sudo',
  );
}

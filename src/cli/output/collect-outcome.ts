// What a collect's exit code and last line say: a bundle missing files that were tried and failed
// (not root, a tool that errored, a write that failed) is partial, and a script must be able to
// tell it from a whole one. Files that cannot exist on this node (IPVS not loaded, no kube-proxy)
// are not a failure of the collect.
import type { CollectResult } from '../../services/collect.js';

export interface CollectOutcome {
  /** 0 a whole bundle, 2 a partial one or none. */
  readonly exitCode: 0 | 2;
  /** The line for stderr when the bundle is partial. */
  readonly message?: string;
}

/** The exit code and message for a finished collect (pure). */
export function collectOutcome(
  result: Pick<CollectResult, 'dir' | 'manifest' | 'written' | 'manifestWritten'>,
): CollectOutcome {
  if (result.written === 0)
    return { exitCode: 2, message: `kdiag: no file could be written to ${result.dir}` };
  const failed = result.manifest.files.filter((f) => f.status === 'failed').map((f) => f.file);
  if (!result.manifestWritten) failed.push('kdiag-collect.json');
  if (failed.length === 0) return { exitCode: 0 };
  const list =
    failed.length > 4
      ? `${failed.slice(0, 4).join(', ')} and ${failed.length - 4} more`
      : failed.join(', ');
  return {
    exitCode: 2,
    message: `kdiag: partial bundle: ${failed.length} file${failed.length === 1 ? '' : 's'} could not be collected (${list}); see kdiag-collect.json`,
  };
}

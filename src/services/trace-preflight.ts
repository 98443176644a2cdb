// What must hold before a live session starts (root, the namespace, a safe place to record), checked
// by trace and by the TUI before it draws: a light module, so the TUI can refuse before its first
// frame without loading the sources.
import { dirname, resolve } from 'node:path';
import { EnvironmentError } from '../errors.js';
import { netnsProblem } from '../host/netns.js';
import { checkOutputParent } from '../host/private-out-dir.js';
import { requireRoot } from '../host/root.js';

export interface TracePreflight {
  readonly netns?: string;
  readonly record?: string;
}

/** Throws the error a user should see when a live session cannot start here. */
export async function preflightTrace(o: TracePreflight): Promise<void> {
  requireRoot('trace', {
    hint: 're-run with sudo (bpftrace, conntrack -E and iptables-save need root)',
  });
  if (o.netns) {
    const problem = await netnsProblem(o.netns);
    if (problem)
      throw new EnvironmentError(
        'KDIAG_ENVIRONMENT',
        `can't use network namespace ${o.netns}: ${problem}`,
        'list them with: ip netns list',
      );
  }
  // The file is opened 'wx'; its folder must not be one where others can swap files (files as
  // root). Checked before any probe starts.
  if (o.record) await checkOutputParent(dirname(resolve(o.record)), '--record');
}

// What must hold before a live session starts (root, the namespace, a safe place to record), checked
// by trace and by the TUI before it draws: a light module, so the TUI can refuse before its first
// frame without loading the sources.
import { lstat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { requireNamedNetns } from '../host/netns.js';
import { checkOutputParent } from '../host/private-out-dir.js';
import { requireRoot } from '../host/root.js';
import { recordingExists } from '../record/fixture-writer.js';

export interface TracePreflight {
  readonly netns?: string;
  readonly record?: string;
}

/** Throws the error a user should see when a live session cannot start here. */
export async function preflightTrace(o: TracePreflight): Promise<void> {
  requireRoot('trace', {
    hint: 're-run with sudo (bpftrace, conntrack -E and iptables-save need root)',
  });
  if (o.netns) await requireNamedNetns(o.netns);
  // The file is opened 'wx'; its folder must not be one where others can swap files (files as
  // root). Checked before any probe starts.
  if (o.record) {
    await checkOutputParent(dirname(resolve(o.record)), '--record');
    // The writer opens it 'wx' and would refuse it too, but only after the probes started (and the
    // TUI drew): a name already taken is said first.
    if ((await lstat(o.record).catch(() => undefined)) !== undefined)
      throw recordingExists(o.record);
  }
}

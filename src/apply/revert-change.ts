// Restores old values from the journal, newest first. Revert decides from what is live now, not
// from the entry's state alone, so it also finishes whatever a crashed apply (or revert) left:
//   live == old            → nothing to write (the change never happened, or was already undone)
//   live == new/observed   → write old, read back
//   anything else          → someone else changed it since: left alone unless --force
// The entry becomes `reverted` only after the old value (and any persisted file) reads back.
import { KdiagError, UsageError } from '../errors.js';
import type { IpvsTimeouts } from './allowlist.js';
import { readRegularFile, removeFileDurably, writeFileAtomic } from '../host/atomic-file.js';
import { changeSubject, sameValue, showValue } from './apply-change.js';
import {
  isOpen,
  moveEntry,
  prepareJournalDir,
  putEntry,
  readJournal,
  sweepJournalTemps,
  writeJournal,
  type Journal,
  type JournalEntry,
} from './journal.js';
import type { LiveSystem } from './live-system.js';
import { acquireLock } from './lock.js';
import { restoreTimers } from './conntrack-update.js';
import { processInNetns } from '../host/netns.js';
import { describeTarget, fromJournal, type Target } from './target.js';

export type RevertSelection = { readonly all: true } | { readonly ids: readonly number[] };

export interface RevertDeps {
  readonly live: LiveSystem;
  readonly journalDir: string;
  /** Restore the old value even when something else changed the setting since kdiag did. */
  readonly force?: boolean;
  /** Decide and report, change nothing. */
  readonly dryRun?: boolean;
  readonly now?: () => Date;
  readonly lockWaitMs?: number;
}

export type RevertStatus =
  'restored' | 'closed' | 'already' | 'skipped' | 'failed' | 'would-restore' | 'would-close';

export interface RevertOutcome {
  readonly id: number;
  readonly status: RevertStatus;
  /** One line for people. */
  readonly message: string;
  readonly entry: JournalEntry;
}

function targetOf(entry: JournalEntry): Target {
  return fromJournal(entry.target, entry.nsId);
}

/** The setting an entry changed: its subject in its namespace (for a process's, the namespace's identity, not the pid). */
function subjectKey(entry: JournalEntry): string {
  const t = targetOf(entry);
  return `${changeSubject(entry.change)}@${t.kind === 'pid' ? `ns ${t.nsId}` : describeTarget(t)}`;
}

async function readLive(
  live: LiveSystem,
  entry: JournalEntry,
  target: Target,
): Promise<string | IpvsTimeouts> {
  return entry.change.kind === 'sysctl'
    ? live.readSysctl(entry.change.key, target)
    : live.readIpvsTimeouts(target);
}

async function writeOld(live: LiveSystem, entry: JournalEntry, target: Target): Promise<void> {
  if (entry.change.kind === 'sysctl')
    await live.writeSysctl(entry.change.key, entry.change.old, target);
  else if (entry.change.kind === 'ipvs-timeout')
    await live.setIpvsTimeouts(entry.change.old, target);
}

function errText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 300);
}

/** Picks the entries to revert, newest first; unknown ids are a UsageError listing the open ones. */
export function selectEntries(journal: Journal, sel: RevertSelection): JournalEntry[] {
  const open = journal.entries.filter(isOpen);
  if ('all' in sel) return [...open].sort((a, b) => b.id - a.id);
  const picked: JournalEntry[] = [];
  for (const id of sel.ids) {
    const e = journal.entries.find((x) => x.id === id);
    if (e === undefined) {
      const ids = open.map((x) => x.id).sort((a, b) => b - a);
      throw new UsageError(
        `no journal entry ${id}`,
        ids.length
          ? `entries still to revert: ${ids.join(', ')}`
          : 'nothing to revert: see kdiag journal',
      );
    }
    picked.push(e);
  }
  return picked.sort((a, b) => b.id - a.id);
}

/** Reverts the selected entries under the journal lock and says what happened to each. */
export async function revertEntries(
  sel: RevertSelection,
  deps: RevertDeps,
): Promise<RevertOutcome[]> {
  const now = deps.now ?? (() => new Date());
  const { live, journalDir } = deps;
  await prepareJournalDir(journalDir);
  const lock = await acquireLock(journalDir, { waitMs: deps.lockWaitMs ?? 3000 });
  try {
    await sweepJournalTemps(journalDir);
    let journal = await readJournal(journalDir);
    const selected = selectEntries(journal, sel);
    const selectedIds = new Set(selected.map((e) => e.id));
    const outcomes: RevertOutcome[] = [];
    // A subject whose newer entry was not restored: older entries on it would clobber that state.
    const blocked = new Map<string, number>();
    const save = async (e: JournalEntry): Promise<void> => {
      journal = putEntry(journal, e);
      if (!deps.dryRun) await writeJournal(journalDir, journal);
    };

    for (const entry of selected) {
      let target = targetOf(entry);
      const subject = changeSubject(entry.change);
      const where = describeTarget(target);
      const key = subjectKey(entry);
      const push = (status: RevertStatus, message: string, e: JournalEntry = entry) =>
        outcomes.push({ id: entry.id, status, message: `#${entry.id} ${message}`, entry: e });

      if (!isOpen(entry)) {
        push('already', `is already ${entry.state}: nothing to do`);
        continue;
      }
      const blocker = blocked.get(key);
      if (blocker !== undefined) {
        push(
          'skipped',
          `${subject} in ${where}: newer entry ${blocker} was not reverted, so this one is left alone`,
        );
        continue;
      }
      // Reverting an older entry while a newer one on the same setting stays applied would undo both halfway.
      const newer = journal.entries.find(
        (e) => e.id > entry.id && isOpen(e) && !selectedIds.has(e.id) && subjectKey(e) === key,
      );
      if (newer !== undefined) {
        blocked.set(key, newer.id);
        push(
          'skipped',
          `${subject} in ${where} was changed again by entry ${newer.id}: revert that first (or use --all)`,
        );
        continue;
      }

      try {
        // A process's namespace outlives the process while another is in it (a pod's other containers).
        if (target.kind === 'pid') {
          const pid =
            target.nsId === '' ? undefined : await processInNetns(target.nsId, target.pid);
          if (pid === undefined) {
            if (deps.dryRun) {
              push(
                'would-close',
                `${where}: no process is left in that namespace, so it is gone and the change with it; would close the entry`,
              );
              continue;
            }
            const done = moveEntry(
              entry,
              'reverted',
              now(),
              {},
              `${where}: the namespace is gone: nothing to restore`,
            );
            await save(done);
            push(
              'closed',
              `${where}: no process is left in that namespace, so it is gone and the change with it; entry closed`,
              done,
            );
            continue;
          }
          target = { ...target, pid };
        }
        // The netns the change went into may be gone, or a new one may carry its name.
        if (target.kind === 'netns') {
          const nsId = await live.namespaceId(target);
          if (nsId === undefined || (entry.nsId !== undefined && nsId !== entry.nsId)) {
            const why = nsId === undefined ? 'no longer exists' : 'was deleted and created again';
            if (deps.dryRun) {
              push(
                'would-close',
                `${where} ${why}: the change went with it; would close the entry`,
              );
              continue;
            }
            const done = moveEntry(
              entry,
              'reverted',
              now(),
              {},
              `${where} ${why}: nothing to restore`,
            );
            await save(done);
            push('closed', `${where} ${why}: the change went with it; entry closed`, done);
            continue;
          }
        }

        if (entry.change.kind === 'conntrack-update') {
          // Timers cannot be compared with an old value: each entry still present is set again.
          if (deps.dryRun) {
            push(
              'would-restore',
              `would set the ${entry.change.entries.length} journaled ${subject} in ${where} back to their remaining timeouts minus the time elapsed`,
            );
            continue;
          }
          const back = await restoreTimers(live, entry, target, now());
          if (back.failed > 0) {
            blocked.set(key, entry.id);
            push('failed', `${subject} in ${where}: ${back.note}; entry left ${entry.state}`);
            continue;
          }
          const done = moveEntry(entry, 'reverted', now(), {}, back.note);
          await save(done);
          push('restored', `${subject} in ${where}: ${back.note}`, done);
          continue;
        }
        const current = await readLive(live, entry, target);
        const ours = sameValue(current, entry.change.new) || sameValue(current, entry.observed);
        const atOld = sameValue(current, entry.change.old);

        let fileAction: 'none' | 'restore' | 'remove' = 'none';
        let fileConflict: string | undefined;
        if (entry.persist) {
          const onDisk = await readRegularFile(entry.persist.path);
          if (onDisk === entry.persist.previous) fileAction = 'none';
          else if (onDisk === entry.persist.content || deps.force)
            fileAction = entry.persist.previous === null ? 'remove' : 'restore';
          else fileConflict = `${entry.persist.path} was edited since kdiag wrote it`;
        }
        if ((!atOld && !ours && !deps.force) || fileConflict !== undefined) {
          blocked.set(key, entry.id);
          const why =
            fileConflict !== undefined
              ? `: ${fileConflict}`
              : ` is now ${showValue(current)}, neither the old ${showValue(entry.change.old)} nor kdiag's ${showValue(entry.change.new)}: something else changed it`;
          push(
            'skipped',
            `${subject} in ${where}${why}; left alone (--force restores ${showValue(entry.change.old)})`,
          );
          continue;
        }

        if (deps.dryRun) {
          const parts = [
            atOld
              ? `${subject} in ${where} is already ${showValue(entry.change.old)}`
              : `would restore ${subject} = ${showValue(entry.change.old)} in ${where} (now ${showValue(current)})`,
          ];
          if (fileAction !== 'none') parts.push(`would ${fileAction} ${entry.persist!.path}`);
          push(atOld && fileAction === 'none' ? 'would-close' : 'would-restore', parts.join('; '));
          continue;
        }

        if (!atOld) {
          await writeOld(live, entry, target);
          const back = await readLive(live, entry, target);
          if (!sameValue(back, entry.change.old)) {
            blocked.set(key, entry.id);
            push(
              'failed',
              `${subject} in ${where}: wrote ${showValue(entry.change.old)} but read back ${showValue(back)}; entry left ${entry.state}`,
            );
            continue;
          }
        }
        if (fileAction === 'restore')
          await writeFileAtomic(entry.persist!.path, entry.persist!.previous!, 0o644);
        if (fileAction === 'remove') await removeFileDurably(entry.persist!.path);

        const parts = [
          atOld
            ? `${subject} in ${where} was already ${showValue(entry.change.old)}`
            : `restored ${subject} = ${showValue(entry.change.old)} in ${where} (was ${showValue(current)})`,
        ];
        if (fileAction !== 'none')
          parts.push(`${fileAction === 'remove' ? 'removed' : 'restored'} ${entry.persist!.path}`);
        const done = moveEntry(entry, 'reverted', now(), {}, parts.join('; '));
        await save(done);
        push(atOld && fileAction === 'none' ? 'closed' : 'restored', parts.join('; '), done);
      } catch (err) {
        if (err instanceof KdiagError && err.code === 'KDIAG_BUG') throw err;
        blocked.set(key, entry.id);
        push('failed', `${subject} in ${where}: ${errText(err)}; entry left ${entry.state}`);
      }
    }
    return outcomes;
  } finally {
    await lock.release();
  }
}

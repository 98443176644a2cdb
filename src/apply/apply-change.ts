// Makes one allowlisted change live: journal first (pending, with the old value), then write, then
// read back; a change that does not read back as written is rolled back, and that is journaled too.
import { join } from 'node:path';
import { KdiagError, UsageError } from '../errors.js';
import { KDIAG_VERSION } from '../version.js';
import { checkIpvsTimeouts, checkSysctl, type IpvsTimeouts } from './allowlist.js';
import { readRegularFile, writeFileAtomic } from '../host/atomic-file.js';
import {
  moveEntry,
  nextEntryId,
  pendingEntry,
  prepareJournalDir,
  putEntry,
  readJournal,
  sweepJournalTemps,
  writeJournal,
  type Journal,
  type JournalEntry,
  type JournalWhy,
} from './journal.js';
import type { LiveSystem } from './live-system.js';
import { acquireLock } from './lock.js';
import {
  applyConntrackUpdate,
  planConntrackUpdate,
  type ConntrackUpdateRequest,
  type PlannedConntrackUpdate,
} from './conntrack-update.js';
import { describeTarget, journalTarget, type Target } from './target.js';

/** What to change, before validation. */
export type ChangeRequest =
  | { readonly kind: 'sysctl'; readonly key: string; readonly value: string }
  | {
      readonly kind: 'ipvs-timeout';
      readonly tcp: number;
      readonly tcpfin: number;
      readonly udp: number;
    }
  | ConntrackUpdateRequest;

/** A validated change with the value it replaces. */
export type PlannedChange =
  | { readonly kind: 'sysctl'; readonly key: string; readonly old: string; readonly new: string }
  | {
      readonly kind: 'ipvs-timeout';
      readonly old: IpvsTimeouts;
      /** The full triple after the change (a requested 0 keeps the old value). */
      readonly new: IpvsTimeouts;
      readonly requested: IpvsTimeouts;
    }
  | PlannedConntrackUpdate;

export interface PersistPlan {
  readonly path: string;
  /** The file's current content; null = no file. Saved in the journal so revert can restore it. */
  readonly previous: string | null;
}

export interface Plan {
  readonly target: Target;
  readonly change: PlannedChange;
  readonly why: JournalWhy;
  readonly persist?: PersistPlan;
  /** Nothing to do: the live value is already the new one and no file is asked for. */
  readonly noop: boolean;
  /** Identity (`dev:inode`) of the target's namespace when planned: the change goes there or nowhere. */
  readonly nsId?: string;
}

/** Points where a crash can happen; tests kill the process at each to prove revert finishes the job. */
export type ApplyStep =
  | 'journaled-pending'
  | 'written'
  | 'persisted'
  | 'journaled-applied'
  | 'journaled-failed'
  | 'rolled-back';

export interface ApplyDeps {
  readonly live: LiveSystem;
  readonly journalDir: string;
  /** Where `--persist` files go (default /etc/sysctl.d). */
  readonly sysctlDir?: string;
  readonly now?: () => Date;
  readonly lockWaitMs?: number;
  /** Called after each step, before the next; awaited. */
  readonly onStep?: (step: ApplyStep, entry: JournalEntry) => void | Promise<void>;
}

export const DEFAULT_SYSCTL_DIR = '/etc/sysctl.d';

/** The sysctl.d file `--persist` writes for a key. */
export function persistPathFor(key: string, sysctlDir: string = DEFAULT_SYSCTL_DIR): string {
  return join(sysctlDir, `90-kdiag-${key}.conf`);
}

/** The content of a `--persist` file. */
export function persistContent(key: string, value: string, entryId: number, at: Date): string {
  return (
    `# Written by kdiag ${KDIAG_VERSION} at ${at.toISOString()} (journal entry ${entryId}).\n` +
    `# Undo with: kdiag revert ${entryId}\n` +
    `${key} = ${value}\n`
  );
}

function sameIpvs(a: IpvsTimeouts, b: IpvsTimeouts): boolean {
  return a.tcp === b.tcp && a.tcpfin === b.tcpfin && a.udp === b.udp;
}

/** Formats a change's value for people: `7200` or `tcp 900 tcpfin 120 udp 300`. */
export function showValue(v: string | IpvsTimeouts): string {
  return typeof v === 'string' ? v : `tcp ${v.tcp} tcpfin ${v.tcpfin} udp ${v.udp}`;
}

/** Whether a live value equals an expected one. */
export function sameValue(
  a: string | IpvsTimeouts | undefined,
  b: string | IpvsTimeouts | undefined,
): boolean {
  if (a === undefined || b === undefined) return false;
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return sameIpvs(a, b);
}

/** The label of what a change touches: the sysctl key or `ipvs timeouts`. */
export function changeSubject(change: { kind: string; key?: string; state?: string }): string {
  if (change.kind === 'conntrack-update') return `conntrack ${change.state ?? '?'} timers`;
  return change.kind === 'sysctl' ? (change.key ?? '?') : 'ipvs timeouts (tcp tcpfin udp)';
}

async function ensureNamespace(live: LiveSystem, target: Target): Promise<string | undefined> {
  const id = await live.namespaceId(target);
  if (id === undefined && target.kind === 'netns')
    throw new UsageError(`netns ${target.name} doesn't exist`, 'list them with: ip netns list');
  if (target.kind === 'pid' && id !== target.nsId) {
    throw new UsageError(
      id === undefined
        ? `process ${target.pid} is gone`
        : `process ${target.pid} left the network namespace it was chosen for`,
      're-run kdiag check to find the pod again',
    );
  }
  return id;
}

async function readCurrent(
  live: LiveSystem,
  change: { kind: 'sysctl'; key: string } | { kind: 'ipvs-timeout' },
  target: Target,
): Promise<string | IpvsTimeouts> {
  return change.kind === 'sysctl'
    ? live.readSysctl(change.key, target)
    : live.readIpvsTimeouts(target);
}

/** Validates a request against the allowlist and reads what it would replace. Changes nothing. */
export async function planChange(
  req: ChangeRequest,
  target: Target,
  why: JournalWhy,
  opts: { persist?: boolean; sysctlDir?: string },
  live: LiveSystem,
): Promise<Plan> {
  if (req.kind === 'conntrack-update')
    return planConntrackUpdate(req, target, why, opts, live, await ensureNamespace(live, target));
  if (req.kind === 'sysctl') {
    const { allowed, key, value } = checkSysctl(req.key, req.value);
    if (allowed.scope === 'init-only' && target.kind !== 'node') {
      throw new UsageError(
        `can't change ${key} in ${describeTarget(target)}: it is global, read-only outside the node's netns`,
      );
    }
    if (opts.persist && target.kind !== 'node') {
      throw new UsageError(
        `can't persist ${key} in ${describeTarget(target)}: a namespace's sysctls live and die with it`,
        'set it in the pod spec (securityContext.sysctls) instead',
      );
    }
    const nsId = await ensureNamespace(live, target);
    const old = await live.readSysctl(key, target);
    let persist: PersistPlan | undefined;
    if (opts.persist) {
      const path = persistPathFor(key, opts.sysctlDir);
      persist = { path, previous: await readRegularFile(path) };
    }
    return {
      target,
      change: { kind: 'sysctl', key, old, new: value },
      why,
      ...(persist ? { persist } : {}),
      noop: old === value && persist === undefined,
      ...(nsId === undefined ? {} : { nsId }),
    };
  }
  const requested = checkIpvsTimeouts(req);
  if (opts.persist) {
    throw new UsageError(
      "can't persist IPVS timeouts: they have no sysctl form",
      'set ipvs.tcpTimeout/tcpFinTimeout/udpTimeout in the KubeProxyConfiguration',
    );
  }
  const nsId = await ensureNamespace(live, target);
  const old = await live.readIpvsTimeouts(target);
  const next = {
    tcp: requested.tcp || old.tcp,
    tcpfin: requested.tcpfin || old.tcpfin,
    udp: requested.udp || old.udp,
  };
  return {
    target,
    change: { kind: 'ipvs-timeout', old, new: next, requested },
    why,
    noop: sameIpvs(old, next),
    ...(nsId === undefined ? {} : { nsId }),
  };
}

export interface ApplyOutcome {
  readonly ok: boolean;
  readonly entry: JournalEntry;
  /** On failure: whether the old value was restored and read back. */
  readonly rolledBack: boolean;
  /** One line for people. */
  readonly message: string;
}

function errText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 500);
}

async function writeValue(
  live: LiveSystem,
  change: Exclude<PlannedChange, PlannedConntrackUpdate>,
  value: 'old' | 'new',
  target: Target,
): Promise<void> {
  if (change.kind === 'sysctl') await live.writeSysctl(change.key, change[value], target);
  else await live.setIpvsTimeouts(value === 'new' ? change.requested : change.old, target);
}

/**
 * Makes a planned change under the journal lock. The old value is re-read under the lock; if it
 * moved since the plan was shown, nothing is changed. Returns ok=false (with the entry failed or
 * rolled-back) when the change did not read back as written; throws only when nothing was changed
 * or the journal itself can't be written.
 */
export async function applyPlan(plan: Plan, deps: ApplyDeps): Promise<ApplyOutcome> {
  const now = deps.now ?? (() => new Date());
  const { live, journalDir } = deps;
  const { change, target } = plan;
  if (change.kind === 'conntrack-update')
    return applyConntrackUpdate({ ...plan, change }, deps, () => ensureNamespace(live, target));
  const subject = changeSubject(change);
  const where = describeTarget(target);
  await prepareJournalDir(journalDir);
  const lock = await acquireLock(journalDir, { waitMs: deps.lockWaitMs ?? 3000 });
  try {
    await sweepJournalTemps(journalDir);
    let journal: Journal = await readJournal(journalDir);
    const nsId = await ensureNamespace(live, target);
    if (plan.nsId !== undefined && nsId !== plan.nsId) {
      throw new KdiagError(
        'KDIAG_REFUSED',
        `${where} is no longer the namespace the plan showed (${plan.nsId}, now ${nsId ?? 'gone'}): nothing changed`,
        { hint: 're-run to see the new plan' },
      );
    }
    const current = await readCurrent(live, change, target);
    if (!sameValue(current, change.old)) {
      throw new KdiagError(
        'KDIAG_REFUSED',
        `${subject} in ${where} changed to ${showValue(current)} since it was read (${showValue(change.old)}): nothing changed`,
        { hint: 're-run to see the new plan' },
      );
    }
    if (plan.persist && (await readRegularFile(plan.persist.path)) !== plan.persist.previous) {
      throw new KdiagError(
        'KDIAG_REFUSED',
        `${plan.persist.path} changed since it was read: nothing changed`,
        { hint: 're-run to see the new plan' },
      );
    }

    const at = now();
    const id = nextEntryId(journal);
    const persist =
      plan.persist && change.kind === 'sysctl'
        ? {
            path: plan.persist.path,
            previous: plan.persist.previous,
            content: persistContent(change.key, change.new, id, at),
          }
        : undefined;
    let entry = pendingEntry({
      id,
      at,
      change:
        change.kind === 'sysctl'
          ? { kind: 'sysctl', key: change.key, old: change.old, new: change.new }
          : { kind: 'ipvs-timeout', old: change.old, new: change.new },
      target: journalTarget(target),
      nsId,
      why: plan.why,
      version: KDIAG_VERSION,
      ...(persist ? { persist } : {}),
    });
    const save = async (e: JournalEntry): Promise<void> => {
      journal = putEntry(journal, e);
      await writeJournal(journalDir, journal);
    };
    await save(entry);
    await deps.onStep?.('journaled-pending', entry);

    let failure: string | undefined;
    try {
      await writeValue(live, change, 'new', target);
    } catch (err) {
      failure = `write refused: ${errText(err)}`;
    }
    if (failure === undefined) await deps.onStep?.('written', entry);
    let observed: string | IpvsTimeouts | undefined;
    try {
      observed = await readCurrent(live, change, target);
      if (failure === undefined && !sameValue(observed, change.new))
        failure = `wrote ${showValue(change.new)} but read back ${showValue(observed)}`;
    } catch (err) {
      failure ??= `read-back failed: ${errText(err)}`;
    }
    if (failure === undefined && persist) {
      try {
        await writeFileAtomic(persist.path, persist.content, 0o644);
      } catch (err) {
        failure = `can't write ${persist.path}: ${errText(err)}`;
      }
      if (failure === undefined) await deps.onStep?.('persisted', entry);
    }

    if (failure === undefined) {
      entry = moveEntry(entry, 'applied', now());
      await save(entry);
      await deps.onStep?.('journaled-applied', entry);
      return {
        ok: true,
        entry,
        rolledBack: false,
        message: `Applied ${subject} = ${showValue(change.new)} in ${where} (was ${showValue(change.old)}); journal entry ${id}`,
      };
    }

    // Failed: record what we saw before touching anything again, then restore the old value.
    entry = moveEntry(entry, 'failed', now(), {
      ...(observed === undefined ? {} : { observed }),
      error: failure,
    });
    await save(entry);
    await deps.onStep?.('journaled-failed', entry);
    let rollbackError: string | undefined;
    try {
      if (!sameValue(observed, change.old)) await writeValue(live, change, 'old', target);
      const back = await readCurrent(live, change, target);
      if (!sameValue(back, change.old))
        rollbackError = `rollback read back ${showValue(back)}, not ${showValue(change.old)}`;
    } catch (err) {
      rollbackError = `rollback failed: ${errText(err)}`;
    }
    if (rollbackError === undefined) {
      entry = moveEntry(entry, 'rolled-back', now(), {}, `restored ${showValue(change.old)}`);
      await save(entry);
      await deps.onStep?.('rolled-back', entry);
      return {
        ok: false,
        entry,
        rolledBack: true,
        message: `${subject} in ${where}: ${failure}; rolled back to ${showValue(change.old)} (journal entry ${id})`,
      };
    }
    entry = moveEntry(entry, 'failed', now(), { error: `${failure}; ${rollbackError}` });
    await save(entry);
    return {
      ok: false,
      entry,
      rolledBack: false,
      message: `${subject} in ${where}: ${failure}; ${rollbackError} — run: kdiag revert ${id}`,
    };
  } finally {
    await lock.release();
  }
}

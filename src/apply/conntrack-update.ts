// `kdiag apply` of a conntrack timer update: existing entries keep the deadline they were given until
// their next packet, whatever the sysctl says now (docs/kernel-timers.md b), and `conntrack -U
// -f FAMILY -p tcp --state STATE --timeout N` moves them at once. Apply journals every affected
// entry's tuple and remaining seconds before the update, runs it, and reads the timers back; revert
// gives each entry still present its journaled remaining seconds minus the time elapsed since, with
// one exact-tuple update each (a filtered update cannot give entries different values).
import { KdiagError, UsageError } from '../errors.js';
import { parseConntrackList } from '../parse/conntrack-entry.js';
import { conntrackUpdateArgs, tupleUpdateArgs } from '../suggest/deadline-suggestions.js';
import { KDIAG_VERSION } from '../version.js';
import type { ApplyDeps, ApplyOutcome, Plan } from './apply-change.js';
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
import { describeTarget, journalTarget, type Target } from './target.js';

/** One entry's original tuple and remaining seconds, as `conntrack -L` printed them. */
export interface CtTimer {
  readonly proto: string;
  readonly src: string;
  readonly dst: string;
  readonly sport: number;
  readonly dport: number;
  readonly remaining: number;
}

export interface ConntrackUpdateRequest {
  readonly kind: 'conntrack-update';
  readonly family: 'ipv4' | 'ipv6';
  readonly state: string;
  readonly timeoutSec: number;
}

export interface PlannedConntrackUpdate extends ConntrackUpdateRequest {
  /** For people and the journal: what the entries hold now, and what they will hold. */
  readonly old: string;
  readonly new: string;
  readonly entries: readonly CtTimer[];
}

const STATES = new Set([
  'ESTABLISHED',
  'CLOSE_WAIT',
  'FIN_WAIT',
  'TIME_WAIT',
  'LAST_ACK',
  'SYN_SENT',
  'SYN_RECV',
  'CLOSE',
]);
// Same bound as the conntrack timeout sysctls (proc_dointvec_jiffies at HZ=1000).
const MAX_TIMEOUT = 2_147_483;
/** Entries journaled at most: a table this large needs per-entry revert to stay bounded. */
export const MAX_ENTRIES = 100_000;
/** Slack for the read-back: the timer ticks while conntrack -L runs. */
const TICK = 2;

/** Checks a request against what kdiag may do (the allowlist of this kind of change). */
export function checkConntrackUpdate(req: ConntrackUpdateRequest): ConntrackUpdateRequest {
  if (req.family !== 'ipv4' && req.family !== 'ipv6')
    throw new UsageError(
      `conntrack update: family ${String(req.family).slice(0, 20)} is not ipv4 or ipv6`,
    );
  if (!STATES.has(req.state))
    throw new UsageError(
      `conntrack update: ${req.state.slice(0, 20)} is not a TCP conntrack state`,
      `one of ${[...STATES].join(', ')}`,
    );
  if (!Number.isSafeInteger(req.timeoutSec) || req.timeoutSec < 1 || req.timeoutSec > MAX_TIMEOUT)
    throw new UsageError(`conntrack update: --timeout ${req.timeoutSec} is not 1…${MAX_TIMEOUT} s`);
  return req;
}

/** `conntrack -L` arguments listing the entries a filtered update touches. */
export function listArgs(u: Pick<ConntrackUpdateRequest, 'family' | 'state'>): string[] {
  return ['-L', '-f', u.family, '-p', 'tcp', '--state', u.state];
}

/** The filtered update; without `-f` conntrack 1.4.7 fails every update with EOPNOTSUPP. */
export function updateArgs(u: ConntrackUpdateRequest): string[] {
  return conntrackUpdateArgs(u);
}

/** One entry's update by its exact original tuple. */
export function tupleArgs(t: CtTimer, timeoutSec: number): string[] {
  return tupleUpdateArgs(t, timeoutSec);
}

export function timerKey(t: Omit<CtTimer, 'remaining'>): string {
  return `${t.proto} ${t.src}:${t.sport}>${t.dst}:${t.dport}`;
}

/** The entries of a state with their remaining seconds. */
export async function readTimers(
  live: LiveSystem,
  u: Pick<ConntrackUpdateRequest, 'family' | 'state'>,
  target: Target,
): Promise<CtTimer[]> {
  const text = await live.conntrack(listArgs(u), target);
  const out: CtTimer[] = [];
  for (const e of parseConntrackList(text).value) {
    if (
      e.timeout === null ||
      e.state !== u.state ||
      e.orig.sport === undefined ||
      e.orig.dport === undefined
    )
      continue;
    out.push({
      proto: e.proto,
      src: e.orig.src,
      dst: e.orig.dst,
      sport: e.orig.sport,
      dport: e.orig.dport,
      remaining: e.timeout,
    });
  }
  return out;
}

function summary(entries: readonly CtTimer[]): string {
  if (entries.length === 0) return 'no entries';
  const r = entries.map((e) => e.remaining);
  return `${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}, ${Math.min(...r)}–${Math.max(...r)} s left`;
}

/** Reads the entries the update would move. Changes nothing. */
export async function planConntrackUpdate(
  req: ConntrackUpdateRequest,
  target: Target,
  why: JournalWhy,
  opts: { persist?: boolean },
  live: LiveSystem,
  nsId: string | undefined,
): Promise<Plan> {
  const u = checkConntrackUpdate(req);
  if (opts.persist)
    throw new UsageError(
      "can't persist a conntrack update: it moves the timers of entries that exist now",
      'the timeout sysctl is what new packets use',
    );
  const entries = await readTimers(live, u, target);
  const change: PlannedConntrackUpdate = {
    ...u,
    old: summary(entries),
    new: `${u.timeoutSec} s each`,
    entries,
  };
  return {
    target,
    change,
    why,
    noop: entries.length === 0,
    ...(nsId === undefined ? {} : { nsId }),
  };
}

/** The plan text's line on what revert does (a timer cannot be put back, only set again). */
export const REVERT_NOTE =
  'revert sets each entry still present back to its journaled remaining timeout minus the time elapsed since';

/**
 * Journals each affected entry (tuple, remaining seconds), runs the filtered update, reads the timers
 * back. Every entry still present must hold about the new timeout; otherwise the entries are set back
 * as revert would, and the entry says so.
 */
export async function applyConntrackUpdate(
  plan: Plan & { readonly change: PlannedConntrackUpdate },
  deps: ApplyDeps,
  ensureNs: () => Promise<string | undefined>,
): Promise<ApplyOutcome> {
  const now = deps.now ?? (() => new Date());
  const { live, journalDir } = deps;
  const { change, target } = plan;
  const where = describeTarget(target);
  const subject = `conntrack ${change.state} timers`;
  await prepareJournalDir(journalDir);
  const lock = await acquireLock(journalDir, { waitMs: deps.lockWaitMs ?? 3000 });
  try {
    await sweepJournalTemps(journalDir);
    let journal: Journal = await readJournal(journalDir);
    const nsId = await ensureNs();
    if (plan.nsId !== undefined && nsId !== plan.nsId) {
      throw new KdiagError(
        'KDIAG_REFUSED',
        `${where} is no longer the namespace the plan showed (${plan.nsId}, now ${nsId ?? 'gone'}): nothing changed`,
        { hint: 're-run to see the new plan' },
      );
    }
    // The timers move every second: what is journaled is what they hold now, under the lock.
    const before = (await readTimers(live, change, target)).slice(0, MAX_ENTRIES);
    const at = now();
    const id = nextEntryId(journal);
    let entry = pendingEntry({
      id,
      at,
      change: {
        kind: 'conntrack-update',
        family: change.family,
        state: change.state,
        timeout: change.timeoutSec,
        old: summary(before),
        new: change.new,
        entries: before,
      },
      target: journalTarget(target),
      nsId,
      why: plan.why,
      version: KDIAG_VERSION,
    });
    const save = async (e: JournalEntry): Promise<void> => {
      journal = putEntry(journal, e);
      await writeJournal(journalDir, journal);
    };
    await save(entry);
    await deps.onStep?.('journaled-pending', entry);
    let failure: string | undefined;
    try {
      await live.conntrack(updateArgs(change), target);
    } catch (err) {
      failure = `conntrack -U refused: ${errText(err)}`;
    }
    if (failure === undefined) await deps.onStep?.('written', entry);
    let after: CtTimer[] = [];
    try {
      after = await readTimers(live, change, target);
    } catch (err) {
      failure ??= `read-back failed: ${errText(err)}`;
    }
    const was = new Set(before.map(timerKey));
    const missed = after.filter(
      (t) => was.has(timerKey(t)) && t.remaining < change.timeoutSec - TICK,
    );
    if (failure === undefined && missed.length > 0)
      failure = `${missed.length} entr${missed.length === 1 ? 'y' : 'ies'} still hold their old timer (e.g. ${timerKey(missed[0]!)} at ${missed[0]!.remaining} s)`;
    if (failure === undefined) {
      entry = moveEntry(
        entry,
        'applied',
        now(),
        {},
        `read back: ${summary(after.filter((t) => was.has(timerKey(t))))}`,
      );
      await save(entry);
      await deps.onStep?.('journaled-applied', entry);
      return {
        ok: true,
        entry,
        rolledBack: false,
        message: `Applied ${subject} = ${change.timeoutSec} s in ${where} (was ${summary(before)}); journal entry ${id}`,
      };
    }
    entry = moveEntry(entry, 'failed', now(), { error: failure });
    await save(entry);
    await deps.onStep?.('journaled-failed', entry);
    const back = await restoreTimers(live, entry, target, now());
    if (back.failed === 0) {
      entry = moveEntry(entry, 'rolled-back', now(), {}, back.note);
      await save(entry);
      await deps.onStep?.('rolled-back', entry);
      return {
        ok: false,
        entry,
        rolledBack: true,
        message: `${subject} in ${where}: ${failure}; ${back.note} (journal entry ${id})`,
      };
    }
    entry = moveEntry(entry, 'failed', now(), { error: `${failure}; ${back.note}` });
    await save(entry);
    return {
      ok: false,
      entry,
      rolledBack: false,
      message: `${subject} in ${where}: ${failure}; ${back.note} — run: kdiag revert ${id}`,
    };
  } finally {
    await lock.release();
  }
}

/**
 * Sets each journaled entry still present back to its remaining seconds minus the time elapsed since
 * the entry was journaled (at least 1 s: an entry whose old deadline passed would have expired).
 */
export async function restoreTimers(
  live: LiveSystem,
  entry: JournalEntry,
  target: Target,
  at: Date,
): Promise<{ restored: number; gone: number; failed: number; note: string }> {
  const c = entry.change;
  if (c.kind !== 'conntrack-update')
    return { restored: 0, gone: 0, failed: 0, note: 'not a conntrack update' };
  const elapsed = Math.max(0, (at.getTime() - Date.parse(entry.when)) / 1000);
  const present = new Set(
    (await readTimers(live, { family: c.family, state: c.state }, target)).map(timerKey),
  );
  let restored = 0;
  let gone = 0;
  let failed = 0;
  for (const t of c.entries) {
    if (!present.has(timerKey(t))) {
      gone++;
      continue;
    }
    try {
      await live.conntrack(tupleArgs(t, Math.max(1, Math.round(t.remaining - elapsed))), target);
      restored++;
    } catch {
      failed++;
    }
  }
  const note = `set ${restored} entr${restored === 1 ? 'y' : 'ies'} back to their journaled timers minus ${Math.round(elapsed)} s elapsed${gone ? `; ${gone} gone since` : ''}${failed ? `; ${failed} refused` : ''}`;
  return { restored, gone, failed, note };
}

function errText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 500);
}

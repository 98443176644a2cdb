// The apply journal: every live change kdiag makes, written down before it is made.
// One versioned JSON file, replaced atomically on every state change, validated on every read.
//
// States (an entry only moves forward):
//   pending     journaled before the write; the change may or may not have happened
//   applied     written and read back as the new value
//   failed      the write was refused or read back differently (`observed`); rollback follows
//   rolled-back after a failure, the old value was restored and read back
//   reverted    `kdiag revert` restored the old value (or found it already in place)
import { chmod, lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { EnvironmentError, InputError, BugError } from '../errors.js';
import { writeFileAtomic } from '../host/atomic-file.js';
import { readTrustedFile } from '../host/trusted-file.js';

export const JOURNAL_FORMAT = 'kdiag-journal';
export const JOURNAL_VERSION = 1;
export const JOURNAL_FILE = 'journal.json';
export const DEFAULT_JOURNAL_DIR = '/var/lib/kdiag';

const STATES = ['pending', 'applied', 'failed', 'rolled-back', 'reverted'] as const;
export type EntryState = (typeof STATES)[number];

const iso = z.iso.datetime();
const ipvsTimeouts = z.object({
  tcp: z.number().int().min(0),
  tcpfin: z.number().int().min(0),
  udp: z.number().int().min(0),
});
const sysctlValue = z.string().max(64);
const ctTimer = z.object({
  proto: z.string().min(1).max(16),
  src: z.string().min(1).max(64),
  dst: z.string().min(1).max(64),
  sport: z.number().int().min(0).max(65535),
  dport: z.number().int().min(0).max(65535),
  remaining: z.number().int().min(0),
});

// Loose objects keep fields a newer kdiag added (same format version = only optional additions),
// so rewriting the journal never drops them.
const changeSchema = z.discriminatedUnion('kind', [
  z.looseObject({
    kind: z.literal('sysctl'),
    key: z.string().min(1).max(200),
    old: sysctlValue,
    new: sysctlValue,
  }),
  z.looseObject({ kind: z.literal('ipvs-timeout'), old: ipvsTimeouts, new: ipvsTimeouts }),
  // old/new are summaries for people; entries are what revert sets back (conntrack-update.ts).
  z.looseObject({
    kind: z.literal('conntrack-update'),
    family: z.enum(['ipv4', 'ipv6']),
    state: z.string().min(1).max(20),
    timeout: z.number().int().positive(),
    old: z.string().max(200),
    new: z.string().max(200),
    entries: z.array(ctTimer).max(100_000),
  }),
]);

const targetSchema = z.discriminatedUnion('kind', [
  z.looseObject({ kind: z.literal('node') }),
  z.looseObject({ kind: z.literal('netns'), name: z.string().min(1).max(64) }),
  /** A process's network namespace (a pod's without a name); the entry's nsId says which namespace. */
  z.looseObject({
    kind: z.literal('pid'),
    pid: z.number().int().positive(),
    label: z.string().min(1).max(200).optional(),
  }),
]);

const whySchema = z.looseObject({
  via: z.enum(['suggestion', 'change-flag']),
  suggestion: z.string().max(200).optional(),
  findings: z.array(z.string().max(500)).max(100),
  cause: z.string().max(2000).optional(),
});

const persistSchema = z.looseObject({
  path: z.string().min(1).max(4096),
  /** The file's content before kdiag wrote it; null = there was no file. */
  previous: z.string().max(1_000_000).nullable(),
  content: z.string().max(1_000_000),
});

const stepSchema = z.looseObject({
  state: z.enum(STATES),
  at: iso,
  note: z.string().max(2000).optional(),
});

const entrySchema = z.looseObject({
  id: z.number().int().positive(),
  state: z.enum(STATES),
  /** When the entry was created (the change was about to be made). */
  when: iso,
  change: changeSchema,
  target: targetSchema,
  /** Identity (`dev:inode`) of the network namespace at apply time: revert never writes into a re-created one. */
  nsId: z.string().max(100).optional(),
  why: whySchema,
  version: z.string().max(50),
  host: z.string().max(255).optional(),
  pid: z.number().int().positive(),
  persist: persistSchema.optional(),
  /** What was read back after a failed write. */
  observed: z.union([sysctlValue, ipvsTimeouts]).optional(),
  error: z.string().max(2000).optional(),
  history: z.array(stepSchema).min(1).max(100),
});

const journalSchema = z.looseObject({
  format: z.literal(JOURNAL_FORMAT),
  version: z.number().int(),
  entries: z.array(entrySchema),
});

export type JournalEntry = z.infer<typeof entrySchema>;
export type Journal = z.infer<typeof journalSchema>;
export type JournalChange = z.infer<typeof changeSchema>;
export type JournalWhy = z.infer<typeof whySchema>;
export type JournalPersist = z.infer<typeof persistSchema>;

/** Entries revert still has to finish. */
export function isOpen(entry: JournalEntry): boolean {
  return entry.state === 'pending' || entry.state === 'applied' || entry.state === 'failed';
}

const NEXT: Record<EntryState, readonly EntryState[]> = {
  pending: ['applied', 'failed', 'reverted'],
  applied: ['reverted'],
  // failed → failed records a rollback that did not work either.
  failed: ['failed', 'rolled-back', 'reverted'],
  'rolled-back': [],
  reverted: [],
};

/** Whether the state machine allows `from → to`. */
export function canMove(from: EntryState, to: EntryState): boolean {
  return NEXT[from].includes(to);
}

/** Returns the entry moved to `to` (history appended); a move the state machine forbids is a bug. */
export function moveEntry(
  entry: JournalEntry,
  to: EntryState,
  at: Date,
  patch: Partial<Pick<JournalEntry, 'observed' | 'error'>> = {},
  note?: string,
): JournalEntry {
  if (!canMove(entry.state, to))
    throw new BugError(`journal entry ${entry.id}: ${entry.state} → ${to} is not a valid move`);
  const step =
    note === undefined
      ? { state: to, at: at.toISOString() }
      : { state: to, at: at.toISOString(), note };
  return { ...entry, ...patch, state: to, history: [...entry.history, step] };
}

/** A new entry, written down before its change is made: by whom, where and why. */
export function pendingEntry(a: {
  id: number;
  at: Date;
  change: JournalChange;
  target: JournalEntry['target'];
  nsId: string | undefined;
  why: JournalWhy;
  version: string;
  persist?: JournalPersist;
}): JournalEntry {
  return {
    id: a.id,
    state: 'pending',
    when: a.at.toISOString(),
    change: a.change,
    target: a.target,
    ...(a.nsId === undefined ? {} : { nsId: a.nsId }),
    why: a.why,
    version: a.version,
    host: hostname(),
    pid: process.pid,
    ...(a.persist ? { persist: a.persist } : {}),
    history: [{ state: 'pending', at: a.at.toISOString() }],
  };
}

/** The journal with one entry replaced (by id) or appended. */
export function putEntry(journal: Journal, entry: JournalEntry): Journal {
  const i = journal.entries.findIndex((e) => e.id === entry.id);
  const entries =
    i < 0 ? [...journal.entries, entry] : journal.entries.map((e, j) => (j === i ? entry : e));
  return { ...journal, entries };
}

/** The id the next entry gets. */
export function nextEntryId(journal: Journal): number {
  return journal.entries.reduce((max, e) => Math.max(max, e.id), 0) + 1;
}

/** A journal with no entries (what a missing file reads as). */
export function emptyJournal(): Journal {
  return { format: JOURNAL_FORMAT, version: JOURNAL_VERSION, entries: [] };
}

/** `--journal-dir`, else `KDIAG_JOURNAL_DIR`, else /var/lib/kdiag. */
export function journalDirFrom(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  return flag ?? (env.KDIAG_JOURNAL_DIR || DEFAULT_JOURNAL_DIR);
}

/** The journal file inside a journal directory. */
export function journalPath(dir: string): string {
  return join(dir, JOURNAL_FILE);
}

/**
 * Creates the journal directory (0700) or checks an existing one: it must be a real directory owned
 * by us, so nobody else can plant or swap a journal that revert would act on.
 */
export async function prepareJournalDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const s = await lstat(dir);
  if (!s.isDirectory())
    throw new EnvironmentError(
      'KDIAG_ENVIRONMENT',
      `journal directory ${dir} is not a directory`,
      'point --journal-dir at a directory',
    );
  const uid = process.getuid?.();
  if (uid !== undefined && s.uid !== uid) {
    throw new EnvironmentError(
      'KDIAG_ENVIRONMENT',
      `journal directory ${dir} belongs to uid ${s.uid}, not ${uid}`,
      'use a directory only root can write (default /var/lib/kdiag)',
    );
  }
  if ((s.mode & 0o777) !== 0o700) await chmod(dir, 0o700);
}

/** Parses and validates journal text; any problem is a one-line InputError naming the file. */
export function parseJournal(text: string, file: string): Journal {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InputError(
      file,
      undefined,
      `corrupt journal: not JSON (${(err as Error).message.split('\n')[0]})`,
      { hint: 'kdiag never overwrites a journal it cannot read; move it aside to start a new one' },
    );
  }
  const version = (raw as { version?: unknown } | null)?.version;
  if (typeof version === 'number' && version > JOURNAL_VERSION) {
    throw new InputError(
      file,
      undefined,
      `journal format version ${version} is newer than this kdiag reads (${JOURNAL_VERSION})`,
      { code: 'KDIAG_UNSUPPORTED_VERSION', hint: 'use the kdiag version that wrote it' },
    );
  }
  const parsed = journalSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? issue.path.join('.') || '(top level)' : '?';
    throw new InputError(
      file,
      undefined,
      `corrupt journal: ${where}: ${issue?.message ?? 'invalid'}`,
      { hint: 'kdiag never overwrites a journal it cannot read; move it aside to start a new one' },
    );
  }
  if (parsed.data.version !== JOURNAL_VERSION)
    throw new InputError(
      file,
      undefined,
      `corrupt journal: unknown format version ${parsed.data.version}`,
    );
  const ids = new Set<number>();
  for (const e of parsed.data.entries) {
    if (ids.has(e.id))
      throw new InputError(file, undefined, `corrupt journal: entry id ${e.id} appears twice`);
    ids.add(e.id);
  }
  return parsed.data;
}

/** Reads the journal in `dir`; a missing file is an empty journal. */
export async function readJournal(dir: string): Promise<Journal> {
  const file = journalPath(dir);
  let text: string | null;
  try {
    text = await readTrustedFile(file, 'journal');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EACCES')
      throw new EnvironmentError(
        'KDIAG_NOT_ROOT',
        `can't read ${file}: permission denied`,
        're-run with sudo',
      );
    throw err;
  }
  return text === null ? emptyJournal() : parseJournal(text, file);
}

/** Removes temp files a killed writer left behind. Call only while holding the lock: then no journal write is in flight. */
export async function sweepJournalTemps(dir: string): Promise<string[]> {
  const prefix = `.${JOURNAL_FILE}.`;
  const stale = (await readdir(dir)).filter((f) => f.startsWith(prefix) && f.endsWith('.tmp'));
  for (const f of stale) await rm(join(dir, f), { force: true });
  return stale;
}

/** Replaces the journal atomically (mode 0600). Call only while holding the lock. */
export async function writeJournal(dir: string, journal: Journal): Promise<void> {
  // Validate what we write with the same schema we read with: a journal kdiag wrote is always readable.
  const text = `${JSON.stringify(journal, null, 2)}\n`;
  try {
    parseJournal(text, journalPath(dir));
  } catch (err) {
    throw new BugError(
      `kdiag built a journal it could not read back: ${(err as Error).message}`,
      err,
    );
  }
  await writeFileAtomic(journalPath(dir), text, 0o600);
}

// The journal, lock, apply and revert state machine against an in-memory system (no root needed).
import { execFileSync } from 'node:child_process';
import {
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  existsSync,
  readdirSync,
  mkdirSync,
  chmodSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  applyPlan,
  planChange,
  persistPathFor,
  type ChangeRequest,
} from '../../src/apply/apply-change.js';
import { formatJournal, formatPlan } from '../../src/apply/format.js';
import {
  canMove,
  journalDirFrom,
  moveEntry,
  parseJournal,
  readJournal,
  type EntryState,
} from '../../src/apply/journal.js';
import { acquireLock, LOCK_FILE } from '../../src/apply/lock.js';
import { requireRoot } from '../../src/host/root.js';
import { findSuggestion } from '../../src/apply/resolve.js';
import { revertEntries } from '../../src/apply/revert-change.js';
import type { Target } from '../../src/apply/target.js';
import { EnvironmentError, InputError, KdiagError, UsageError } from '../../src/errors.js';
import type { Diagnosis } from '../../src/model/diagnosis.js';
import { at, fakeLive, type FakeLive } from '../helpers/fake-live.js';

const KEEPALIVE = 'net.ipv4.tcp_keepalive_time';
const EST = 'net.netfilter.nf_conntrack_tcp_timeout_established';
const why = { via: 'change-flag' as const, findings: [], cause: 'unit test' };
const NS: Target = { kind: 'netns', name: 'ns1' };

let dir: string;
let jdir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kdiag-apply-unit-'));
  jdir = join(dir, 'journal');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function apply(
  live: FakeLive,
  req: ChangeRequest,
  target: Target = NS,
  extra: { persist?: boolean } = {},
) {
  const plan = await planChange(
    req,
    target,
    why,
    { ...extra, sysctlDir: join(dir, 'sysctl.d') },
    live,
  );
  return applyPlan(plan, { live, journalDir: jdir, lockWaitMs: 0 });
}
const sysctl = (key: string, value: string): ChangeRequest => ({ kind: 'sysctl', key, value });

describe('journal state machine', () => {
  it('moves only forward', () => {
    const allowed: [EntryState, EntryState][] = [
      ['pending', 'applied'],
      ['pending', 'failed'],
      ['pending', 'reverted'],
      ['applied', 'reverted'],
      ['failed', 'failed'],
      ['failed', 'rolled-back'],
      ['failed', 'reverted'],
    ];
    const states: EntryState[] = ['pending', 'applied', 'failed', 'rolled-back', 'reverted'];
    for (const a of states)
      for (const b of states)
        expect(canMove(a, b), `${a}→${b}`).toBe(allowed.some(([x, y]) => x === a && y === b));
  });

  it('moveEntry appends history and refuses a backward move', async () => {
    const live = fakeLive({ [at(KEEPALIVE, NS)]: '7200' }, { ns1: '4:1' });
    const { entry } = await apply(live, sysctl(KEEPALIVE, '600'));
    expect(entry.history.map((h) => h.state)).toEqual(['pending', 'applied']);
    expect(() => moveEntry(entry, 'pending', new Date())).toThrow(/not a valid move/);
  });
});

describe('apply (fake system)', () => {
  it('journals pending with the old value before the write, then applied; 0700/0600', async () => {
    const live = fakeLive({ [at(KEEPALIVE, NS)]: '7200' }, { ns1: '4:1' });
    const seen: string[] = [];
    const plan = await planChange(sysctl(KEEPALIVE, '600'), NS, why, {}, live);
    const outcome = await applyPlan(plan, {
      live,
      journalDir: jdir,
      now: () => new Date('2025-06-01T12:00:00Z'),
      onStep: async (step) => {
        const j = await readJournal(jdir);
        seen.push(`${step}:${j.entries[0]?.state}:${live.values.get(at(KEEPALIVE, NS))}`);
      },
    });
    expect(outcome.ok).toBe(true);
    expect(seen).toEqual([
      'journaled-pending:pending:7200',
      'written:pending:600',
      'journaled-applied:applied:600',
    ]);
    expect(statSync(jdir).mode & 0o777).toBe(0o700);
    expect(statSync(join(jdir, 'journal.json')).mode & 0o777).toBe(0o600);
    const raw = JSON.parse(readFileSync(join(jdir, 'journal.json'), 'utf8'));
    expect(raw).toMatchObject({ format: 'kdiag-journal', version: 1 });
    expect(raw.entries[0]).toMatchObject({
      id: 1,
      state: 'applied',
      when: '2025-06-01T12:00:00.000Z',
      change: { kind: 'sysctl', key: KEEPALIVE, old: '7200', new: '600' },
      target: { kind: 'netns', name: 'ns1' },
      nsId: '4:1',
      why,
      version: expect.any(String),
      pid: process.pid,
    });
    expect(readdirSync(jdir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(existsSync(join(jdir, LOCK_FILE))).toBe(false);
  });

  it('a write that reads back differently is failed, rolled back, and both are journaled', async () => {
    const live = fakeLive({ [at(KEEPALIVE, NS)]: '7200' }, { ns1: '4:1' });
    live.transform = (_k, v) => (v === '600' ? '601' : v);
    const out = await apply(live, sysctl(KEEPALIVE, '600'));
    expect(out).toMatchObject({ ok: false, rolledBack: true });
    expect(out.message).toMatch(/wrote 600 but read back 601; rolled back to 7200/);
    expect(live.values.get(at(KEEPALIVE, NS))).toBe('7200');
    const [e] = (await readJournal(jdir)).entries;
    expect(e).toMatchObject({ state: 'rolled-back', observed: '601' });
    expect(e!.history.map((h) => h.state)).toEqual(['pending', 'failed', 'rolled-back']);
  });

  it('a refused write is failed and rolled back; a failed rollback stays failed and says revert', async () => {
    const live = fakeLive({ [at(KEEPALIVE, NS)]: '7200' }, { ns1: '4:1' });
    live.writeSysctl = async () => {
      throw new Error('tee: Invalid argument');
    };
    const out = await apply(live, sysctl(KEEPALIVE, '600'));
    expect(out).toMatchObject({ ok: false, rolledBack: true });
    expect(out.entry.error).toMatch(/write refused: tee: Invalid argument/);

    const live2 = fakeLive({ [at(KEEPALIVE, NS)]: '7200' }, { ns1: '4:1' });
    live2.transform = () => '5'; // a write that always lands wrong, rollback included
    const out2 = await apply(live2, sysctl(KEEPALIVE, '600'));
    expect(out2).toMatchObject({ ok: false, rolledBack: false });
    expect(out2.message).toMatch(/kdiag revert 2/);
    expect(out2.entry.state).toBe('failed');
  });

  it('sweeps temp files a killed writer left, and plans nothing when the value is already set', async () => {
    const live = fakeLive({ [at(KEEPALIVE, NS)]: '7200' }, { ns1: '4:1' });
    mkdirSync(jdir, { mode: 0o700 });
    writeFileSync(join(jdir, '.journal.json.999.abcd1234.tmp'), '{"torn":');
    await apply(live, sysctl(KEEPALIVE, '600'));
    expect(readdirSync(jdir).sort()).toEqual(['journal.json']);
    expect((await planChange(sysctl(KEEPALIVE, '600'), NS, why, {}, live)).noop).toBe(true);
  });

  it('refuses when the value moved between plan and apply, changing nothing', async () => {
    const live = fakeLive({ [at(KEEPALIVE, NS)]: '7200' }, { ns1: '4:1' });
    const plan = await planChange(sysctl(KEEPALIVE, '600'), NS, why, {}, live);
    live.values.set(at(KEEPALIVE, NS), '300');
    await expect(applyPlan(plan, { live, journalDir: jdir })).rejects.toThrow(
      /changed to 300 since it was read/,
    );
    expect(live.writes).toEqual([]);
    expect((await readJournal(jdir)).entries).toEqual([]);
  });

  it('refuses netns persistence, global keys in a netns, and missing namespaces', async () => {
    const live = fakeLive(
      { [at(KEEPALIVE, NS)]: '7200', [at('net.netfilter.nf_conntrack_max', NS)]: '262144' },
      { ns1: '4:1' },
    );
    await expect(
      planChange(sysctl(KEEPALIVE, '600'), NS, why, { persist: true }, live),
    ).rejects.toThrow(/can't persist/);
    await expect(
      planChange(sysctl('net.netfilter.nf_conntrack_max', '1000'), NS, why, {}, live),
    ).rejects.toThrow(/global/);
    await expect(
      planChange(sysctl(KEEPALIVE, '600'), { kind: 'netns', name: 'gone' }, why, {}, live),
    ).rejects.toThrow(/netns gone doesn't exist/);
    await expect(planChange(sysctl('kernel.panic', '1'), NS, why, {}, live)).rejects.toThrow(
      UsageError,
    );
  });

  it('IPVS: 0 keeps the old value; the journal holds full triples; revert restores them', async () => {
    const live = fakeLive({});
    live.ipvs = { tcp: 900, tcpfin: 120, udp: 300 };
    const out = await apply(
      live,
      { kind: 'ipvs-timeout', tcp: 7260, tcpfin: 0, udp: 0 },
      { kind: 'node' },
    );
    expect(out.ok).toBe(true);
    expect(out.entry.change).toEqual({
      kind: 'ipvs-timeout',
      old: { tcp: 900, tcpfin: 120, udp: 300 },
      new: { tcp: 7260, tcpfin: 120, udp: 300 },
    });
    expect(live.writes).toEqual(['ipvs=7260,0,0']);
    const [r] = await revertEntries({ ids: [1] }, { live, journalDir: jdir });
    expect(r!.status).toBe('restored');
    expect(live.ipvs).toEqual({ tcp: 900, tcpfin: 120, udp: 300 });
    await expect(
      planChange(
        { kind: 'ipvs-timeout', tcp: 1, tcpfin: 0, udp: 0 },
        { kind: 'node' },
        why,
        { persist: true },
        live,
      ),
    ).rejects.toThrow(/no sysctl form/);
  });

  it('--persist (node, fake system) writes sysctl.d atomically and revert restores the previous file', async () => {
    const live = fakeLive({ [at(EST)]: '432000' });
    const sysctlDir = join(dir, 'sysctl.d');
    mkdirSync(sysctlDir);
    const path = persistPathFor(EST, sysctlDir);
    writeFileSync(path, `${EST} = 7200\n`);
    const out = await apply(live, sysctl(EST, '86400'), { kind: 'node' }, { persist: true });
    expect(out.ok).toBe(true);
    expect(readFileSync(path, 'utf8')).toMatch(new RegExp(`kdiag revert 1\\n${EST} = 86400\\n$`));
    expect(statSync(path).mode & 0o777).toBe(0o644);
    expect(out.entry.persist).toMatchObject({ path, previous: `${EST} = 7200\n` });
    const [r] = await revertEntries({ all: true }, { live, journalDir: jdir });
    expect(r!.message).toMatch(/restored .*sysctl\.d/);
    expect(readFileSync(path, 'utf8')).toBe(`${EST} = 7200\n`);
    expect(live.values.get(at(EST))).toBe('432000');

    // No previous file: revert removes ours; a file edited since is left alone.
    rmSync(path);
    await apply(live, sysctl(EST, '86400'), { kind: 'node' }, { persist: true });
    expect(existsSync(path)).toBe(true);
    await revertEntries({ all: true }, { live, journalDir: jdir });
    expect(existsSync(path)).toBe(false);
    await apply(live, sysctl(EST, '86400'), { kind: 'node' }, { persist: true });
    writeFileSync(path, `${EST} = 1\n`);
    const [c] = await revertEntries({ all: true }, { live, journalDir: jdir });
    expect(c!.status).toBe('skipped');
    expect(c!.message).toMatch(/was edited since kdiag wrote it/);
    expect(live.values.get(at(EST))).toBe('86400');
  });
});

describe('revert (fake system)', () => {
  it('restores newest first and records reverted with the time', async () => {
    const live = fakeLive({ [at(KEEPALIVE, NS)]: '7200' }, { ns1: '4:1' });
    await apply(live, sysctl(KEEPALIVE, '600'));
    await apply(live, sysctl(KEEPALIVE, '300'));
    const out = await revertEntries(
      { all: true },
      { live, journalDir: jdir, now: () => new Date('2025-06-02T00:00:00Z') },
    );
    expect(out.map((o) => [o.id, o.status])).toEqual([
      [2, 'restored'],
      [1, 'restored'],
    ]);
    expect(live.values.get(at(KEEPALIVE, NS))).toBe('7200');
    const j = await readJournal(jdir);
    expect(j.entries.map((e) => e.state)).toEqual(['reverted', 'reverted']);
    expect(j.entries[0]!.history.at(-1)).toMatchObject({
      state: 'reverted',
      at: '2025-06-02T00:00:00.000Z',
    });
    expect((await revertEntries({ ids: [1] }, { live, journalDir: jdir }))[0]!.status).toBe(
      'already',
    );
  });

  it('leaves an older entry alone while a newer one on the same key stays applied', async () => {
    const live = fakeLive({ [at(KEEPALIVE, NS)]: '7200' }, { ns1: '4:1' });
    await apply(live, sysctl(KEEPALIVE, '600'));
    await apply(live, sysctl(KEEPALIVE, '300'));
    const [r] = await revertEntries({ ids: [1] }, { live, journalDir: jdir });
    expect(r).toMatchObject({ status: 'skipped' });
    expect(r!.message).toMatch(/changed again by entry 2/);
    expect(live.values.get(at(KEEPALIVE, NS))).toBe('300');
  });

  it('a value someone else changed is left alone unless --force', async () => {
    const live = fakeLive({ [at(KEEPALIVE, NS)]: '7200' }, { ns1: '4:1' });
    await apply(live, sysctl(KEEPALIVE, '600'));
    live.values.set(at(KEEPALIVE, NS), '999');
    const [r] = await revertEntries({ all: true }, { live, journalDir: jdir });
    expect(r).toMatchObject({ status: 'skipped' });
    expect(r!.message).toMatch(/is now 999, neither the old 7200 nor kdiag's 600/);
    expect(live.values.get(at(KEEPALIVE, NS))).toBe('999');
    const dry = await revertEntries(
      { all: true },
      { live, journalDir: jdir, force: true, dryRun: true },
    );
    expect(dry[0]!.status).toBe('would-restore');
    expect(live.values.get(at(KEEPALIVE, NS))).toBe('999');
    expect((await readJournal(jdir)).entries[0]!.state).toBe('applied');
    const [f] = await revertEntries({ all: true }, { live, journalDir: jdir, force: true });
    expect(f!.status).toBe('restored');
    expect(live.values.get(at(KEEPALIVE, NS))).toBe('7200');
  });

  it('closes entries whose netns is gone or was re-created, writing nothing', async () => {
    const live = fakeLive({ [at(KEEPALIVE, NS)]: '7200' }, { ns1: '4:1' });
    await apply(live, sysctl(KEEPALIVE, '600'));
    live.namespaces.set('ns1', '4:2');
    const [r] = await revertEntries({ all: true }, { live, journalDir: jdir });
    expect(r).toMatchObject({ status: 'closed' });
    expect(r!.message).toMatch(/deleted and created again/);
    expect(live.writes).toEqual([`${at(KEEPALIVE, NS)}=600`]);
  });

  it('finishes a pending entry either way: not yet written, or written', async () => {
    for (const crashAfterWrite of [false, true]) {
      rmSync(jdir, { recursive: true, force: true });
      const live = fakeLive({ [at(KEEPALIVE, NS)]: '7200' }, { ns1: '4:1' });
      const plan = await planChange(sysctl(KEEPALIVE, '600'), NS, why, {}, live);
      const crash = new Error('simulated crash');
      await expect(
        applyPlan(plan, {
          live,
          journalDir: jdir,
          onStep: (s) => {
            if (s === (crashAfterWrite ? 'written' : 'journaled-pending')) throw crash;
          },
        }),
      ).rejects.toBe(crash);
      expect((await readJournal(jdir)).entries[0]!.state).toBe('pending');
      const [r] = await revertEntries({ all: true }, { live, journalDir: jdir });
      expect(r!.status).toBe(crashAfterWrite ? 'restored' : 'closed');
      expect(live.values.get(at(KEEPALIVE, NS))).toBe('7200');
    }
  });

  it('unknown ids are a UsageError listing open entries', async () => {
    const live = fakeLive({ [at(KEEPALIVE, NS)]: '7200' }, { ns1: '4:1' });
    await apply(live, sysctl(KEEPALIVE, '600'));
    await expect(revertEntries({ ids: [9] }, { live, journalDir: jdir })).rejects.toThrow(
      UsageError,
    );
    await expect(revertEntries({ ids: [9] }, { live, journalDir: jdir })).rejects.toMatchObject({
      hint: 'entries still to revert: 1',
    });
  });
});

describe('journal file', () => {
  it('a corrupt journal is a one-line error naming the file, and is never overwritten', async () => {
    const live = fakeLive({ [at(KEEPALIVE, NS)]: '7200' }, { ns1: '4:1' });
    mkdirSync(jdir, { mode: 0o700 });
    for (const bad of [
      '{not json',
      '{"format":"kdiag-journal","version":1,"entries":[{"id":1}]}',
      '[]',
    ]) {
      writeFileSync(join(jdir, 'journal.json'), bad, { mode: 0o600 });
      const err = await apply(live, sysctl(KEEPALIVE, '600')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toContain(join(jdir, 'journal.json'));
      expect((err as Error).message).toMatch(/corrupt journal/);
      expect((err as Error).message).not.toContain('\n');
      expect(readFileSync(join(jdir, 'journal.json'), 'utf8')).toBe(bad);
      expect(live.writes).toEqual([]);
    }
  });

  it('refuses a journal from a newer format version', () => {
    expect(() =>
      parseJournal('{"format":"kdiag-journal","version":2,"entries":[]}', '/x/journal.json'),
    ).toThrow(/version 2 is newer/);
  });

  it('keeps fields a newer kdiag added when rewriting', async () => {
    const live = fakeLive({ [at(KEEPALIVE, NS)]: '7200' }, { ns1: '4:1' });
    await apply(live, sysctl(KEEPALIVE, '600'));
    const p = join(jdir, 'journal.json');
    const raw = JSON.parse(readFileSync(p, 'utf8'));
    raw.entries[0].futureField = 'kept';
    writeFileSync(p, JSON.stringify(raw));
    await revertEntries({ all: true }, { live, journalDir: jdir });
    expect(JSON.parse(readFileSync(p, 'utf8')).entries[0]).toMatchObject({
      state: 'reverted',
      futureField: 'kept',
    });
  });

  it('tightens a loose journal directory to 0700', async () => {
    const live = fakeLive({ [at(KEEPALIVE, NS)]: '7200' }, { ns1: '4:1' });
    mkdirSync(jdir);
    chmodSync(jdir, 0o755);
    await apply(live, sysctl(KEEPALIVE, '600'));
    expect(statSync(jdir).mode & 0o777).toBe(0o700);
  });

  it('takes the directory from the flag, then KDIAG_JOURNAL_DIR, then /var/lib/kdiag', () => {
    expect(journalDirFrom('/a', { KDIAG_JOURNAL_DIR: '/b' })).toBe('/a');
    expect(journalDirFrom(undefined, { KDIAG_JOURNAL_DIR: '/b' })).toBe('/b');
    expect(journalDirFrom(undefined, {})).toBe('/var/lib/kdiag');
  });
});

describe('lock', () => {
  it('a second holder is refused while the first holds it, and may take it after release', async () => {
    mkdirSync(jdir, { mode: 0o700 });
    const first = await acquireLock(jdir);
    const err = await acquireLock(jdir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KdiagError);
    expect((err as KdiagError).message).toMatch(
      new RegExp(`another kdiag is changing settings \\(pid ${process.pid}`),
    );
    await first.release();
    const second = await acquireLock(jdir);
    await second.release();
    expect(existsSync(join(jdir, LOCK_FILE))).toBe(false);
  });

  it('breaks a lock whose process is gone, but not one whose process lives', async () => {
    mkdirSync(jdir, { mode: 0o700 });
    const dead = Number(execFileSync('sh', ['-c', 'sh -c "echo \\$\\$" ']).toString().trim()); // exited already
    const { hostname } = await import('node:os');
    writeFileSync(
      join(jdir, LOCK_FILE),
      JSON.stringify({ pid: dead, start: '1', host: hostname(), token: 'x', at: 'then' }),
    );
    const got = await acquireLock(jdir);
    await got.release();
    const { processStart } = await import('../../src/apply/lock.js');
    writeFileSync(
      join(jdir, LOCK_FILE),
      JSON.stringify({
        pid: 1,
        start: await processStart(1),
        host: hostname(),
        token: 'y',
        at: 'now',
      }),
    );
    await expect(acquireLock(jdir)).rejects.toThrow(/pid 1/);
    // A reused pid (same number, other start time) is stale too.
    writeFileSync(
      join(jdir, LOCK_FILE),
      JSON.stringify({ pid: 1, start: '0', host: hostname(), token: 'z', at: 'then' }),
    );
    await (await acquireLock(jdir)).release();
  });
});

describe('text and errors', () => {
  it('plan and journal lines fit 80 columns', async () => {
    const live = fakeLive(
      { [at(EST, { kind: 'netns', name: 'n'.repeat(64) })]: '432000' },
      { ['n'.repeat(64)]: '1:1' },
    );
    const target: Target = { kind: 'netns', name: 'n'.repeat(64) };
    const plan = await planChange(
      sysctl(EST, '86400'),
      target,
      {
        via: 'suggestion',
        suggestion: 'node-conntrack-established',
        findings: ['fm1.conntrack-expiry:tcp 10.0.0.1:42766>10.96.0.10:80'],
        cause: 'word '.repeat(60),
      },
      {},
      live,
    );
    const lines = formatPlan(plan, {
      suggestionTitle:
        'Raise the conntrack established timeout above the idle time of your longest idle flow',
      findings: [],
      journalFile: `/var/lib/kdiag/${'x'.repeat(90)}`,
    });
    expect(lines.join('\n')).toMatch(/432000 → 86400/);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    await applyPlan(plan, { live, journalDir: jdir });
    const jl = formatJournal((await readJournal(jdir)).entries);
    expect(jl[0]).toMatch(/^#1 +applied/);
    for (const l of jl) expect(l.length).toBeLessThanOrEqual(80);
  });

  it('not root → EnvironmentError with the sudo hint', () => {
    expect(() => requireRoot('apply changes', { uid: 1000 })).toThrow(EnvironmentError);
    expect(() => requireRoot('apply changes', { uid: 1000 })).toThrow(
      "can't apply changes: not root",
    );
    try {
      requireRoot('x', { uid: 1000 });
    } catch (e) {
      expect((e as EnvironmentError).hint).toBe('re-run with sudo');
    }
    expect(() => requireRoot('read the node', { uid: 1000, why: 'conntrack needs it' })).toThrow(
      "can't read the node: not root (conntrack needs it)",
    );
    expect(() => requireRoot('x', { uid: 0 })).not.toThrow();
  });

  it('an unknown suggestion id lists the ids there are', () => {
    const d = {
      at: 0,
      findings: [],
      predictions: [],
      flows: [],
      suggestions: [
        {
          id: 'node-conntrack-established',
          scope: 'node',
          rank: 3,
          title: 't',
          rationale: 'r',
          fixes: [],
          commands: [],
          warnings: [],
          change: { kind: 'sysctl', key: EST, value: '86400' },
        },
        {
          id: 'pod-keepalive-time',
          scope: 'pod',
          rank: 2,
          title: 't',
          rationale: 'r',
          fixes: [],
          commands: [],
          warnings: [],
        },
      ],
    } as Diagnosis;
    const err = (() => {
      try {
        findSuggestion(d, 'nope');
      } catch (e) {
        return e as UsageError;
      }
    })();
    expect(err).toBeInstanceOf(UsageError);
    expect(err!.message).toBe('no suggestion "nope" in the current diagnosis');
    expect(err!.hint).toBe(
      'kdiag can apply: node-conntrack-established; others: pod-keepalive-time',
    );
    expect(findSuggestion(d, 'node-conntrack-established').suggestion.id).toBe(
      'node-conntrack-established',
    );
  });
});

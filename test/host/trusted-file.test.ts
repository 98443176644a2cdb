import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { journalPath, readJournal } from '../../src/apply/journal.js';
import { acquireLock, LOCK_FILE } from '../../src/apply/lock.js';
import { KdiagError } from '../../src/errors.js';
import { readTrustedFile, untrustedBecause } from '../../src/host/trusted-file.js';

const EMPTY = '{"format":"kdiag-journal","version":1,"entries":[]}\n';
const stat = (uid: number, mode: number, file = true) => ({ uid, mode, isFile: () => file });

describe('untrustedBecause (pure)', () => {
  it('trusts a regular file of root (or of kdiag itself) that only its owner writes', () => {
    expect(untrustedBecause(stat(0, 0o100600), 0)).toBeUndefined();
    expect(untrustedBecause(stat(0, 0o100644), 0)).toBeUndefined();
    expect(untrustedBecause(stat(1000, 0o100600), 1000)).toBeUndefined();
  });
  it('refuses another owner, group or other write, and anything not a regular file', () => {
    expect(untrustedBecause(stat(1000, 0o100600), 0)).toBe('owned by uid 1000, not root');
    expect(untrustedBecause(stat(0, 0o100664), 0)).toBe('writable by group or others (mode 0664)');
    expect(untrustedBecause(stat(0, 0o100602), 0)).toBe('writable by group or others (mode 0602)');
    expect(untrustedBecause(stat(0, 0o040700, false), 0)).toBe('not a regular file');
  });
});

describe('journal and lock files are checked before they are trusted', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'kdiag-trust-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const dir = (name: string): string => {
    const d = join(root, name);
    mkdirSync(d, { mode: 0o700 });
    return d;
  };

  it('reads a journal written 0600, refuses one others can write, with one line', async () => {
    const d = dir('j1');
    writeFileSync(journalPath(d), EMPTY, { mode: 0o600 });
    expect((await readJournal(d)).entries).toEqual([]);
    chmodSync(journalPath(d), 0o666);
    const err = await readJournal(d).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KdiagError);
    expect((err as Error).message).toBe(
      `won't trust journal ${journalPath(d)}: writable by group or others (mode 0666)`,
    );
    expect((err as Error).message).not.toContain('\n');
  });

  it('refuses a journal that is a symlink', async () => {
    const d = dir('j2');
    writeFileSync(join(root, 'elsewhere.json'), EMPTY, { mode: 0o600 });
    symlinkSync(join(root, 'elsewhere.json'), journalPath(d));
    await expect(readJournal(d)).rejects.toThrow(/won't trust journal .*: a symbolic link/);
  });

  it('refuses to judge, break or wait on a lock file others can write', async () => {
    const d = dir('l1');
    writeFileSync(
      join(d, LOCK_FILE),
      '{"pid":999999,"start":null,"host":"x","token":"t","at":""}\n',
      { mode: 0o600 },
    );
    chmodSync(join(d, LOCK_FILE), 0o646);
    await expect(acquireLock(d)).rejects.toThrow(
      `won't trust lock file ${join(d, LOCK_FILE)}: writable by group or others (mode 0646)`,
    );
  });

  it('a missing file reads as null; our own 0600 lock is taken and released', async () => {
    expect(await readTrustedFile(join(root, 'none'), 'journal')).toBeNull();
    const d = dir('l2');
    const lock = await acquireLock(d);
    await lock.release();
  });
});

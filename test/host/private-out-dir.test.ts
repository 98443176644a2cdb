// Output folders written as root: built privately, renamed into place, links and other users'
// folders refused, a target swapped for a link while kdiag writes never written through.
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stageOutputDir, unsafeParentBecause } from '../../src/host/private-out-dir.js';
import { collectBundle } from '../../src/services/collect.js';

const isRoot = process.getuid?.() === 0;
let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'kdiag-outdir-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('stageOutputDir', () => {
  it('writes in a private 0700 folder next to the target, then renames it into place', async () => {
    const target = join(root, 'bundle');
    const s = await stageOutputDir(target, '--out');
    expect(statSync(s.path).mode & 0o777).toBe(0o700);
    expect(s.path.startsWith(join(root, '.bundle.kdiag-'))).toBe(true);
    writeFileSync(join(s.path, 'a.txt'), 'x');
    await s.commit();
    expect(readdirSync(target)).toEqual(['a.txt']);
    expect(statSync(target).mode & 0o777).toBe(0o755);
    expect(readdirSync(root).filter((n) => n.includes('kdiag-'))).toEqual([]);
  });

  it('refuses a link planted at the target before the run, dangling or not', async () => {
    const elsewhere = join(root, 'elsewhere');
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, join(root, 'link'));
    symlinkSync(join(root, 'nowhere'), join(root, 'dangling'));
    await expect(stageOutputDir(join(root, 'link'), '--out')).rejects.toThrow(
      /refusing .*link: it is a symbolic link/,
    );
    await expect(stageOutputDir(join(root, 'dangling'), '--out')).rejects.toThrow(/symbolic link/);
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it('a target swapped for a link mid-run: nothing written through it, the output kept', async () => {
    const victim = join(root, 'victim');
    mkdirSync(victim);
    const target = join(root, 'swapped');
    const s = await stageOutputDir(target, '--out');
    writeFileSync(join(s.path, 'conntrack-L.txt'), 'x');
    // Someone plants a link where the bundle will go while kdiag writes.
    symlinkSync(victim, target);
    await expect(s.commit()).rejects.toThrow(
      /swapped changed while kdiag wrote .*nothing was written there, the output is in /,
    );
    expect(readdirSync(victim)).toEqual([]);
    expect(readlinkSync(target)).toBe(victim);
    expect(readdirSync(s.path)).toEqual(['conntrack-L.txt']);
  });

  it('a target filled by someone else mid-run: the rename fails, their files stay', async () => {
    const target = join(root, 'filled');
    const s = await stageOutputDir(target, '--out');
    mkdirSync(target);
    writeFileSync(join(target, 'theirs'), 'y');
    await expect(s.commit()).rejects.toThrow(/ENOTEMPTY|ENOTDIR|EEXIST/);
    expect(readdirSync(target)).toEqual(['theirs']);
  });

  it.skipIf(!isRoot)('refuses an existing folder owned by another user', async () => {
    const theirs = join(root, 'theirs');
    mkdirSync(theirs);
    chownSync(theirs, 65534, 65534);
    await expect(stageOutputDir(theirs, '--out')).rejects.toThrow(
      /refusing .*theirs: owned by another user \(uid 65534\)/,
    );
  });

  it('judges the parent folder: others may write only with the sticky bit', () => {
    const dir = (mode: number, uid = 0) => ({ uid, mode, isDirectory: () => true });
    expect(unsafeParentBecause(dir(0o41777), 0)).toBeUndefined(); // /tmp
    expect(unsafeParentBecause(dir(0o40777), 0)).toMatch(/without the sticky bit/);
    expect(unsafeParentBecause(dir(0o40755, 1000), 0)).toMatch(/another user/);
    expect(unsafeParentBecause(dir(0o40755, 1000), 1000)).toBeUndefined();
    expect(unsafeParentBecause({ uid: 0, mode: 0o100644, isDirectory: () => false }, 0)).toBe(
      'not a folder',
    );
  });

  it('refuses a world-writable parent without the sticky bit', async () => {
    const open = join(root, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    await expect(stageOutputDir(join(open, 'b'), '--out')).rejects.toThrow(
      /without the sticky bit/,
    );
    expect(existsSync(join(open, 'b'))).toBe(false);
  });
});

describe('kdiag collect --out', () => {
  it('refuses a planted link before running anything', async () => {
    const victim = join(root, 'collect-victim');
    mkdirSync(victim);
    symlinkSync(victim, join(root, 'collect-link'));
    await expect(collectBundle({ out: join(root, 'collect-link') })).rejects.toThrow(
      /symbolic link/,
    );
    expect(readdirSync(victim)).toEqual([]);
    expect(lstatSync(join(root, 'collect-link')).isSymbolicLink()).toBe(true);
  });
});

describe('kdiag trace --record FILE', () => {
  it.skipIf(!isRoot)('refuses a folder others can swap files in, before any probe', async () => {
    const { runKdiag } = await import('../helpers/run-kdiag.js');
    const open = join(root, 'rec-open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const r = await runKdiag(['trace', '--record', join(open, 'x.ndjson'), '--duration', '1s']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `refusing ${open} for --record: writable by other users without the sticky bit`,
    );
    expect(readdirSync(open)).toEqual([]);
  });
});

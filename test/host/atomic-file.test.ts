import {
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRegularFile, writeFileAtomic } from '../../src/host/atomic-file.js';

describe('writeFileAtomic', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'kdiag-atomic-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('replaces the content whole and leaves no temp file', async () => {
    const f = join(root, 'a.txt');
    await writeFileAtomic(f, 'one\n');
    await writeFileAtomic(f, 'two\n');
    expect(readFileSync(f, 'utf8')).toBe('two\n');
    expect(readdirSync(root).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('creates 0600 unless told, and the mode it is told despite the umask', async () => {
    const f = join(root, 'm.txt');
    await writeFileAtomic(f, 'x');
    expect(statSync(f).mode & 0o777).toBe(0o600);
    const g = join(root, 'g.txt');
    await writeFileAtomic(g, 'x', 0o644);
    expect(statSync(g).mode & 0o777).toBe(0o644);
  });

  it("replaces a symlink at the path itself, never writing through it to the link's target", async () => {
    const victim = join(root, 'victim.txt');
    writeFileSync(victim, 'keep\n');
    const f = join(root, 'link.txt');
    symlinkSync(victim, f);
    await writeFileAtomic(f, 'new\n');
    expect(readFileSync(victim, 'utf8')).toBe('keep\n');
    expect(lstatSync(f).isSymbolicLink()).toBe(false);
    expect(readFileSync(f, 'utf8')).toBe('new\n');
  });

  it('fails, writing nothing, when the directory is gone', async () => {
    await expect(writeFileAtomic(join(root, 'no-such-dir', 'f'), 'x')).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  it('readRegularFile: null for a missing file, refuses a symlink', async () => {
    expect(await readRegularFile(join(root, 'missing'))).toBeNull();
    symlinkSync(join(root, 'a.txt'), join(root, 'l2'));
    await expect(readRegularFile(join(root, 'l2'))).rejects.toThrow(/not a regular file/);
  });
});

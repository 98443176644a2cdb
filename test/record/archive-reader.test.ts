// readArchive over archives made here with tar(1) and python3's zipfile/tarfile: a bundle folder
// read back whole, and the refusals (absolute names, `..`, too many entries, bombs, damage).
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import {
  ARCHIVE_LIMITS,
  archiveKindOf,
  readArchive,
  safeEntryName,
} from '../../src/record/archive-reader.js';
import { crc32 } from '../../src/record/zip-entries.js';

const BUNDLE = fileURLToPath(
  new URL('../../fixtures/bundles/keepalive-sysctl-trap/', import.meta.url),
);

let dir: string;

function bundleFiles(): Map<string, string> {
  return new Map(readdirSync(BUNDLE).map((n) => [n, readFileSync(join(BUNDLE, n), 'utf8')]));
}

// Every archive python3 makes, in one run (its start-up is the slow part).
const MAKE = `
import sys, os, io, tarfile, zipfile
src, d = sys.argv[1], sys.argv[2]
def tar_one(path, name, data=b"x\\n", mode="w"):
    with tarfile.open(path, mode) as t:
        i = tarfile.TarInfo(name); i.size = len(data); t.addfile(i, io.BytesIO(data))
with zipfile.ZipFile(os.path.join(d, "b.zip"), "w") as z:
    for k, n in enumerate(sorted(os.listdir(src))):
        z.write(os.path.join(src, n), "bundle/" + n, compress_type=zipfile.ZIP_DEFLATED if k % 2 else zipfile.ZIP_STORED)
for tag, name in (("dotdot", "../evil.txt"), ("abs", "/etc/evil.txt")):
    tar_one(os.path.join(d, "evil-%s.tar" % tag), name)
    with zipfile.ZipFile(os.path.join(d, "evil-%s.zip" % tag), "w") as z:
        z.writestr(zipfile.ZipInfo(name), "x")
with tarfile.open(os.path.join(d, "many.tar.gz"), "w:gz") as t:
    for k in range(50):
        i = tarfile.TarInfo("f%d.txt" % k); i.size = 2; t.addfile(i, io.BytesIO(b"x\\n"))
tar_one(os.path.join(d, "bomb.tgz"), "zeros.txt", bytes(16 << 20), "w:gz")
with zipfile.ZipFile(os.path.join(d, "bomb.zip"), "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("zeros.txt", bytes(16 << 20))
`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kdiag-archive-'));
  cpSync(BUNDLE, join(dir, 'keepalive-sysctl-trap'), { recursive: true });
  symlinkSync('/etc/passwd', join(dir, 'keepalive-sysctl-trap', 'passwd'));
  execFileSync('python3', ['-c', MAKE, BUNDLE, dir]);
  execFileSync('tar', [
    '-cf',
    join(dir, 'b.tar'),
    '--exclude',
    'passwd',
    '-C',
    join(dir, 'keepalive-sysctl-trap'),
    '.',
  ]);
}, 60_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('readArchive', () => {
  it('reads a .tar.gz of a bundle folder: every file, the folder as root, the link skipped', async () => {
    const out = join(dir, 'b.tar.gz');
    execFileSync('tar', ['-czf', out, '-C', dir, 'keepalive-sysctl-trap']);
    const got = await readArchive(out);
    expect(got.root).toBe('keepalive-sysctl-trap');
    expect(new Map(got.files)).toEqual(bundleFiles());
    expect(got.skipped).toEqual([{ name: 'passwd', reason: 'link (never followed)' }]);
  });

  it('reads a plain .tar and a .tgz made without a top folder', async () => {
    const got = await readArchive(join(dir, 'b.tar'));
    expect(got.root).toBeUndefined();
    expect(new Map(got.files)).toEqual(bundleFiles());
    const tgz = join(dir, 'b.tgz');
    execFileSync('tar', [
      '-czf',
      tgz,
      '--exclude',
      'passwd',
      '-C',
      join(dir, 'keepalive-sysctl-trap'),
      ...readdirSync(BUNDLE),
    ]);
    expect(new Map((await readArchive(tgz)).files)).toEqual(bundleFiles());
  });

  it('reads names longer than 100 characters (GNU and pax headers)', async () => {
    const deep = join(dir, 'deep', 'a'.repeat(60), 'b'.repeat(60));
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(deep, `${'c'.repeat(120)}.txt`), 'x = 1\n');
    for (const format of ['gnu', 'pax']) {
      const out = join(dir, `deep-${format}.tar`);
      execFileSync('tar', [`--format=${format}`, '-cf', out, '-C', dir, 'deep']);
      const got = await readArchive(out);
      expect([...got.files.keys()]).toEqual([
        `${'a'.repeat(60)}/${'b'.repeat(60)}/${'c'.repeat(120)}.txt`,
      ]);
    }
  });

  it('reads a .zip with deflated and stored entries', async () => {
    const got = await readArchive(join(dir, 'b.zip'));
    expect(got.root).toBe('bundle');
    expect(new Map(got.files)).toEqual(bundleFiles());
  });

  it('refuses an entry that climbs out with ".." or is absolute, in tar and zip', async () => {
    for (const ext of ['tar', 'zip']) {
      await expect(readArchive(join(dir, `evil-dotdot.${ext}`))).rejects.toThrow(
        `refuses entry "../evil.txt": ".." in path`,
      );
      await expect(readArchive(join(dir, `evil-abs.${ext}`))).rejects.toThrow(InputError);
      await expect(readArchive(join(dir, `evil-abs.${ext}`))).rejects.toThrow(
        '"/etc/evil.txt": absolute path',
      );
    }
  });

  it('stops at the entry count and at the expanded size', async () => {
    const many = join(dir, 'many.tar.gz');
    await expect(readArchive(many, { ...ARCHIVE_LIMITS, maxEntries: 10 })).rejects.toThrow(
      'more than 10 entries',
    );
    expect((await readArchive(many)).files.size).toBe(50);
    const bomb = join(dir, 'bomb.tgz');
    await expect(readArchive(bomb, { ...ARCHIVE_LIMITS, maxTotalBytes: 4 << 20 })).rejects.toThrow(
      'expands beyond 4194304 bytes',
    );
    expect((await readArchive(bomb)).skipped).toEqual([
      { name: 'zeros.txt', reason: 'binary content' },
    ]);
    const zbomb = join(dir, 'bomb.zip');
    await expect(readArchive(zbomb, { ...ARCHIVE_LIMITS, maxFileBytes: 4 << 20 })).rejects.toThrow(
      'more than the 4194304 read',
    );
    await expect(readArchive(zbomb, { ...ARCHIVE_LIMITS, maxArchiveBytes: 1000 })).rejects.toThrow(
      'more than the 1000 read',
    );
  });

  it('says in one line what is wrong with a damaged archive', async () => {
    const good = join(dir, 'b.zip');
    const bytes = readFileSync(good);
    const cut = join(dir, 'cut.zip');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 30));
    await expect(readArchive(cut)).rejects.toThrow(/no zip end-of-central-directory record/);
    const flipped = Buffer.from(bytes);
    flipped[60] = flipped[60]! ^ 0xff;
    const bad = join(dir, 'bad.zip');
    writeFileSync(bad, flipped);
    await expect(readArchive(bad)).rejects.toThrow(/CRC|inflate/);
    const notgz = join(dir, 'x.tgz');
    writeFileSync(notgz, 'hello');
    await expect(readArchive(notgz)).rejects.toThrow(/x\.tgz: not gzip data/);
    const tar = readFileSync(join(dir, 'b.tar'));
    const badsum = Buffer.from(tar);
    badsum[0] = 0x41;
    writeFileSync(join(dir, 'badsum.tar'), badsum);
    await expect(readArchive(join(dir, 'badsum.tar'))).rejects.toThrow(
      /bad tar header checksum at byte 0/,
    );
    await expect(readArchive(join(dir, 'missing.zip'))).rejects.toThrow(/can't read: ENOENT/);
    await expect(readArchive(join(dir, 'b.rar'))).rejects.toThrow(/not a \.tar\.gz/);
  });
});

describe('archive helpers', () => {
  it('knows the archive kinds by name', () => {
    expect(['a.tar.gz', 'a.TGZ', 'a.tar', 'a.zip', 'a.txt'].map(archiveKindOf)).toEqual([
      'tar.gz',
      'tar.gz',
      'tar',
      'zip',
      undefined,
    ]);
  });

  it('keeps relative names and refuses the rest', () => {
    expect(safeEntryName('./a/./b.txt')).toBe('a/b.txt');
    expect(safeEntryName('a\\b.txt')).toBe('a/b.txt');
    expect(safeEntryName('a/../../b')).toEqual({ refused: '".." in path' });
    expect(safeEntryName('C:/x')).toEqual({ refused: 'absolute path' });
  });

  it('computes the CRC-32 zip uses', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });
});

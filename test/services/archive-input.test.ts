// Bundles as archives: collect --tar's archive reads back as the folder it packed, and check on an
// archive of any fixtures/bundles folder gives the same JSON as on the folder.
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { analysisToJson } from '../../src/cli/output/report-json.js';
import { UsageError } from '../../src/errors.js';
import { readArchive } from '../../src/record/archive-reader.js';
import { analyzeInput } from '../../src/services/analyze-input.js';
import { bundleArchiveBytes, writeBundleArchive } from '../../src/services/collect.js';

const BUNDLES = fileURLToPath(new URL('../../fixtures/bundles/', import.meta.url));
const KDIAG = fileURLToPath(new URL('../../bin/kdiag.js', import.meta.url));
const run = promisify(execFile);
const AT = new Date('2026-06-24T19:48:36Z');

function folderFiles(dir: string): Map<string, string> {
  return new Map(
    readdirSync(dir)
      .sort()
      .map((n) => [n, readFileSync(join(dir, n), 'utf8')]),
  );
}

const bundles = readdirSync(BUNDLES)
  .filter((n) => statSync(join(BUNDLES, n)).isDirectory())
  .sort();

describe('bundle archives', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'kdiag-archive-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('collect --tar writes the folder as a .tar.gz that reads back equal, and removes the folder', async () => {
    const src = folderFiles(join(BUNDLES, 'keepalive-sysctl-trap'));
    const dir = join(tmp, 'kdiag-bundle-worker-9-20260624T194836Z');
    mkdirSync(dir);
    for (const [n, t] of src) writeFileSync(join(dir, n), t);
    const archive = await writeBundleArchive(dir, folderFiles(dir), AT);
    expect(archive).toBe(`${dir}.tar.gz`);
    expect(existsSync(dir)).toBe(false);
    expect(statSync(archive).mode & 0o777).toBe(0o644);
    const back = await readArchive(archive);
    expect(back.root).toBe('kdiag-bundle-worker-9-20260624T194836Z');
    expect(back.skipped).toEqual([]);
    expect(new Map([...back.files].sort())).toEqual(src);
    // GNU tar reads it too, names under the folder
    const listed = await run('tar', ['tzf', archive]).then(
      (r) => r.stdout.trim().split('\n'),
      () => undefined,
    );
    if (listed)
      expect(listed).toEqual(
        [...src.keys()].map((n) => `kdiag-bundle-worker-9-20260624T194836Z/${n}`),
      );
  });

  it('never writes over what is there, a dangling link included', async () => {
    const dir = join(tmp, 'linked');
    mkdirSync(dir);
    writeFileSync(join(dir, 'ss.txt'), 'x\n');
    symlinkSync(join(tmp, 'nowhere'), `${dir}.tar.gz`);
    await expect(writeBundleArchive(dir, new Map([['ss.txt', 'x\n']]), AT)).rejects.toBeInstanceOf(
      UsageError,
    );
    expect(existsSync(join(tmp, 'nowhere'))).toBe(false);
    expect(existsSync(join(dir, 'ss.txt'))).toBe(true);
  });

  it('packs long names in the ustar prefix and keeps bytes exact', async () => {
    const long = `sysctl@pod_${'n'.repeat(60)}.txt`; // a scope is at most 64 characters
    const files = new Map([
      [long, 'ESTAB 0 0 10.0.0.1:1 10.0.0.2:2\n'],
      ['sysctl.txt', 'ä = 1\n'],
    ]);
    const path = join(tmp, 'long.tgz');
    writeFileSync(
      path,
      bundleArchiveBytes(`kdiag-bundle-${'h'.repeat(60)}-20260624T194836Z`, files, AT),
    );
    const back = await readArchive(path);
    expect(new Map([...back.files].sort())).toEqual(new Map([...files].sort()));
  });

  for (const name of bundles) {
    it(`check on an archive of fixtures/bundles/${name} gives the folder's JSON`, async () => {
      const dir = join(BUNDLES, name);
      const args =
        (JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as { args?: string[] })
          .args ?? [];
      const opts =
        args[0] === '--cloud'
          ? { cloud: [args[1]!] }
          : args[0] === '--path-idle-timeout'
            ? { pathIdleTimeoutSec: Number.parseInt(args[1]!, 10) }
            : {};
      const archive = join(tmp, `${name}.tgz`);
      writeFileSync(archive, bundleArchiveBytes(name, folderFiles(dir), AT));
      const norm = (j: unknown, base: string): unknown => {
        const { input, ...rest } = j as { input: unknown };
        expect((input as { kind: string }).kind).toBe('bundle');
        return JSON.parse(
          JSON.stringify(rest).split(JSON.stringify(base).slice(1, -1)).join('<bundle>'),
        );
      };
      const fromFolder = norm(
        analysisToJson(await analyzeInput(dir, opts), { allFlows: true }),
        dir,
      );
      const fromArchive = norm(
        analysisToJson(await analyzeInput(archive, opts), { allFlows: true }),
        archive,
      );
      expect(fromArchive).toEqual(fromFolder);
    });
  }
});

// The krew manifest: deploy/krew/kdiag.yaml is a template (no release URL exists yet), which
// scripts/krew-manifest.mjs fills from the actual `npm pack` tarball. The rules below are krew's
// own (krew internal/index/validation/validate.go ValidatePlugin and validatePlatform).
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const SCRIPT = join(ROOT, 'scripts/krew-manifest.mjs');
const TEMPLATE = join(ROOT, 'deploy/krew/kdiag.yaml');
const FAKE_DIR = join(ROOT, 'test/helpers/fake-kubectl');

/** krew's structural checks of a Plugin, as one list of problems (empty when valid). */
function krewProblems(p: any, name: string): string[] {
  const out: string[] = [];
  if (p?.apiVersion !== 'krew.googlecontainertools.github.com/v1alpha2') out.push('apiVersion');
  if (p?.kind !== 'Plugin') out.push('kind');
  if (!/^[\w-]+$/.test(name) || p?.metadata?.name !== name) out.push('metadata.name');
  const spec = p?.spec ?? {};
  if (typeof spec.shortDescription !== 'string' || spec.shortDescription === '')
    out.push('shortDescription');
  else if (/[\r\n]/.test(spec.shortDescription)) out.push('shortDescription line break');
  if (!/^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(spec.version ?? '')) out.push('version');
  if (!Array.isArray(spec.platforms) || spec.platforms.length === 0) out.push('platforms');
  for (const [i, pl] of (spec.platforms ?? []).entries()) {
    if (typeof pl.uri !== 'string' || pl.uri === '') out.push(`platforms[${i}].uri`);
    if (!/^[a-f0-9]{64}$/.test(pl.sha256 ?? '')) out.push(`platforms[${i}].sha256`);
    if (typeof pl.bin !== 'string' || pl.bin === '') out.push(`platforms[${i}].bin`);
    if (pl.files !== undefined) {
      if (!Array.isArray(pl.files) || pl.files.length === 0) out.push(`platforms[${i}].files`);
      for (const f of pl.files ?? [])
        if (!f.from || !f.to) out.push(`platforms[${i}].files from/to`);
    }
    const sel = pl.selector;
    if (sel == null || (sel.matchLabels == null && !(sel.matchExpressions?.length > 0)))
      out.push(`platforms[${i}].selector`);
    const keys = [
      ...Object.keys(sel?.matchLabels ?? {}),
      ...(sel?.matchExpressions ?? []).map((e: { key: string }) => e.key),
    ];
    for (const k of keys) if (k !== 'os' && k !== 'arch') out.push(`selector key ${k}`);
  }
  return out;
}

let tarball = '';
let filled = '';
const URL_ = 'https://example.invalid/releases/kdiag-0.1.0.tgz';

beforeAll(async () => {
  // The package tarball as npm makes it (dist/ from the npm run build before the tests).
  const dest = mkdtempSync(join(tmpdir(), 'kdiag-krew-test-'));
  const { stdout } = await run(
    'npm',
    ['pack', '--ignore-scripts', '--json', '--pack-destination', dest],
    {
      cwd: ROOT,
    },
  );
  tarball = join(dest, (JSON.parse(stdout) as { filename: string }[])[0]!.filename);
  filled = (await run(process.execPath, [SCRIPT, '--url', URL_, '--tarball', tarball])).stdout;
}, 120_000);

describe('krew manifest', () => {
  it('the committed template is not installable as it is (no made-up URL or hash)', () => {
    const t = parse(readFileSync(TEMPLATE, 'utf8'));
    expect(t.spec.platforms[0].uri).toBe('{{URI}}');
    expect(krewProblems(t, 'kdiag')).toEqual(['platforms[0].sha256']);
  });

  it('filled from the npm pack tarball: krew-valid, its sha256 that of the tarball', () => {
    const m = parse(filled);
    expect(krewProblems(m, 'kdiag')).toEqual([]);
    expect(m.spec.platforms[0].uri).toBe(URL_);
    expect(m.spec.platforms[0].sha256).toBe(
      createHash('sha256').update(readFileSync(tarball)).digest('hex'),
    );
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
    expect(m.spec.version).toBe(`v${version}`);
  });

  it('the validator is live: a broken manifest is caught', () => {
    const m = parse(filled);
    m.spec.platforms[0].selector = { matchLabels: { distro: 'debian' } };
    delete m.spec.platforms[0].bin;
    expect(krewProblems(m, 'kdiag')).toEqual(['platforms[0].bin', 'selector key distro']);
  });

  it('refuses to run without --url', async () => {
    const r = await run(process.execPath, [SCRIPT]).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((r as { code: number }).code).toBe(2);
    expect((r as { stderr: string }).stderr).toContain('give the release URL');
  });

  it('the plugin runs as krew installs it: the tarball files only, no node_modules', async () => {
    const unpack = mkdtempSync(join(tmpdir(), 'kdiag-krew-unpack-'));
    await run('tar', ['xzf', tarball, '-C', unpack]);
    // krew's `files: [{from: package/*, to: .}]`.
    const install = mkdtempSync(join(tmpdir(), 'kdiag-krew-install-'));
    for (const f of readdirSync(join(unpack, 'package')))
      cpSync(join(unpack, 'package', f), join(install, f), { recursive: true });
    expect(readdirSync(install)).not.toContain('node_modules');
    const log = join(install, 'calls.ndjson');
    writeFileSync(log, '');
    const bin = join(install, parse(filled).spec.platforms[0].bin as string);
    const r = await run(process.execPath, [bin, 'check', 'node/w1'], {
      env: { ...process.env, PATH: `${FAKE_DIR}:${process.env.PATH}`, FAKE_KUBECTL_LOG: log },
    });
    expect(r.stdout).toBe('kdiag check ran with no flags\n');
    const verbs = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { argv: string[] }).argv[2]);
    expect(verbs).toEqual(['create', 'wait', 'exec', 'delete']);
  });
});

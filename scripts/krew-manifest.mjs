#!/usr/bin/env node
// Fills deploy/krew/kdiag.yaml (a template) for a release: the tarball's URL and its sha256,
// computed from the actual `npm pack` tarball (made here, or given with --tarball).
//   node scripts/krew-manifest.mjs --url https://…/kdiag-0.1.0.tgz [--tarball kdiag-0.1.0.tgz]
// Prints the filled manifest on stdout. Without --url it refuses: no URL is ever made up.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function fail(message) {
  process.stderr.write(`krew-manifest: ${message}\n`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: { url: { type: 'string' }, tarball: { type: 'string' } },
    strict: true,
  }));
} catch (err) {
  fail(err.message.split('\n')[0]);
}
if (values.url === undefined) fail('give the release URL of the tarball with --url URL');
if (!/^https:\/\/[^\s"]+\.tgz$/.test(values.url))
  fail(`--url ${values.url}: not an https URL of a .tgz`);

let tarball = values.tarball;
if (tarball === undefined) {
  const dest = mkdtempSync(join(tmpdir(), 'kdiag-krew-'));
  // prepack runs a clean build, so the tarball holds what the checkout builds now.
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dest], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  tarball = join(dest, JSON.parse(out)[0].filename);
}
const sha256 = createHash('sha256').update(readFileSync(tarball)).digest('hex');
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
const template = readFileSync(join(root, 'deploy/krew/kdiag.yaml'), 'utf8');
if (!template.includes(`version: v${version}\n`))
  fail(`deploy/krew/kdiag.yaml has another version than package.json (${version})`);
const filled = template
  .replace(
    /^(#.*\n)+/,
    `# krew plugin manifest of kdiag ${version}, made by scripts/krew-manifest.mjs\n`,
  )
  .replace('"{{URI}}"', JSON.stringify(values.url))
  .replace('"{{SHA256}}"', sha256);
process.stdout.write(filled);

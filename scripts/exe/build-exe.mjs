// npm run build:exe: kdiag as one executable for nodes without Node.js (Node's single executable
// application). Bundles the compiled CLI (dist/, from npm run build) with rolldown into ESM
// chunks, embeds them and the probes as assets next to the CommonJS starter, and injects the
// blob into a copy of this node binary with postject. Output: dist-exe/kdiag.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = join(root, 'dist-exe');
const stage = join(out, 'stage');
// Where the chunks sit inside the private directory the starter writes (see starter.cjs).
const CHUNK_DIR = 'dist/src/exe';

function filesUnder(dir) {
  return readdirSync(dir, { recursive: true })
    .map((f) => join(dir, String(f)))
    .filter((f) => statSync(f).isFile());
}

const started = performance.now();
for (const entry of ['dist/src/cli/main.js', 'dist/src/lab/agent.js']) {
  if (!existsSync(join(root, entry))) throw new Error(`${entry} is missing: run npm run build first`);
}
rmSync(out, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });

const bundle = await rolldown({
  input: { main: join(root, 'dist/src/cli/main.js'), agent: join(root, 'dist/src/lab/agent.js') },
  platform: 'node',
  // ink loads react-devtools-core only when DEV=true; it is not a dependency and never shipped.
  external: ['react-devtools-core'],
  transform: { define: { 'process.env.NODE_ENV': '"production"' } },
  logLevel: 'warn',
});
await bundle.write({
  dir: join(stage, CHUNK_DIR),
  format: 'esm',
  entryFileNames: '[name].mjs',
  chunkFileNames: '[name]-[hash].mjs',
  minify: true,
});
await bundle.close();

const probes = join(stage, 'probes');
mkdirSync(probes);
for (const f of readdirSync(join(root, 'probes')).filter((f) => f.endsWith('.bt'))) copyFileSync(join(root, 'probes', f), join(probes, f));

const assets = {};
const files = filesUnder(stage).map((f) => relative(stage, f).split('\\').join('/')).sort();
for (const f of files) assets[f] = join(stage, f);
const manifest = join(out, 'manifest.json');
writeFileSync(manifest, JSON.stringify({ main: `${CHUNK_DIR}/main.mjs`, agent: `${CHUNK_DIR}/agent.mjs`, files }));
assets['manifest.json'] = manifest;

const blob = join(out, 'kdiag.blob');
const config = join(out, 'sea-config.json');
writeFileSync(
  config,
  JSON.stringify({ main: join(root, 'scripts/exe/starter.cjs'), output: blob, disableExperimentalSEAWarning: true, useCodeCache: true, assets }, null, 2),
);
execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: 'inherit' });

const exe = join(out, 'kdiag');
copyFileSync(process.execPath, exe);
chmodSync(exe, 0o755);
// Debug symbols are most of what strip removes (~8 MiB of Debian's node); where strip is missing
// the executable is only larger.
try {
  execFileSync('strip', [exe], { stdio: 'ignore' });
} catch {
  console.log('strip not found: dist-exe/kdiag keeps node\'s symbols');
}
const postject = join(root, 'node_modules', 'postject', 'dist', 'cli.js');
const injected = spawnSync(process.execPath, [postject, exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'], {
  encoding: 'utf8',
});
// LIEF warns once per note section of Debian's node ("Can't find string offset"): harmless noise.
const noise = /^warning: Can't find string offset for section name/;
process.stderr.write(injected.stderr.split('\n').filter((l) => l && !noise.test(l)).map((l) => `${l}\n`).join(''));
if (injected.status !== 0) throw new Error(`postject exited ${injected.status}: ${injected.stdout}`);

const mib = (n) => (n / 1024 / 1024).toFixed(1);
const chunkBytes = files.filter((f) => f.startsWith(CHUNK_DIR)).reduce((n, f) => n + statSync(join(stage, f)).size, 0);
console.log(
  `dist-exe/kdiag: ${mib(statSync(exe).size)} MiB (node ${process.version} ${mib(statSync(process.execPath).size)} MiB + ${files.length} assets, chunks ${mib(chunkBytes)} MiB), built in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);

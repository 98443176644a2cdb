// Part of npm run build, after tsc: bundles the compiled CLI (dist/src/cli/main.js) into
// dist/src/bundle/, which bin/kdiag.js loads instead of ~170 modules for a trace and ~530 more for
// the TUI (ink's es-toolkit/compat import alone is 415). Loading trace's modules one by one took
// ~420 ms, bundled ~190 ms; the TUI's ~800 ms of CPU, bundled ~170 ms. The TUI (ink, React, the
// app: dist/src/ui/ui-modules.js) is its own entry, ui.js, loaded only when the TUI opens.
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';

const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'src');
const input = { main: join(src, 'cli', 'main.js'), ui: join(src, 'ui', 'ui-modules.js') };
for (const f of Object.values(input))
  if (!existsSync(f)) throw new Error(`${f} is missing: run tsc first`);
const out = join(src, 'bundle');
rmSync(out, { recursive: true, force: true });
// The bundle before this one lived beside the UI; gone, so that nothing loads a stale copy.
rmSync(join(src, 'ui', 'bundle'), { recursive: true, force: true });
const bundle = await rolldown({
  input,
  platform: 'node',
  // ink loads react-devtools-core only when DEV=true; it is not a dependency.
  external: ['react-devtools-core'],
  // load-ui.ts sets NODE_ENV=production before loading unless the user set it; the bundle holds
  // React's production build only.
  transform: { define: { 'process.env.NODE_ENV': '"production"' } },
  logLevel: 'warn',
});
// dist/src/bundle/ sits where dist/src/services/ does, two levels under the package root, so the
// paths the code finds from import.meta.url (probes/, package.json) are the same bundled or not.
await bundle.write({
  dir: out,
  format: 'esm',
  entryFileNames: '[name].js',
  chunkFileNames: '[name]-[hash].js',
});
await bundle.close();

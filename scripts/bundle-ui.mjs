// Part of npm run build: bundles the TUI (dist/src/ui/ui-modules.js: ink, React, the app) into
// dist/src/ui/bundle/ui.js, which src/ui/load-ui.ts loads instead of ~530 separate modules
// (~800 ms of CPU before the first frame, ~170 ms bundled). Run after tsc.
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';

const ui = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'src', 'ui');
const entry = join(ui, 'ui-modules.js');
if (!existsSync(entry)) throw new Error(`${entry} is missing: run tsc first`);
const out = join(ui, 'bundle');
rmSync(out, { recursive: true, force: true });
const bundle = await rolldown({
  input: { ui: entry },
  platform: 'node',
  // ink loads react-devtools-core only when DEV=true (its own chunk here); it is not a dependency.
  external: ['react-devtools-core'],
  // load-ui.ts sets NODE_ENV=production before loading unless the user set it; the bundle holds
  // React's production build only.
  transform: { define: { 'process.env.NODE_ENV': '"production"' } },
  logLevel: 'warn',
});
await bundle.write({
  dir: out,
  format: 'esm',
  entryFileNames: '[name].js',
  chunkFileNames: '[name]-[hash].js',
});
await bundle.close();

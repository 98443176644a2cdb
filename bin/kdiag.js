#!/usr/bin/env node
// Thin shim: the compiled CLI lives in dist/ (npm run build), bundled into dist/src/bundle/ (one
// file per entry instead of hundreds of modules; see scripts/bundle.mjs), or as tsc left it when
// only tsc ran since (tsc rewrites every file it emits, so a bundle older than its input is stale).
// The imports are relative to this file's real path, so an npm global install's symlink on PATH
// finds the package's dist/.
import { statSync } from 'node:fs';

const bundled = new URL('../dist/src/bundle/main.js', import.meta.url);
const compiled = new URL('../dist/src/cli/main.js', import.meta.url);
const mtime = (u) => statSync(u, { throwIfNoEntry: false })?.mtimeMs;
const fresh = (mtime(bundled) ?? -1) >= (mtime(compiled) ?? Infinity);
import(fresh ? bundled.href : compiled.href).then(
  (m) => m.main(process.argv),
  (err) => {
    const missing = err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('/dist/src/cli/main.js');
    process.stderr.write(missing ? "kdiag: can't start: dist/ is missing\n  hint: run npm run build in the kdiag checkout\n" : `kdiag: can't start: ${err && err.message}\n`);
    process.exitCode = 2;
  },
);

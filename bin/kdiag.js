#!/usr/bin/env node
// Thin shim: the compiled CLI lives in dist/ (npm run build). The import is relative to this
// file's real path, so an npm global install's symlink on PATH finds the package's dist/.
import('../dist/src/cli/main.js').then(
  (m) => m.main(process.argv),
  (err) => {
    const missing = err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('/dist/src/cli/main.js');
    process.stderr.write(missing ? "kdiag: can't start: dist/ is missing\n  hint: run npm run build in the kdiag checkout\n" : `kdiag: can't start: ${err && err.message}\n`);
    process.exitCode = 2;
  },
);

#!/usr/bin/env node
// kubectl plugin shim (kubectl finds `kubectl-kdiag` on PATH and runs it for `kubectl kdiag`).
// The compiled plugin lives in dist/ (npm run build), found from this file's real path.
import('../dist/src/cli/kubectl-kdiag.js').then(
  (m) => m.pluginMain(process.argv),
  (err) => {
    const missing = err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('/dist/src/cli/kubectl-kdiag.js');
    process.stderr.write(missing ? "kubectl-kdiag: can't start: dist/ is missing\n  hint: run npm run build in the kdiag checkout\n" : `kubectl-kdiag: can't start: ${err && err.message}\n`);
    process.exitCode = 2;
  },
);

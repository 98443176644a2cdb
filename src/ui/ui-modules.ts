// Everything the TUI needs from ink, React and its own views, as one module: scripts/bundle-ui.mjs
// bundles this file into dist/src/ui/bundle/ui.js so that the TUI starts by loading one file
// instead of ~530 (ink's es-toolkit/compat import alone is 415 modules).
export { render, useApp, useInput } from 'ink';
export { createElement, Fragment } from 'react';
export { SafeApp } from './app.js';

// Everything the TUI needs from ink, React and its own views, as one module: scripts/bundle.mjs
// makes it the bundle's ui.js, so that the TUI starts by loading one file instead of ~530 (ink's
// es-toolkit/compat import alone is 415 modules).
export { render, useApp, useInput } from 'ink';
export { createElement, Fragment } from 'react';
export { SafeApp } from './app.js';

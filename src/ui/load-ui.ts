// Loads ink, React and the app for the TUI: the prebuilt bundle when there is one (npm run build
// makes it), else the same modules one by one (tests from src/, the single executable, which
// bundles them itself). Loading them one by one cost ~800 ms of CPU, the bundle ~170 ms.
import { existsSync } from 'node:fs';

export type UiModules = typeof import('./ui-modules.js');

// A variable, so that neither tsc nor the single executable's bundler tries to resolve it.
const BUNDLE = './bundle/ui.js';

let loading: Promise<UiModules> | undefined;

/**
 * Starts loading the UI once (later calls share it), after setting what ink and React read when
 * they load. Safe to call early, before the session starts, so that loading overlaps its set-up.
 */
export function loadUi(out: NodeJS.WriteStream = process.stdout): Promise<UiModules> {
  if (loading) return loading;
  // React loads its development build, 5-10x slower per frame, unless NODE_ENV says production.
  process.env['NODE_ENV'] ??= 'production';
  // ink draws only the last frame when it believes it runs in CI (env CI / CONTINUOUS_INTEGRATION,
  // read when ink loads). A person at a terminal gets the live UI even if CI is set in their shell.
  if (out.isTTY) {
    if (process.env['CI'] !== undefined) process.env['CI'] = 'false';
    if (process.env['CONTINUOUS_INTEGRATION'] !== undefined)
      process.env['CONTINUOUS_INTEGRATION'] = 'false';
  }
  // Checked first: a failed import() costs time too, and vitest (src/, no bundle) reports it differently.
  loading = existsSync(new URL(BUNDLE, import.meta.url))
    ? (import(BUNDLE) as Promise<UiModules>)
    : import('./ui-modules.js');
  return loading;
}

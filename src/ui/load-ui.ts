// Loads ink, React and the app for the TUI, once. Run from the bundle (scripts/bundle.mjs, the
// single executable) this is one file, ui.js; from src/ or dist/src/cli (tests, a tsc-only build)
// it is ~530 modules, ~800 ms of CPU instead of ~170 ms.

export type UiModules = typeof import('./ui-modules.js');

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
  loading = import('./ui-modules.js');
  return loading;
}

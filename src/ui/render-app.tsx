// The TUI's entry point and the only ink render() call; the CLI import()s this file only for the TUI.
import type { SessionStore } from '../model/session.js';
import { loadUi } from './load-ui.js';

export interface RenderAppOptions {
  readonly stdout?: NodeJS.WriteStream;
  readonly stdin?: NodeJS.ReadStream;
  /** Called once after the UI has unmounted (q, Ctrl-C or a signal). */
  readonly onExit?: () => void;
  /** Called once the first frame is rendered (the live TUI then sets its session up). */
  readonly onRendered?: () => void;
  /** Aborting it ends the UI (the live session failed to start); renderApp then resolves. */
  readonly signal?: AbortSignal;
  /** Coalescing window for store notifications in ms (default 200; the frame benchmark uses 0). */
  readonly throttleMs?: number;
  /** Write every frame in full without ink's own throttling (tests and the frame benchmark). */
  readonly debug?: boolean;
  /** Route stray console output above the frame (default true; vitest's console can't be patched). */
  readonly patchConsole?: boolean;
}

/** How the TUI ended: `q`, or interrupted (Ctrl-C in the UI or SIGINT, SIGTERM from outside). */
export type AppExit = 'quit' | 'SIGINT' | 'SIGTERM';

/** The exit status for how the TUI ended: q answers 0/1 by findings; an interruption is 128 + signal. */
export function exitCodeOf(how: AppExit, findings: number): number {
  if (how === 'SIGINT') return 130;
  if (how === 'SIGTERM') return 143;
  return findings > 0 ? 1 : 0;
}

/**
 * Runs the interactive TUI on `store` until the user quits (q) or interrupts it (Ctrl-C, SIGINT,
 * SIGTERM); the caller then stops the session and exits with exitCodeOf.
 */
export async function renderApp(
  store: SessionStore,
  opts: RenderAppOptions = {},
): Promise<AppExit> {
  const out = opts.stdout ?? process.stdout;
  const { render, createElement, Fragment, useApp, useInput, SafeApp } = await loadUi(out);
  let how: AppExit = 'quit';
  // ink's own exitOnCtrlC ends the UI as q does: Ctrl-C is caught here to be told apart.
  function CtrlC() {
    const { exit } = useApp();
    useInput((input, key) => {
      if (key.ctrl && input === 'c') {
        how = 'SIGINT';
        exit();
      }
    });
    return null;
  }
  const instance = render(
    createElement(
      Fragment,
      null,
      createElement(SafeApp, { store, throttleMs: opts.throttleMs ?? 200 }),
      createElement(CtrlC),
    ),
    {
      ...(opts.stdout ? { stdout: opts.stdout } : {}),
      ...(opts.stdin ? { stdin: opts.stdin } : {}),
      exitOnCtrlC: false,
      // A console.log from anywhere would tear the frame; ink prints it above the frame instead.
      patchConsole: opts.patchConsole ?? true,
      debug: opts.debug ?? false,
      maxFps: 20,
    },
  );
  // A signal from outside (kill, a closing session) ends the UI the same way, so the caller still
  // stops every child before exiting.
  const onSignal = (sig: 'SIGINT' | 'SIGTERM') => () => {
    how = sig;
    instance.unmount();
  };
  const sigint = onSignal('SIGINT');
  const sigterm = onSignal('SIGTERM');
  process.once('SIGINT', sigint);
  process.once('SIGTERM', sigterm);
  const unmount = (): void => instance.unmount();
  if (opts.signal?.aborted) unmount();
  else opts.signal?.addEventListener('abort', unmount, { once: true });
  opts.onRendered?.();
  try {
    await instance.waitUntilExit();
  } finally {
    opts.signal?.removeEventListener('abort', unmount);
    process.removeListener('SIGINT', sigint);
    process.removeListener('SIGTERM', sigterm);
    instance.cleanup();
    opts.onExit?.();
  }
  return how;
}

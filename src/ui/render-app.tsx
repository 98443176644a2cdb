// The TUI's entry point and the only ink render() call; the CLI import()s this file only for the TUI.
import type { SessionStore } from '../model/session.js';
import { loadUi } from './load-ui.js';

export interface RenderAppOptions {
  readonly stdout?: NodeJS.WriteStream;
  readonly stdin?: NodeJS.ReadStream;
  /** Called once after the UI has unmounted (q or Ctrl-C). */
  readonly onExit?: () => void;
  /** Coalescing window for store notifications in ms (default 200; the frame benchmark uses 0). */
  readonly throttleMs?: number;
  /** Write every frame in full without ink's own throttling (tests and the frame benchmark). */
  readonly debug?: boolean;
  /** Route stray console output above the frame (default true; vitest's console can't be patched). */
  readonly patchConsole?: boolean;
}

/** Runs the interactive TUI on `store` until the user quits (q or Ctrl-C); the caller then stops the session. */
export async function renderApp(store: SessionStore, opts: RenderAppOptions = {}): Promise<void> {
  const out = opts.stdout ?? process.stdout;
  const { render, createElement, SafeApp } = await loadUi(out);
  const instance = render(createElement(SafeApp, { store, throttleMs: opts.throttleMs ?? 200 }), {
    ...(opts.stdout ? { stdout: opts.stdout } : {}),
    ...(opts.stdin ? { stdin: opts.stdin } : {}),
    exitOnCtrlC: true,
    // A console.log from anywhere would tear the frame; ink prints it above the frame instead.
    patchConsole: opts.patchConsole ?? true,
    debug: opts.debug ?? false,
    maxFps: 20,
  });
  try {
    await instance.waitUntilExit();
  } finally {
    instance.cleanup();
    opts.onExit?.();
  }
}

// How the TUI ended decides kdiag's exit status: q answers 0/1 by findings, Ctrl-C is "interrupted".
import { describe, expect, it } from 'vitest';
import { exitCodeOf, renderApp } from '../../src/ui/render-app.js';
import { createFakeStore } from '../helpers/fake-store.js';
import { fakeTty } from '../helpers/fake-tty.js';
import { testSnapshot } from '../helpers/ui-test-data.js';

/** Renders the app on fake streams and types `key` once it listens; resolves with how it ended. */
async function endWith(key: string) {
  const tty = fakeTty();
  const store = createFakeStore(testSnapshot());
  const done = renderApp(store, {
    stdout: tty.stdout,
    stdin: tty.stdin,
    patchConsole: false,
  });
  // Typed again until the UI listens (its effects run after the first commit; no fixed wait).
  let ended = false;
  void done.finally(() => (ended = true));
  while (!ended) {
    tty.type(key);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { how: await done, store };
}

describe('the TUI exit', () => {
  it('Ctrl-C is an interruption, told apart from q', async () => {
    expect((await endWith('\u0003')).how).toBe('SIGINT');
  });

  // Ctrl-C through a real terminal, and the exit status: test/cli/interrupt.test.ts.
  it('q is a quit, and every store listener is gone', async () => {
    const r = await endWith('q');
    expect(r.how).toBe('quit');
    expect(r.store.listenerCount()).toBe(0);
  });

  it('maps q to the findings code and signals to 128 + their number', () => {
    expect(exitCodeOf('quit', 0)).toBe(0);
    expect(exitCodeOf('quit', 3)).toBe(1);
    expect(exitCodeOf('SIGINT', 3)).toBe(130);
    expect(exitCodeOf('SIGTERM', 0)).toBe(143);
  });
});

describe('the live TUI while its session starts', () => {
  it('tells when the first frame is rendered, and ends when the start fails', async () => {
    const tty = fakeTty();
    const failed = new AbortController();
    let rendered = 0;
    const store = createFakeStore(testSnapshot());
    const done = renderApp(store, {
      stdout: tty.stdout,
      stdin: tty.stdin,
      patchConsole: false,
      signal: failed.signal,
      onRendered: () => rendered++,
    });
    while (rendered === 0) await new Promise((r) => setTimeout(r, 10));
    failed.abort();
    expect(await done).toBe('quit');
    expect(rendered).toBe(1);
    expect(store.listenerCount()).toBe(0);
  });
});

// Ctrl-C ends the TUI (render-app.tsx exits 130); before, with a detail open, it also fired the
// detail's c (copy) binding on the way out.
import type { Key } from 'ink';
import { describe, expect, it } from 'vitest';
import { resolveKey, type KeyContext } from '../../src/ui/input/use-keybindings.js';
import { initialUiState } from '../../src/ui/state/ui-state.js';

const noKey = {} as Key;
const ctrl = { ctrl: true } as Key;

const ctx: KeyContext = {
  ui: initialUiState({ details: [{ kind: 'finding', findingId: 'f', selected: 0 }] }),
  panes: ['findings'],
  counts: { findings: 1, flows: 0, feed: 0, applied: 0 },
  pages: { findings: 5, flows: 5, feed: 5, applied: 5 },
  openFromPane: null,
  detail: { title: 'Finding', lines: [], items: [{ copy: 'evidence line' }], footer: '' },
  revertTarget: undefined,
  mode: 'live',
  paused: false,
  replay: undefined,
};

describe('Ctrl-C in the TUI', () => {
  it('copies nothing while a detail is open', () => {
    expect(resolveKey('c', ctrl, ctx)).toEqual([]);
  });
  it('leaves c alone as copy', () => {
    expect(resolveKey('c', noKey, ctx)).toContainEqual({ kind: 'copy', text: 'evidence line' });
  });
});

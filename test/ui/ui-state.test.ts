import { describe, expect, it } from 'vitest';
import {
  initialUiState,
  keepVisible,
  uiReducer,
  type UiAction,
  type UiState,
} from '../../src/ui/state/ui-state.js';

const run = (actions: UiAction[], from: UiState = initialUiState()) =>
  actions.reduce(uiReducer, from);

describe('keepVisible', () => {
  it('clamps the selection into the list and scrolls to keep it on the page', () => {
    expect(keepVisible(12, 0, 100, 10)).toEqual({ selected: 12, scroll: 3 });
    expect(keepVisible(2, 5, 100, 10)).toEqual({ selected: 2, scroll: 2 });
    expect(keepVisible(500, 0, 20, 10)).toEqual({ selected: 19, scroll: 10 });
    expect(keepVisible(-3, 0, 20, 10)).toEqual({ selected: 0, scroll: 0 });
  });

  it('survives an empty list, NaN and a zero page', () => {
    expect(keepVisible(4, 2, 0, 10)).toEqual({ selected: 0, scroll: 0 });
    expect(keepVisible(Number.NaN, Number.NaN, 10, 0)).toEqual({ selected: 0, scroll: 0 });
  });
});

describe('uiReducer', () => {
  it('moves the selection of one pane and leaves the others', () => {
    const s = run([
      { type: 'move', pane: 'flows', delta: 1, count: 5, page: 3 },
      { type: 'move', pane: 'flows', delta: 1, count: 5, page: 3 },
      { type: 'move', pane: 'flows', delta: 1, count: 5, page: 3 },
    ]);
    expect(s.selected.flows).toBe(3);
    expect(s.scroll.flows).toBe(1);
    expect(s.selected.feed).toBe(0);
  });

  it('stops at the ends of the list', () => {
    const s = run([{ type: 'move', pane: 'feed', delta: -5, count: 5, page: 3 }]);
    expect(s.selected.feed).toBe(0);
    expect(run([{ type: 'move', pane: 'feed', delta: 99, count: 5, page: 3 }]).selected.feed).toBe(
      4,
    );
  });

  it('cycles focus forwards and backwards through the given panes', () => {
    const panes = ['flows', 'feed', 'findings'] as const;
    expect(run([{ type: 'focus-next', panes, delta: 1 }]).focus).toBe('feed');
    expect(run([{ type: 'focus-next', panes, delta: -1 }]).focus).toBe('findings');
    expect(
      run([
        { type: 'focus-next', panes, delta: 1 },
        { type: 'focus-next', panes, delta: 1 },
        { type: 'focus-next', panes, delta: 1 },
      ]).focus,
    ).toBe('flows');
  });

  it('stacks details; Esc pops one; move-detail stays within the items', () => {
    const s = run([
      { type: 'open-detail', detail: { kind: 'finding', findingId: 'f1', selected: 0 } },
      { type: 'move-detail', delta: 10, count: 3 },
      { type: 'open-detail', detail: { kind: 'suggestion', suggestionId: 's1', selected: 0 } },
    ]);
    expect(s.details.map((d) => d.kind)).toEqual(['finding', 'suggestion']);
    expect(s.details[0]!.selected).toBe(2);
    const back = uiReducer(s, { type: 'close-detail' });
    expect(back.details).toHaveLength(1);
    expect(
      uiReducer(uiReducer(back, { type: 'close-detail' }), { type: 'close-detail' }).details,
    ).toHaveLength(0);
  });

  it('edits a filter as a draft, applies it on Enter and resets list positions', () => {
    const moved = run([{ type: 'move', pane: 'flows', delta: 3, count: 9, page: 9 }]);
    const s = run(
      [
        { type: 'start-filter' },
        { type: 'filter-input', text: 'api' },
        { type: 'filter-input', text: 'x' },
        { type: 'filter-backspace' },
      ],
      moved,
    );
    expect(s.filterDraft).toBe('api');
    expect(s.filter).toBe('');
    const applied = uiReducer(s, { type: 'apply-filter' });
    expect(applied).toMatchObject({ filter: 'api', filterDraft: null });
    expect(applied.selected.flows).toBe(0);
    expect(uiReducer(applied, { type: 'clear-filter' })).toMatchObject({
      filter: '',
      filterDraft: null,
    });
  });

  it('drops control characters typed into the filter and ignores input when not editing', () => {
    const s = run([{ type: 'start-filter' }, { type: 'filter-input', text: 'a\u0007b\u001B' }]);
    expect(s.filterDraft).toBe('ab');
    expect(run([{ type: 'filter-input', text: 'x' }]).filterDraft).toBeNull();
  });

  it('cycles the sort key through time-to-break, idle and flow', () => {
    const sorts = [1, 2, 3].map(
      (n) => run(Array.from({ length: n }, () => ({ type: 'cycle-sort' }) as const)).sort,
    );
    expect(sorts).toEqual(['idle', 'flow', 'time-to-break']);
  });

  it('opens and closes dialogs, help and messages', () => {
    const s = run([
      { type: 'toggle-help' },
      { type: 'open-dialog', dialog: { kind: 'apply', suggestionId: 'x' } },
    ]);
    expect(s.help).toBe(false);
    expect(s.dialog).toEqual({ kind: 'apply', suggestionId: 'x' });
    expect(uiReducer(s, { type: 'close-dialog' }).dialog).toBeNull();
    expect(run([{ type: 'set-message', text: 'Copied' }]).message).toBe('Copied');
    expect(
      run([{ type: 'set-message', text: 'Copied' }, { type: 'clear-message' }]).message,
    ).toBeNull();
  });

  it('returns the same state for an unknown action', () => {
    const s = initialUiState();
    expect(uiReducer(s, { type: 'nope' } as unknown as UiAction)).toBe(s);
  });
});

// Keys → UI reducer actions, store commands, a clipboard copy or quit; nothing else happens here.
import { useCallback, useRef } from 'react';
import { useInput, type Key } from 'ink';
import type { AppliedChange, ReplayPosition, SessionCommand } from '../../model/session.js';
import type { Detail, Pane, UiAction, UiState } from '../state/ui-state.js';
import type { DetailModel } from '../views/detail-lines.js';

/** What the key handler needs to know about the screen to decide what a key means. */
export interface KeyContext {
  readonly ui: UiState;
  /** Tab order of the panes on screen. */
  readonly panes: readonly Pane[];
  readonly counts: Readonly<Record<Pane, number>>;
  /** Visible rows per pane (for paging and scroll). */
  readonly pages: Readonly<Record<Pane, number>>;
  /** What Enter opens from the focused pane's row, or a message saying why nothing opens. */
  readonly openFromPane: Detail | string | null;
  /** The model of the open detail (top of the stack). */
  readonly detail: DetailModel | null;
  /** The applied change selected in the applied pane. */
  readonly revertTarget: AppliedChange | undefined;
  readonly mode: 'live' | 'replay';
  readonly paused: boolean;
  readonly replay: ReplayPosition | undefined;
}

export type KeyIntent =
  | { readonly kind: 'ui'; readonly action: UiAction }
  | { readonly kind: 'command'; readonly command: SessionCommand }
  | { readonly kind: 'copy'; readonly text: string }
  | { readonly kind: 'quit' };

const ui = (action: UiAction): KeyIntent => ({ kind: 'ui', action });
const say = (text: string): KeyIntent => ui({ type: 'set-message', text });
const cmd = (command: SessionCommand): KeyIntent => ({ kind: 'command', command });

const SPEEDS = [0.25, 0.5, 1, 2, 4, 8, 16, 32, 64];
const SEEK_MS = 10_000;

function moveDelta(input: string, key: Key, page: number): number | null {
  if (key.upArrow || input === 'k') return -1;
  if (key.downArrow || input === 'j') return 1;
  if (key.pageUp) return -Math.max(1, page);
  if (key.pageDown) return Math.max(1, page);
  if (key.home || input === 'g') return Number.NEGATIVE_INFINITY;
  if (key.end || input === 'G') return Number.POSITIVE_INFINITY;
  return null;
}

function finiteDelta(d: number, count: number): number {
  return d === Number.NEGATIVE_INFINITY
    ? -count - 1
    : d === Number.POSITIVE_INFINITY
      ? count + 1
      : d;
}

function pauseToggle(ctx: KeyContext): KeyIntent[] {
  if (ctx.mode === 'replay') {
    const playing = ctx.replay?.playing ?? !ctx.paused;
    return [cmd(playing ? { type: 'pause' } : { type: 'play' })];
  }
  return [cmd(ctx.paused ? { type: 'resume' } : { type: 'pause' })];
}

function replayKeys(input: string, ctx: KeyContext): KeyIntent[] | null {
  const r = ctx.replay;
  if (ctx.mode !== 'replay' || !r) return null;
  const speed = Number.isFinite(r.speed) && r.speed > 0 ? r.speed : 1;
  if (input === '+' || input === '=') {
    const next = SPEEDS.find((s) => s > speed) ?? SPEEDS[SPEEDS.length - 1]!;
    return [cmd({ type: 'speed', speed: next })];
  }
  if (input === '-' || input === '_') {
    const next = [...SPEEDS].reverse().find((s) => s < speed) ?? SPEEDS[0]!;
    return [cmd({ type: 'speed', speed: next })];
  }
  if (input === '[' || input === ']') {
    const at = Number.isFinite(r.at) ? r.at : r.start;
    const t = Math.max(r.start, Math.min(r.end, at + (input === ']' ? SEEK_MS : -SEEK_MS)));
    return Number.isFinite(t) ? [cmd({ type: 'seek', t })] : [];
  }
  return null;
}

function applyIntents(target: DetailModel['apply']): KeyIntent[] {
  if (!target) return [say('Select a suggestion to apply')];
  if (!target.change) return [say(`kdiag can't apply ${target.id} live: copy its commands (c)`)];
  return [ui({ type: 'open-dialog', dialog: { kind: 'apply', suggestionId: target.id } })];
}

/** Decides what a key press means on the current screen; pure, so it is tested without a terminal. */
export function resolveKey(input: string, key: Key, ctx: KeyContext): KeyIntent[] {
  const s = ctx.ui;
  // Ctrl-C ends the TUI (render-app.tsx); it must not also act as c (copy) on the way out.
  if (key.ctrl && input === 'c') return [];

  // A confirmation dialog takes every key: only y confirms, n or Esc cancels.
  if (s.dialog) {
    if (input === 'y' || input === 'Y') {
      const d = s.dialog;
      if (d.kind === 'revert')
        return [
          cmd({ type: 'revert', journalId: d.journalId }),
          ui({ type: 'close-dialog' }),
          say(`Revert requested: ${d.journalId}`),
        ];
      // y takes only a plan on screen: what was shown is what gets made.
      if (d.plan?.status !== 'ready')
        return [
          say(
            d.plan === undefined
              ? 'Wait for the plan'
              : "Can't apply: see the dialog; Esc closes it",
          ),
        ];
      return [
        cmd({ type: 'apply', suggestion: d.suggestionId }),
        ui({ type: 'close-dialog' }),
        say(`Apply requested: ${d.suggestionId}`),
      ];
    }
    if (input === 'n' || input === 'N' || key.escape)
      return [ui({ type: 'close-dialog' }), say('Cancelled')];
    return [];
  }

  // While typing a filter every printable key is text.
  if (s.filterDraft !== null) {
    if (key.return) return [ui({ type: 'apply-filter' })];
    if (key.escape) return [ui({ type: 'clear-filter' })];
    if (key.backspace || key.delete) return [ui({ type: 'filter-backspace' })];
    if (
      key.ctrl ||
      key.meta ||
      key.tab ||
      key.upArrow ||
      key.downArrow ||
      key.leftArrow ||
      key.rightArrow
    )
      return [];
    return input ? [ui({ type: 'filter-input', text: input })] : [];
  }

  if (input === 'q' && !key.ctrl) return [{ kind: 'quit' }];
  if (input === '?') return [ui({ type: 'toggle-help' })];
  if (s.help) return key.escape ? [ui({ type: 'toggle-help' })] : [];

  if (key.escape) {
    if (s.details.length > 0) return [ui({ type: 'close-detail' })];
    if (s.filter) return [ui({ type: 'clear-filter' })];
    return s.message ? [ui({ type: 'clear-message' })] : [];
  }
  if (input === '/') return [ui({ type: 'start-filter' })];
  if (input === 's') return [ui({ type: 'cycle-sort' })];
  if (input === 'p' || input === ' ') return pauseToggle(ctx);
  const rk = replayKeys(input, ctx);
  if (rk) return rk;

  const top = s.details[s.details.length - 1];
  if (top && ctx.detail) {
    const count = ctx.detail.items.length;
    const d = moveDelta(input, key, 5);
    if (d !== null) return [ui({ type: 'move-detail', delta: finiteDelta(d, count), count })];
    const item = ctx.detail.items[Math.min(top.selected, count - 1)];
    if (key.return) return item?.open ? [ui({ type: 'open-detail', detail: item.open })] : [];
    if (input === 'c')
      return item?.copy
        ? [{ kind: 'copy', text: item.copy }, say('Copied')]
        : [say('Nothing to copy here')];
    if (input === 'a') return applyIntents(item?.apply ?? ctx.detail.apply);
    return [];
  }

  const pane = s.focus;
  const d = moveDelta(input, key, ctx.pages[pane]);
  if (d !== null) {
    const count = ctx.counts[pane];
    return [ui({ type: 'move', pane, delta: finiteDelta(d, count), count, page: ctx.pages[pane] })];
  }
  if (key.tab) return [ui({ type: 'focus-next', panes: ctx.panes, delta: key.shift ? -1 : 1 })];
  if (key.return) {
    const o = ctx.openFromPane;
    if (o === null) return [];
    return typeof o === 'string' ? [say(o)] : [ui({ type: 'open-detail', detail: o })];
  }
  if (input === 'r') {
    const t = ctx.revertTarget;
    if (pane !== 'applied' || !t)
      return [say('Select an applied change to revert (Tab to Applied)')];
    if (t.reverted) return [say(`${t.suggestion} is already reverted`)];
    return [ui({ type: 'open-dialog', dialog: { kind: 'revert', journalId: t.journalId } })];
  }
  if (input === 'a') return [say('Open a finding (Enter) and select a suggestion to apply')];
  if (input === 'c') return [say('Open a suggestion (Enter) to copy its commands')];
  return [];
}

export interface KeyHandlers {
  readonly dispatchUi: (action: UiAction) => void;
  readonly command: (command: SessionCommand) => void;
  readonly copy: (text: string) => void;
  readonly quit: () => void;
}

/** Subscribes to ink's input and runs what resolveKey decides. */
export function useKeybindings(ctx: KeyContext, handlers: KeyHandlers, isActive = true): void {
  const latest = useRef({ ctx, handlers });
  latest.current = { ctx, handlers };
  const onInput = useCallback((input: string, key: Key) => {
    const { ctx: c, handlers: h } = latest.current;
    for (const intent of resolveKey(input, key, c)) {
      if (intent.kind === 'ui') h.dispatchUi(intent.action);
      else if (intent.kind === 'command') h.command(intent.command);
      else if (intent.kind === 'copy') h.copy(intent.text);
      else h.quit();
    }
  }, []);
  useInput(onInput, { isActive });
}

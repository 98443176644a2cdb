// The TUI's own state (selection, focus, filter, sort, details, dialogs) and its pure reducer.

/** The list panes, in Tab order. */
export type Pane = 'flows' | 'feed' | 'findings' | 'applied';
export const PANES: readonly Pane[] = ['flows', 'feed', 'findings', 'applied'];

export type SortKey = 'time-to-break' | 'idle' | 'flow';
export const SORT_KEYS: readonly SortKey[] = ['time-to-break', 'idle', 'flow'];

/** A detail view; they stack (flow → finding → suggestion) and Esc pops one. */
export type Detail =
  | { readonly kind: 'flow'; readonly flowId: string; readonly selected: number }
  | { readonly kind: 'finding'; readonly findingId: string; readonly selected: number }
  | { readonly kind: 'suggestion'; readonly suggestionId: string; readonly selected: number };

/** The plan an apply dialog shows before y is taken: planning (absent), ready, or refused. */
export type DialogPlan =
  | {
      readonly status: 'ready';
      readonly lines: readonly string[];
      readonly warnings: readonly string[];
    }
  | { readonly status: 'failed'; readonly message: string };

/** A confirmation that blocks every key but y / n / Esc. */
export type Dialog =
  | { readonly kind: 'apply'; readonly suggestionId: string; readonly plan?: DialogPlan }
  | { readonly kind: 'revert'; readonly journalId: string };

export interface UiState {
  readonly focus: Pane;
  readonly selected: Readonly<Record<Pane, number>>;
  readonly scroll: Readonly<Record<Pane, number>>;
  /** Applied filter text ('' = none). */
  readonly filter: string;
  /** Text being typed after `/`; null when not editing. */
  readonly filterDraft: string | null;
  readonly sort: SortKey;
  readonly details: readonly Detail[];
  readonly dialog: Dialog | null;
  readonly help: boolean;
  readonly message: string | null;
}

export type UiAction =
  | {
      readonly type: 'move';
      readonly pane: Pane;
      readonly delta: number;
      readonly count: number;
      readonly page: number;
    }
  | {
      readonly type: 'move-to';
      readonly pane: Pane;
      readonly index: number;
      readonly count: number;
      readonly page: number;
    }
  | { readonly type: 'focus-pane'; readonly pane: Pane }
  | { readonly type: 'focus-next'; readonly panes: readonly Pane[]; readonly delta: 1 | -1 }
  | { readonly type: 'open-detail'; readonly detail: Detail }
  | { readonly type: 'move-detail'; readonly delta: number; readonly count: number }
  | { readonly type: 'close-detail' }
  | { readonly type: 'close-all-details' }
  | { readonly type: 'start-filter' }
  | { readonly type: 'filter-input'; readonly text: string }
  | { readonly type: 'filter-backspace' }
  | { readonly type: 'apply-filter' }
  | { readonly type: 'clear-filter' }
  | { readonly type: 'cycle-sort' }
  | { readonly type: 'toggle-help' }
  | { readonly type: 'open-dialog'; readonly dialog: Dialog }
  | { readonly type: 'close-dialog' }
  | { readonly type: 'dialog-plan'; readonly suggestionId: string; readonly plan: DialogPlan }
  | { readonly type: 'set-message'; readonly text: string }
  | { readonly type: 'clear-message' };

const ZERO: Record<Pane, number> = { flows: 0, feed: 0, findings: 0, applied: 0 };
const MAX_FILTER = 200;

/** The state the TUI starts in. */
export function initialUiState(overrides: Partial<UiState> = {}): UiState {
  return {
    focus: 'flows',
    selected: ZERO,
    scroll: ZERO,
    filter: '',
    filterDraft: null,
    sort: 'time-to-break',
    details: [],
    dialog: null,
    help: false,
    message: null,
    ...overrides,
  };
}

function clampInt(n: number, lo: number, hi: number): number {
  if (!Number.isFinite(n)) return lo;
  return Math.max(lo, Math.min(hi, Math.trunc(n)));
}

/** Keeps `selected` inside [0, count) and the scroll offset such that it stays on a page of `page` rows. */
export function keepVisible(
  selected: number,
  scroll: number,
  count: number,
  page: number,
): { selected: number; scroll: number } {
  const sel = clampInt(selected, 0, Math.max(0, count - 1));
  const p = Math.max(1, Math.trunc(page) || 1);
  let off = clampInt(scroll, 0, Math.max(0, count - p));
  if (sel < off) off = sel;
  if (sel >= off + p) off = sel - p + 1;
  return { selected: sel, scroll: off };
}

function setPane(state: UiState, pane: Pane, selected: number, scroll: number): UiState {
  if (state.selected[pane] === selected && state.scroll[pane] === scroll) return state;
  return {
    ...state,
    selected: { ...state.selected, [pane]: selected },
    scroll: { ...state.scroll, [pane]: scroll },
  };
}

const RESET_LISTS = (state: UiState): Pick<UiState, 'selected' | 'scroll'> => ({
  selected: { ...state.selected, flows: 0, feed: 0, findings: 0 },
  scroll: { ...state.scroll, flows: 0, feed: 0, findings: 0 },
});

/** The UI reducer: pure, total (unknown actions return the state unchanged). */
export function uiReducer(state: UiState, action: UiAction): UiState {
  switch (action.type) {
    case 'move': {
      const v = keepVisible(
        state.selected[action.pane] + action.delta,
        state.scroll[action.pane],
        action.count,
        action.page,
      );
      return setPane(state, action.pane, v.selected, v.scroll);
    }
    case 'move-to': {
      const v = keepVisible(action.index, state.scroll[action.pane], action.count, action.page);
      return setPane(state, action.pane, v.selected, v.scroll);
    }
    case 'focus-pane':
      return state.focus === action.pane ? state : { ...state, focus: action.pane };
    case 'focus-next': {
      const panes = action.panes.length > 0 ? action.panes : PANES;
      const i = panes.indexOf(state.focus);
      const next = panes[(i + action.delta + panes.length) % panes.length] ?? 'flows';
      return { ...state, focus: next };
    }
    case 'open-detail':
      return { ...state, details: [...state.details, action.detail].slice(-8) };
    case 'move-detail': {
      const top = state.details[state.details.length - 1];
      if (!top) return state;
      const selected = clampInt(top.selected + action.delta, 0, Math.max(0, action.count - 1));
      if (selected === top.selected) return state;
      return { ...state, details: [...state.details.slice(0, -1), { ...top, selected }] };
    }
    case 'close-detail':
      return state.details.length === 0 ? state : { ...state, details: state.details.slice(0, -1) };
    case 'close-all-details':
      return state.details.length === 0 ? state : { ...state, details: [] };
    case 'start-filter':
      return { ...state, filterDraft: state.filter, help: false };
    case 'filter-input': {
      if (state.filterDraft === null) return state;
      // Only printable text goes into the filter; control bytes from odd terminals are dropped.
      const text = action.text.replace(/[\u0000-\u001f\u007f]/g, '');
      return { ...state, filterDraft: (state.filterDraft + text).slice(0, MAX_FILTER) };
    }
    case 'filter-backspace':
      return state.filterDraft === null
        ? state
        : { ...state, filterDraft: state.filterDraft.slice(0, -1) };
    case 'apply-filter': {
      if (state.filterDraft === null) return state;
      return {
        ...state,
        ...RESET_LISTS(state),
        filter: state.filterDraft.trim(),
        filterDraft: null,
      };
    }
    case 'clear-filter':
      return { ...state, ...RESET_LISTS(state), filter: '', filterDraft: null };
    case 'cycle-sort': {
      const next =
        SORT_KEYS[(SORT_KEYS.indexOf(state.sort) + 1) % SORT_KEYS.length] ?? 'time-to-break';
      return {
        ...state,
        sort: next,
        selected: { ...state.selected, flows: 0 },
        scroll: { ...state.scroll, flows: 0 },
      };
    }
    case 'toggle-help':
      return { ...state, help: !state.help };
    case 'open-dialog':
      return { ...state, dialog: action.dialog, help: false };
    case 'close-dialog':
      return state.dialog === null ? state : { ...state, dialog: null };
    case 'dialog-plan':
      // A plan that arrives after its dialog was closed (or another opened) is dropped.
      return state.dialog?.kind === 'apply' && state.dialog.suggestionId === action.suggestionId
        ? { ...state, dialog: { ...state.dialog, plan: action.plan } }
        : state;
    case 'set-message':
      return { ...state, message: action.text.slice(0, 200) };
    case 'clear-message':
      return state.message === null ? state : { ...state, message: null };
    default:
      return state;
  }
}

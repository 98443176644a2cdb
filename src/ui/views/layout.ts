// Pure layout: pane sizes for a terminal size. Narrow (< 120 columns) stacks flows over one tabbed pane and shows details as an overlay.
import type { Pane } from '../state/ui-state.js';

export interface Rect {
  readonly width: number;
  readonly height: number;
}

export interface Layout {
  readonly kind: 'wide' | 'narrow' | 'tiny';
  readonly columns: number;
  /** Rows the frame uses (one less than the terminal, so ink never clears the screen per frame). */
  readonly rows: number;
  readonly status: Rect;
  /** Everything above the status line: overlays (help, dialog, narrow details) take all of it. */
  readonly body: Rect;
  readonly flows: Rect;
  /** Narrow: the one tabbed pane under the flows. Wide: the feed, left of the right column. */
  readonly bottom: Rect;
  /** Wide only: findings above applied; details replace both. */
  readonly findings: Rect;
  readonly applied: Rect;
  readonly detail: Rect;
}

/** Width at which panes go side by side. */
export const WIDE_COLUMNS = 120;
const STATUS_ROWS = 2;

export interface LayoutHints {
  /** Flow rows there are to show; the flows pane shrinks to them and gives the rest to the panes below. */
  readonly flowRows?: number;
  /** A detail is open (wide layout): the flows pane takes a third of the height. */
  readonly detailOpen?: boolean;
}

/** Computes where every pane goes for a terminal of `columns` × `rows`. */
export function computeLayout(columns: number, rows: number, hints: LayoutHints = {}): Layout {
  const cols = Math.max(20, Math.floor(Number.isFinite(columns) && columns > 0 ? columns : 80));
  const total = Math.max(
    STATUS_ROWS + 1,
    Math.floor(Number.isFinite(rows) && rows > 0 ? rows : 24) - 1,
  );
  const bodyH = total - STATUS_ROWS;
  const status = { width: cols, height: STATUS_ROWS };
  const body = { width: cols, height: bodyH };
  const zero = { width: cols, height: 0 };
  if (bodyH < 10) {
    // Too small for two panes: flows only.
    return {
      kind: 'tiny',
      columns: cols,
      rows: total,
      status,
      body,
      flows: body,
      bottom: zero,
      findings: zero,
      applied: zero,
      detail: body,
    };
  }
  const share = cols >= WIDE_COLUMNS && hints.detailOpen ? 0.35 : 0.55;
  const wanted = Number.isFinite(hints.flowRows)
    ? Math.max(1, hints.flowRows!) + 4
    : Number.POSITIVE_INFINITY;
  const flowsH = Math.max(6, Math.min(wanted, Math.round(bodyH * share)));
  const bottomH = bodyH - flowsH;
  if (cols < WIDE_COLUMNS) {
    return {
      kind: 'narrow',
      columns: cols,
      rows: total,
      status,
      body,
      flows: { width: cols, height: flowsH },
      bottom: { width: cols, height: bottomH },
      findings: { width: cols, height: bottomH },
      applied: { width: cols, height: bottomH },
      detail: body,
    };
  }
  const leftW = Math.floor(cols / 2);
  const rightW = cols - leftW;
  const appliedH = bottomH >= 11 ? 5 : 4;
  return {
    kind: 'wide',
    columns: cols,
    rows: total,
    status,
    body,
    flows: { width: cols, height: flowsH },
    bottom: { width: leftW, height: bottomH },
    findings: { width: rightW, height: bottomH - appliedH },
    applied: { width: rightW, height: appliedH },
    detail: { width: rightW, height: bottomH },
  };
}

/** Visible list rows per pane for a layout (the flows pane spends one row on its column header). */
export function pagesFor(l: Layout): Record<Pane, number> {
  const rowsIn = (h: number) => Math.max(1, h - 3);
  return {
    flows: Math.max(1, rowsIn(l.flows.height) - 1),
    feed: rowsIn(l.bottom.height),
    findings: rowsIn(l.findings.height),
    applied: rowsIn(l.applied.height),
  };
}

// Renders a DetailModel in a pane, scrolled so that the selected entry stays in view.
import { Text } from 'ink';
import { fit } from '../format.js';
import { theme } from '../theme.js';
import type { DetailModel } from './detail-lines.js';
import { Pane, paneBodyCols, paneBodyRows } from './pane.js';

export interface DetailViewProps {
  readonly model: DetailModel;
  readonly selected: number;
  readonly width: number;
  readonly height: number;
  /** Breadcrumb shown after the title, e.g. `Finding › Suggestion`. */
  readonly trail?: string;
}

/** First line offset that shows the selected entry whole (or from its start when taller than the page). */
export function detailOffset(lines: DetailModel['lines'], selected: number, rows: number): number {
  if (lines.length <= rows || rows <= 0) return 0;
  let first = -1;
  let last = -1;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.item === selected) {
      if (first < 0) first = i;
      last = i;
    }
  }
  if (first < 0) return 0;
  // Keep a line of context above the entry where there is room.
  let off = Math.max(0, last - rows + 1);
  if (first - 1 < off) off = Math.max(0, first - 1);
  return Math.min(off, lines.length - rows);
}

/** Props in, frame out: a detail pane. */
export function DetailView({ model, selected, width, height, trail }: DetailViewProps) {
  const inner = paneBodyCols(width);
  const rows = Math.max(0, paneBodyRows(height) - 1);
  const off = detailOffset(model.lines, selected, rows);
  const shown = model.lines.slice(off, off + rows);
  const more = model.lines.length - off - shown.length;
  return (
    <Pane
      title={trail ?? model.title}
      info={
        off > 0 || more > 0 ? `lines ${off + 1}–${off + shown.length} of ${model.lines.length}` : ''
      }
      focused
      width={width}
      height={height}
    >
      {shown.map((l, i) => {
        const sel = l.item !== undefined && l.item === selected;
        return (
          <Text key={i} wrap="truncate">
            {sel ? '▸ ' : '  '}
            <Text color={l.color} bold={l.bold} dimColor={l.dim} inverse={sel}>
              {sel ? fit(l.text, Math.max(0, inner - 2)) : l.text === '' ? ' ' : l.text}
            </Text>
          </Text>
        );
      })}
      {Array.from({ length: Math.max(0, rows - shown.length) }, (_, i) => (
        <Text key={`pad${i}`}> </Text>
      ))}
      <Text color={theme.dim} wrap="truncate">
        {more > 0 ? `↓ ${more} more · ${model.footer}` : model.footer}
      </Text>
    </Pane>
  );
}

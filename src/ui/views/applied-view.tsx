// The changes applied from this session; `r` reverts the selected one (after confirmation).
import { Text } from 'ink';
import type { AppliedChange } from '../../model/session.js';
import { fit } from '../format.js';
import { theme } from '../theme.js';
import { Pane, paneBodyCols, paneBodyRows } from './pane.js';

export interface AppliedViewProps {
  readonly applied: readonly AppliedChange[];
  readonly selected: number;
  readonly scroll: number;
  readonly focused: boolean;
  readonly width: number;
  readonly height: number;
  readonly title?: string;
}

/** Props in, frame out: the applied-changes pane. */
export function AppliedView(p: AppliedViewProps) {
  const inner = paneBodyCols(p.width);
  const rows = paneBodyRows(p.height);
  const total = p.applied.length;
  const start = Math.max(0, Math.min(p.scroll, Math.max(0, total - rows)));
  const end = Math.min(total, start + rows);
  const lines = [];
  for (let i = start; i < end; i++) {
    const a = p.applied[i];
    const state = a?.reverted ? 'reverted' : 'applied ';
    const sel = i === p.selected;
    lines.push(
      <Text key={i - start} wrap="truncate" inverse={sel && p.focused} bold={sel && !p.focused}>
        {sel ? '▸ ' : '  '}
        <Text color={a?.reverted ? theme.dim : theme.ok}>{state} </Text>
        {fit(`${a?.suggestion ?? '–'}: ${a?.summary ?? '–'}`, Math.max(0, inner - 11))}
      </Text>,
    );
  }
  return (
    <Pane
      title={p.title ?? 'Applied'}
      info={total > 0 ? 'r: revert' : ''}
      focused={p.focused}
      width={p.width}
      height={p.height}
    >
      {total === 0 ? (
        <Text color={theme.dim} wrap="truncate">
          {'  Nothing applied (a on a suggestion applies it)'}
        </Text>
      ) : (
        lines
      )}
    </Pane>
  );
}

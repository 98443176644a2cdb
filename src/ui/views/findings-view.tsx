// The findings list: most severe first; Enter opens a finding's evidence chain.
import { Text } from 'ink';
import type { Finding } from '../../model/diagnosis.js';
import { fit, fitRight } from '../format.js';
import { SEVERITY_COLOR, SEVERITY_MARK, theme } from '../theme.js';
import { Pane, paneBodyCols, paneBodyRows } from './pane.js';

export interface FindingsViewProps {
  readonly findings: readonly Finding[];
  readonly selected: number;
  readonly scroll: number;
  readonly focused: boolean;
  readonly filter: string;
  readonly width: number;
  readonly height: number;
  readonly title?: string;
}

function FindingRow({
  f,
  inner,
  selected,
  focused,
}: {
  f: Finding | undefined;
  inner: number;
  selected: boolean;
  focused: boolean;
}) {
  const sev = f && f.severity in SEVERITY_MARK ? f.severity : 'info';
  const n = Array.isArray(f?.flows) ? f.flows.length : 0;
  const tail = `${f?.confidence ?? '–'} · ${n} flow${n === 1 ? '' : 's'}`;
  const tailW = inner >= 60 ? 22 : 0;
  const fmW = 6;
  const titleW = Math.max(0, inner - 2 - 3 - fmW - (tailW ? tailW + 1 : 0));
  return (
    <Text wrap="truncate" inverse={selected && focused} bold={selected && !focused}>
      {selected ? '▸ ' : '  '}
      <Text color={SEVERITY_COLOR[sev]}>{SEVERITY_MARK[sev]} </Text>
      <Text color={theme.dim}>{fit(String(f?.fm ?? '–'), fmW)}</Text>
      {fit(typeof f?.title === 'string' ? f.title : '–', titleW)}
      {tailW ? <Text color={theme.dim}>{` ${fitRight(tail, tailW)}`}</Text> : ''}
    </Text>
  );
}

/** Props in, frame out: the findings pane. */
export function FindingsView(p: FindingsViewProps) {
  const inner = paneBodyCols(p.width);
  const rows = paneBodyRows(p.height);
  const total = p.findings.length;
  const start = Math.max(0, Math.min(p.scroll, Math.max(0, total - rows)));
  const end = Math.min(total, start + rows);
  const lines = [];
  for (let i = start; i < end; i++) {
    lines.push(
      <FindingRow
        key={i - start}
        f={p.findings[i]}
        inner={inner}
        selected={i === p.selected}
        focused={p.focused}
      />,
    );
  }
  const crit = p.findings.filter((f) => f?.severity === 'critical').length;
  const info = total > 0 ? `${total} (${crit} critical) · Enter: evidence` : '';
  return (
    <Pane
      title={p.title ?? 'Findings'}
      info={info}
      focused={p.focused}
      width={p.width}
      height={p.height}
    >
      {total === 0 ? (
        <Text color={theme.dim} wrap="truncate">
          {p.filter ? `  No finding matches “${p.filter}”` : '  No findings yet'}
        </Text>
      ) : (
        lines
      )}
    </Pane>
  );
}

// The flows-at-risk pane: one line per flow, sorted by time to break, only the visible rows rendered.
import { Text } from 'ink';
import type { FlowView, Layer } from '../../model/diagnosis.js';
import {
  DASH,
  fit,
  fitRight,
  fmtCount,
  fmtDuration,
  fmtEndpoint,
  fmtOwner,
  layerShort,
} from '../format.js';
import { printableFlow } from '../state/printable-snapshot.js';
import { layerOf } from '../state/selectors.js';
import type { SortKey } from '../state/ui-state.js';
import { leftColor, theme } from '../theme.js';
import { Pane, paneBodyCols, paneBodyRows } from './pane.js';

export interface FlowsViewProps {
  readonly flows: readonly FlowView[];
  /** Indices into `flows` in display order (already filtered and sorted). */
  readonly order: Uint32Array;
  /** Seconds to break per flow index (Infinity = safe). */
  readonly ttb: Float64Array;
  readonly atRisk: number;
  readonly selected: number;
  readonly scroll: number;
  readonly sort: SortKey;
  readonly filter: string;
  /** A newer diagnosis, sort or filter is being computed. */
  readonly pending?: boolean;
  readonly focused: boolean;
  readonly width: number;
  readonly height: number;
}

interface Columns {
  readonly flow: number;
  readonly owner: number;
  readonly time: number;
  readonly breaks: number;
}

const TIME_LAYERS: readonly (readonly [string, readonly Layer[]])[] = [
  ['KA', ['keepalive']],
  ['CT', ['conntrack']],
  ['IPVS', ['ipvs']],
  ['PATH', ['path', 'cloud']],
];

/** Column widths for an inner width: owner appears from 96 columns on. */
export function flowColumns(inner: number): Columns {
  const time = 6;
  const breaks = 10;
  const fixed = 2 + (time + 1) * 5 + breaks + 1;
  const flex = Math.max(8, inner - fixed);
  if (inner >= 94) {
    const owner = Math.min(28, Math.floor(flex * 0.36));
    return { flow: flex - owner - 1, owner, time, breaks };
  }
  return { flow: flex, owner: 0, time, breaks };
}

function leftOf(flow: FlowView, layers: readonly Layer[]): number | null {
  let best: number | null = null;
  for (const l of layers) {
    const v = layerOf(flow, l)?.leftSec;
    if (typeof v === 'number' && Number.isFinite(v) && (best === null || v < best)) best = v;
  }
  return best;
}

/** One-line text of a flow: client → target [→ backend]. */
export function flowLabel(f: FlowView | undefined): string {
  if (!f) return DASH;
  const base = `${fmtEndpoint(f.client)} → ${fmtEndpoint(f.target)}`;
  return f.backend ? `${base} → ${fmtEndpoint(f.backend)}` : base;
}

function FlowRow({
  flow: raw,
  ttb,
  cols,
  inner,
  selected,
  focused,
}: {
  flow: FlowView | undefined;
  ttb: number;
  cols: Columns;
  inner: number;
  selected: boolean;
  focused: boolean;
}) {
  // The snapshot's flows are raw (made printable only where drawn, here and in the detail view).
  const flow = printableFlow(raw);
  if (!flow) return <Text>{fit(DASH, inner)}</Text>;
  const idle = typeof flow.idleSec === 'number' ? fmtDuration(flow.idleSec) : DASH;
  const first = flow.firstToForget;
  const breaks =
    first && Number.isFinite(ttb)
      ? `${layerShort(first)} ${fmtDuration(ttb)}`
      : first
        ? layerShort(first)
        : 'safe';
  const used =
    2 + cols.flow + (cols.owner ? cols.owner + 1 : 0) + (cols.time + 1) * 5 + cols.breaks + 1;
  return (
    <Text wrap="truncate" inverse={selected && focused} bold={selected && !focused}>
      {selected ? '▸ ' : '  '}
      {fit(flowLabel(flow), cols.flow)}
      {cols.owner > 0 ? ` ${fit(fmtOwner(flow.owner), cols.owner)}` : ''}
      {` ${fitRight(idle, cols.time)}`}
      {TIME_LAYERS.map(([name, layers]) => {
        const v = leftOf(flow, layers);
        return (
          <Text key={name} color={leftColor(v)}>
            {` ${fitRight(v === null ? DASH : fmtDuration(v), cols.time)}`}
          </Text>
        );
      })}
      <Text
        color={first ? (leftColor(Number.isFinite(ttb) ? ttb : 0) ?? theme.warn) : theme.ok}
      >{` ${fit(breaks, cols.breaks)}`}</Text>
      {used < inner ? ' '.repeat(inner - used) : ''}
    </Text>
  );
}

/** Props in, frame out: the flows pane. */
export function FlowsView(p: FlowsViewProps) {
  const inner = paneBodyCols(p.width);
  const rows = Math.max(0, paneBodyRows(p.height) - 1);
  const cols = flowColumns(inner);
  const total = p.order.length;
  const start = Math.max(0, Math.min(p.scroll, Math.max(0, total - rows)));
  const end = Math.min(total, start + rows);
  const info = [
    total > 0
      ? `${fmtCount(p.atRisk)} breaking · ${start + 1}–${end} of ${total.toLocaleString('en-US')}`
      : '',
    `sort ${p.sort}`,
    p.filter ? `filter “${p.filter}”` : '',
    p.pending ? 'updating…' : '',
  ]
    .filter(Boolean)
    .join(' · ');
  const header =
    `  ${fit('FLOW (client → target → backend)', cols.flow)}` +
    (cols.owner > 0 ? ` ${fit('OWNER', cols.owner)}` : '') +
    ` ${fitRight('IDLE', cols.time)}` +
    TIME_LAYERS.map(([n]) => ` ${fitRight(n, cols.time)}`).join('') +
    ` ${fit('BREAKS', cols.breaks)}`;
  const lines = [];
  for (let i = start; i < end; i++) {
    const fi = p.order[i]!;
    lines.push(
      <FlowRow
        key={i - start}
        flow={p.flows[fi]}
        ttb={p.ttb[fi] ?? Number.POSITIVE_INFINITY}
        cols={cols}
        inner={inner}
        selected={i === p.selected}
        focused={p.focused}
      />,
    );
  }
  return (
    <Pane title="Flows at risk" info={info} focused={p.focused} width={p.width} height={p.height}>
      <Text color={theme.dim} wrap="truncate">
        {fit(header, inner)}
      </Text>
      {total === 0 ? (
        <Text color={theme.dim} wrap="truncate">
          {p.filter
            ? `  No flow matches “${p.filter}” (Esc clears the filter)`
            : '  No flows seen yet'}
        </Text>
      ) : (
        lines
      )}
    </Pane>
  );
}

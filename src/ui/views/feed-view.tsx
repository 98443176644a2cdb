// The drops and resets feed: newest first, each with the finding that explains it.
import { Text } from 'ink';
import type { Finding } from '../../model/diagnosis.js';
import type { FeedItem } from '../../model/session.js';
import { clip, fit, fmtClock } from '../format.js';
import { FEED_TAG, theme } from '../theme.js';
import { Pane, paneBodyCols, paneBodyRows } from './pane.js';

export interface FeedViewProps {
  readonly feed: readonly FeedItem[];
  /** Indices into `feed` in display order (newest first, filtered). */
  readonly order: Uint32Array;
  readonly findingsById: ReadonlyMap<string, Finding>;
  readonly selected: number;
  readonly scroll: number;
  readonly focused: boolean;
  readonly filter: string;
  readonly width: number;
  readonly height: number;
  /** Title override (the narrow layout shows a tab strip here). */
  readonly title?: string;
}

/** The cause text of a feed item: the explaining finding's rule, or its raw id. */
export function feedCause(
  item: FeedItem | undefined,
  findingsById: ReadonlyMap<string, Finding>,
): string {
  if (!item || typeof item.finding !== 'string' || item.finding === '') return '';
  const f = findingsById.get(item.finding);
  return f ? `${f.fm ?? ''} ${f.rule ?? ''}`.trim() : item.finding;
}

function FeedRow({
  item,
  cause,
  inner,
  selected,
  focused,
}: {
  item: FeedItem | undefined;
  cause: string;
  inner: number;
  selected: boolean;
  focused: boolean;
}) {
  const tag = (item && FEED_TAG[item.kind]) ?? { tag: '?   ', color: theme.dim };
  const causeW = cause ? Math.min(cause.length + 2, Math.max(0, Math.floor(inner * 0.35))) : 0;
  const textW = Math.max(0, inner - 2 - 9 - 5 - causeW);
  return (
    <Text wrap="truncate" inverse={selected && focused} bold={selected && !focused}>
      {selected ? '▸ ' : '  '}
      <Text color={theme.dim}>{fmtClock(item?.t)} </Text>
      <Text color={tag.color}>{tag.tag} </Text>
      {fit(typeof item?.text === 'string' ? item.text : '–', textW)}
      {causeW > 0 ? (
        <Text color={theme.accent}>{fit(clip(`← ${cause}`, causeW), causeW)}</Text>
      ) : (
        ''
      )}
    </Text>
  );
}

/** Props in, frame out: the feed pane. */
export function FeedView(p: FeedViewProps) {
  const inner = paneBodyCols(p.width);
  const rows = paneBodyRows(p.height);
  const total = p.order.length;
  const start = Math.max(0, Math.min(p.scroll, Math.max(0, total - rows)));
  const end = Math.min(total, start + rows);
  const lines = [];
  for (let i = start; i < end; i++) {
    const item = p.feed[p.order[i]!];
    lines.push(
      <FeedRow
        key={i - start}
        item={item}
        cause={feedCause(item, p.findingsById)}
        inner={inner}
        selected={i === p.selected}
        focused={p.focused}
      />,
    );
  }
  const info = total > 0 ? `${total.toLocaleString('en-US')} events, newest first` : '';
  return (
    <Pane
      title={p.title ?? 'Drops & resets'}
      info={info}
      focused={p.focused}
      width={p.width}
      height={p.height}
    >
      {total === 0 ? (
        <Text color={theme.dim} wrap="truncate">
          {p.filter ? `  No event matches “${p.filter}”` : '  No drops or resets seen'}
        </Text>
      ) : (
        lines
      )}
    </Pane>
  );
}

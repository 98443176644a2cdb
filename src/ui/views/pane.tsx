// A bordered pane with a one-line title; the frame every list and detail view sits in.
import type { ReactNode } from 'react';
import { Box, Text } from 'ink';
import { clip } from '../format.js';
import { theme } from '../theme.js';

export interface PaneProps {
  readonly title: string;
  /** Dim text after the title (counts, sort, filter). */
  readonly info?: string;
  readonly focused: boolean;
  readonly width: number;
  readonly height: number;
  readonly children?: ReactNode;
}

/** Rows left for content inside a pane of `height` (border and title take three). */
export function paneBodyRows(height: number): number {
  return Math.max(0, Math.floor(height) - 3);
}

/** Columns left for content inside a pane of `width`. */
export function paneBodyCols(width: number): number {
  return Math.max(0, Math.floor(width) - 2);
}

/** Draws the border and title; children fill the remaining rows. */
export function Pane({ title, info, focused, width, height, children }: PaneProps) {
  const inner = paneBodyCols(width);
  const head = clip(title, inner);
  const rest = info ? clip(`  ${info}`, Math.max(0, inner - head.length)) : '';
  return (
    <Box
      flexDirection="column"
      width={Math.max(2, Math.floor(width))}
      height={Math.max(2, Math.floor(height))}
      borderStyle="round"
      borderColor={focused ? theme.focusBorder : theme.border}
    >
      <Text wrap="truncate">
        <Text bold color={focused ? theme.title : undefined}>
          {head}
        </Text>
        <Text color={theme.dim}>{rest}</Text>
      </Text>
      {children}
    </Box>
  );
}

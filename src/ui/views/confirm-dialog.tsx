// The y/n dialog in front of any change to the host: it shows the exact change before anything runs.
import { Box, Text } from 'ink';
import { wrapLines } from '../format.js';
import { Pane, paneBodyCols } from './pane.js';

export interface ConfirmDialogProps {
  readonly title: string;
  /** One line saying what the change is for. */
  readonly subtitle?: string;
  /** The exact change, one shell line each. */
  readonly change: readonly string[];
  readonly warnings: readonly string[];
  readonly width: number;
  readonly height: number;
}

/** Props in, frame out: the confirmation dialog. */
export function ConfirmDialog({ title, subtitle, change, warnings, width, height }: ConfirmDialogProps) {
  const inner = paneBodyCols(width);
  return (
    <Pane title={title} focused width={width} height={height}>
      <Box flexDirection="column">
        {subtitle ? wrapLines(subtitle, inner).map((l, i) => <Text key={`s${i}`}>{l}</Text>) : null}
        <Text> </Text>
        <Text bold>This runs on the host:</Text>
        {change.length === 0 ? <Text dimColor>  (no live change described)</Text> : null}
        {change.flatMap((c, i) => wrapLines(c, inner, '  $ ', true).map((l, j) => <Text key={`${i}.${j}`} color="cyan">{l}</Text>))}
        {warnings.flatMap((wt, i) => wrapLines(`⚠ ${wt}`, inner, '  ').map((l, j) => <Text key={`w${i}.${j}`} color="yellow">{l}</Text>))}
        <Text> </Text>
        <Text>
          <Text bold color="green">
            {'  y'}
          </Text>
          {' confirm    '}
          <Text bold color="red">
            n
          </Text>
          {' / Esc cancel'}
        </Text>
      </Box>
    </Pane>
  );
}

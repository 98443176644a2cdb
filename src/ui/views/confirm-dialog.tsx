// The y/n dialog in front of any change: it shows the exact change, and where it goes, before anything runs.
import { Box, Text } from 'ink';
import { wrapLines } from '../format.js';
import { Pane, paneBodyCols } from './pane.js';

export interface ConfirmDialogProps {
  readonly title: string;
  /** One line saying what the change is for. */
  readonly subtitle?: string;
  /** What the lines are: "kdiag will change:", "This runs:", … */
  readonly heading: string;
  /** The change, one line each (a plan's lines, or shell lines with `shell`). */
  readonly lines: readonly string[];
  /** Prefix each line with `$ `, as a command to run. */
  readonly shell?: boolean;
  readonly warnings: readonly string[];
  /** False while there is nothing to confirm (planning, or refused): only Esc closes. */
  readonly confirmable?: boolean;
  readonly width: number;
  readonly height: number;
}

/** Props in, frame out: the confirmation dialog. */
export function ConfirmDialog({
  title,
  subtitle,
  heading,
  lines,
  shell = false,
  warnings,
  confirmable = true,
  width,
  height,
}: ConfirmDialogProps) {
  const inner = paneBodyCols(width);
  return (
    <Pane title={title} focused width={width} height={height}>
      <Box flexDirection="column">
        {subtitle ? wrapLines(subtitle, inner).map((l, i) => <Text key={`s${i}`}>{l}</Text>) : null}
        <Text> </Text>
        <Text bold>{heading}</Text>
        {lines.flatMap((c, i) =>
          wrapLines(c, inner, shell ? '  $ ' : '  ', true).map((l, j) => (
            <Text key={`${i}.${j}`} color="cyan">
              {l}
            </Text>
          )),
        )}
        {warnings.flatMap((wt, i) =>
          wrapLines(`⚠ ${wt}`, inner, '  ').map((l, j) => (
            <Text key={`w${i}.${j}`} color="yellow">
              {l}
            </Text>
          )),
        )}
        <Text> </Text>
        {confirmable ? (
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
        ) : (
          <Text dimColor>{'  Esc close'}</Text>
        )}
      </Box>
    </Pane>
  );
}

// The `?` overlay: every key binding, grouped.
import { Box, Text } from 'ink';
import { Pane, paneBodyRows } from './pane.js';

/** Every key the TUI understands, as [keys, what it does]; the help overlay and the docs read this. */
export const KEY_HELP: readonly (readonly [string, string])[] = [
  ['↑ ↓  j k', 'move the selection (PgUp/PgDn, g/G: page, first/last)'],
  ['Tab  Shift-Tab', 'switch pane (flows, feed, findings, applied)'],
  ['Enter', 'open: flow, finding evidence, suggestion commands'],
  ['Esc', 'close the detail / dialog / help; clear the filter'],
  ['/', 'filter by pod, port, address, rule (Enter applies, Esc clears)'],
  ['s', 'cycle sort: time-to-break, idle, flow'],
  ['p  Space', 'pause / resume live updates'],
  ['c', 'copy the selected command (OSC 52 clipboard)'],
  ['a', 'apply the selected suggestion (asks y/n first)'],
  ['r', 'revert the selected applied change (asks y/n first)'],
  ['y  n', 'confirm / cancel a dialog'],
  ['Space', 'replay: play / pause'],
  ['+  -', 'replay: faster / slower'],
  ['[  ]', 'replay: seek back / forward 10 s'],
  ['?', 'toggle this help'],
  ['q  Ctrl-C', 'quit'],
];

export interface HelpOverlayProps {
  readonly width: number;
  readonly height: number;
}

/** Props in, frame out: the help overlay. */
export function HelpOverlay({ width, height }: HelpOverlayProps) {
  const rows = paneBodyRows(height);
  const keys = KEY_HELP.slice(0, Math.max(0, rows - 1));
  return (
    <Pane title="Keys" info="? or Esc closes" focused width={width} height={height}>
      <Box flexDirection="column">
        {keys.map(([k, what]) => (
          <Text key={k + what} wrap="truncate">
            <Text color="cyan" bold>
              {`  ${k.padEnd(16)}`}
            </Text>
            {what}
          </Text>
        ))}
        {keys.length < KEY_HELP.length ? (
          <Text dimColor>{`  … ${KEY_HELP.length - keys.length} more (enlarge the terminal)`}</Text>
        ) : null}
      </Box>
    </Pane>
  );
}

// The two status lines: live/paused/replay, recording, event rate, parse issues, what doctor found missing, each source's health.
import { Box, Text } from 'ink';
import type { SessionSnapshot, SourceHealth } from '../../model/session.js';
import { clip, fmtCount, fmtRate, fmtSpan } from '../format.js';
import { theme } from '../theme.js';

export interface StatusLineProps {
  readonly snapshot: SessionSnapshot;
  readonly eventRate: number;
  readonly message: string | null;
  /** Text being typed after `/`, or null. */
  readonly filterDraft: string | null;
  readonly width: number;
}

const SOURCE_MARK: Record<SourceHealth['state'], { mark: string; color: string }> = {
  starting: { mark: '…', color: 'yellow' },
  running: { mark: '●', color: 'green' },
  done: { mark: '✓', color: 'gray' },
  failed: { mark: '✗', color: 'red' },
  unavailable: { mark: '○', color: 'gray' },
};

/** The mode badge text: `LIVE`, `PAUSED`, or the replay position. */
export function modeBadge(s: SessionSnapshot): { text: string; color: string } {
  if (s.mode === 'replay') {
    const r = s.replay;
    if (!r) return { text: 'REPLAY', color: 'magenta' };
    const speed = typeof r.speed === 'number' && Number.isFinite(r.speed) ? `×${r.speed}` : '';
    return {
      text: `${r.playing ? '▶' : '❚❚'} REPLAY ${fmtSpan(r.at - r.start)}/${fmtSpan(r.end - r.start)} ${speed}`.trim(),
      color: 'magenta',
    };
  }
  return s.paused ? { text: '❚❚ PAUSED', color: 'yellow' } : { text: '● LIVE', color: 'green' };
}

/** Props in, frame out: the status lines. */
export function StatusLine({
  snapshot: s,
  eventRate,
  message,
  filterDraft,
  width,
}: StatusLineProps) {
  const w = Math.max(1, Math.floor(width));
  if (filterDraft !== null) {
    return (
      <Box flexDirection="column" width={w}>
        <Text wrap="truncate">
          <Text color="cyan" bold>
            {'/ '}
          </Text>
          {clip(filterDraft, Math.max(0, w - 40))}
          <Text inverse> </Text>
          <Text color={theme.dim}>{'  Enter apply · Esc clear'}</Text>
        </Text>
        <Text color={theme.dim} wrap="truncate">
          {'  matches pod, port, address, rule'}
        </Text>
      </Box>
    );
  }
  const badge = modeBadge(s);
  const rec = s.recording ? `REC ${fmtCount(s.recording.records)}` : '';
  const issues = Number.isFinite(s.issues) ? `issues ${fmtCount(s.issues)}` : 'issues –';
  const missing = s.missing.length > 0 ? `missing: ${s.missing.join(', ')}` : '';
  const right = message ? `${message} · ? help` : '? help';
  const left = [` ev ${fmtRate(eventRate)}`, issues].join(' · ');
  const budget =
    w - badge.text.length - (rec ? rec.length + 3 : 0) - left.length - right.length - 2;
  const miss = missing && budget > 8 ? ` · ${clip(missing, budget - 3)}` : '';
  const used = badge.text.length + (rec ? rec.length + 3 : 0) + left.length + miss.length;
  const gap = Math.max(1, w - used - right.length);
  return (
    <Box flexDirection="column" width={w}>
      <Text wrap="truncate">
        <Text color={badge.color} bold>
          {badge.text}
        </Text>
        {rec ? <Text color="red">{` · ${rec}`}</Text> : ''}
        {left}
        <Text color="yellow">{miss}</Text>
        {' '.repeat(gap)}
        <Text color={message ? 'green' : theme.dim}>{right}</Text>
      </Text>
      <Text wrap="truncate">
        {s.sources.length === 0 ? <Text color={theme.dim}>no sources</Text> : ''}
        {s.sources.map((src, i) => {
          const m = (src && SOURCE_MARK[src.state]) ?? { mark: '?', color: 'gray' };
          const lost =
            typeof src?.lost === 'number' && src.lost > 0 ? ` lost ${fmtCount(src.lost)}` : '';
          const rate =
            src?.state === 'running'
              ? ` ${fmtRate(src.rate)}`
              : src?.state === 'starting' && String(src.id).startsWith('bpftrace')
                ? ' attaching…'
                : src?.state
                  ? ` ${src.state}`
                  : '';
          return (
            <Text key={i}>
              {i > 0 ? '  ' : ''}
              <Text color={m.color}>{m.mark}</Text>
              {` ${String(src?.id ?? '?')}${rate}`}
              {lost ? <Text color="red">{lost}</Text> : ''}
            </Text>
          );
        })}
      </Text>
    </Box>
  );
}

// Colours and symbols of the TUI, in one place so views stay consistent.
import type { FeedItem } from '../model/session.js';
import type { Severity } from '../model/diagnosis.js';

export const theme = {
  focusBorder: 'cyan',
  border: 'gray',
  title: 'cyan',
  dim: 'gray',
  danger: 'red',
  warn: 'yellow',
  ok: 'green',
  accent: 'magenta',
} as const;

export const SEVERITY_COLOR: Record<Severity, string> = {
  critical: 'red',
  warning: 'yellow',
  info: 'blue',
};
export const SEVERITY_MARK: Record<Severity, string> = {
  critical: '!!',
  warning: '! ',
  info: 'i ',
};

export const FEED_TAG: Record<FeedItem['kind'], { tag: string; color: string }> = {
  drop: { tag: 'DROP', color: 'red' },
  reset: { tag: 'RST ', color: 'red' },
  conntrack: { tag: 'CT  ', color: 'yellow' },
  retransmit: { tag: 'RETX', color: 'yellow' },
  keepalive: { tag: 'KA  ', color: 'green' },
  info: { tag: 'INFO', color: 'blue' },
};

/** Colour for seconds left before a layer forgets a flow. */
export function leftColor(sec: number | null | undefined): string | undefined {
  if (typeof sec !== 'number' || !Number.isFinite(sec)) return undefined;
  if (sec <= 60) return 'red';
  if (sec <= 300) return 'yellow';
  return undefined;
}

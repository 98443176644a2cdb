// Small text-layout helpers for reports that must fit a terminal width.

export { wrap } from '../../model/text-wrap.js';

/** Seconds as a short human duration: 45s, 9m30s, 2h05m, 5d. */
export function fmtDuration(sec: number | null | undefined): string {
  if (sec === null || sec === undefined || !Number.isFinite(sec)) return '–';
  const s = Math.max(0, Math.round(sec));
  if (s < 120) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86400 * 2)
    return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.round(s / 86400)}d`;
}

/** ms since the epoch as UTC `HH:MM:SS.mmm`, or `+S.mmms` relative to `origin` when absolute time is unknown. */
export function fmtTime(t: number, timeKnown = true, origin = 0): string {
  if (!timeKnown) return `+${((t - origin) / 1000).toFixed(3)}s`;
  return new Date(t).toISOString().slice(11, 23);
}

export function padEnd(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

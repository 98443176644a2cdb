// Evidence records for findings: a quoted line with its time and source.
import type { Evidence } from '../../model/diagnosis.js';
import { isProbeItem, type TimelineItem } from '../../model/timeline.js';
import { probeEventText, probeWhere } from '../../model/probe-text.js';

/** Evidence record helper. */
export function evidence(t: number, src: string, text: string, note?: string): Evidence {
  return note === undefined ? { t, src, text } : { t, src, text, note };
}

/**
 * Evidence from a timeline item: its line, except a probe event, which is quoted in words (the probe's
 * line is bpftrace JSON with tab-separated fields; `t` and `src` still find it in the recording).
 */
export function itemEvidence(i: TimelineItem, note?: string): Evidence {
  const p = isProbeItem(i) ? i.probe : undefined;
  return evidence(
    i.t,
    i.src,
    p !== undefined ? probeEventText(p, probeWhere(p, i.scope)) : i.text,
    note,
  );
}

/** Evidence whose text is built only when read (a million flows need no summary strings). */
export function lazyEvidence(t: number, src: string, make: () => string): Evidence {
  let text: string | undefined;
  return {
    t,
    src,
    get text(): string {
      return (text ??= make());
    },
  };
}

/** `600 s`, `900 s (15 min)`, `86400 s (24 h)`: numbers the way findings state them. */
export function fmtSec(n: number): string {
  const s = Math.round(n);
  if (s >= 3600 && s % 3600 === 0) return `${s} s (${s / 3600} h)`;
  if (s >= 120 && s % 60 === 0) return `${s} s (${s / 60} min)`;
  return `${s} s`;
}

// Terminal hygiene for the TUI at a cost proportional to what is drawn. Input strings (pod and
// process names, comments, hostnames) reach the screen only through the snapshot, and walking all
// of a 100,000-flow snapshot cost ~200 ms a frame. So the snapshot is made printable in two parts:
// - everything but the flows and predictions, once per snapshot (findings, suggestions, the feed,
//   sources, applied changes: their size does not grow with the flow table);
// - each flow where it is turned into text (printableFlow: the drawn rows, the detail view, the
//   filter's haystack), walked there every time, so no copy can go stale.
// Predictions stay as they are: the UI reads only their flow id (a lookup key) and numbers.
import type { Diagnosis, FlowView } from '../../model/diagnosis.js';
import { printableDeep } from '../../model/printable.js';
import type { SessionSnapshot } from '../../model/session.js';

/** `flow` with every string made printable: the flow itself when it is clean (the usual case). */
export function printableFlow<F extends FlowView | undefined>(flow: F): F {
  return printableDeep(flow);
}

/** `from` without the fields in `lazy`, made printable, then those fields put back as they were. */
function printableExcept<T extends object>(from: T, lazy: readonly (keyof T & string)[]): T {
  const rest = { ...from } as Record<string, unknown>;
  for (const k of lazy) delete rest[k];
  const clean = printableDeep(rest);
  if (clean === rest) return from;
  const out: Record<string, unknown> = { ...clean };
  for (const k of lazy)
    if (Object.prototype.hasOwnProperty.call(from, k)) out[k] = from[k as keyof T];
  return out as T;
}

/**
 * `s` with every string the UI shows made printable, but the flows' (printableFlow does those where
 * they are drawn); `s` itself when it is clean.
 */
export function printableSnapshot(s: SessionSnapshot): SessionSnapshot {
  if (s === null || typeof s !== 'object') return printableDeep(s);
  const d: unknown = s.diagnosis;
  if (d === null || typeof d !== 'object' || Array.isArray(d)) return printableDeep(s);
  const diagnosis = printableExcept(d as Diagnosis, ['flows', 'predictions']);
  const rest = printableExcept(s, ['diagnosis']);
  if (diagnosis === d && rest === s) return s;
  return { ...rest, diagnosis };
}

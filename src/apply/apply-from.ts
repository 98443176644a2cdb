// `kdiag apply ID --from FILE`: the suggestion a recording or bundle's diagnosis printed, found by
// its id there, then handed to the one apply path (apply-plan.ts) like a suggestion of a fresh
// diagnosis. Pure: the caller loads FILE the way replay and check do.
import { UsageError } from '../errors.js';
import type { Diagnosis, Suggestion } from '../model/diagnosis.js';
import { printable } from '../model/printable.js';

/** The suggestion `id` of FILE's diagnosis; an unknown id is one line listing the ids FILE has. */
export function suggestionIn(diagnosis: Diagnosis, id: string, file: string): Suggestion {
  const s = diagnosis.suggestions.find((x) => x.id === id);
  if (s) return s;
  const where = printable(file.slice(0, 200));
  const ids = diagnosis.suggestions.map((x) => printable(x.id));
  throw new UsageError(
    ids.length === 0
      ? `no suggestion "${printable(id.slice(0, 80))}" in ${where}: its diagnosis has no suggestions`
      : `no suggestion "${printable(id.slice(0, 80))}" in ${where}; it has: ${ids.join(', ')}`,
  );
}

/**
 * A recorded "raise" that would lower the value this node holds (or a "lower" that would raise it):
 * FILE came from another node, or from before a change. Returns why to refuse, or undefined.
 */
export function directionRefusal(
  s: Pick<Suggestion, 'id' | 'title'>,
  change: { readonly kind: string; readonly old?: unknown; readonly new?: unknown },
): string | undefined {
  if (change.kind !== 'sysctl') return undefined;
  const was = Number(change.old);
  const to = Number(change.new);
  if (!Number.isFinite(was) || !Number.isFinite(to)) return undefined;
  const raise = /^Raise\b/.test(s.title);
  const lower = /^Lower\b/.test(s.title);
  if ((raise && to < was) || (lower && to > was))
    return `suggestion ${s.id} would ${raise ? 'lower' : 'raise'} the value here (${was} → ${to}): this node is not the one the file recorded`;
  return undefined;
}

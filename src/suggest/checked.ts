// The last step of buildSuggestions: each suggestion that changes a timer is tried on the race of the
// flows it targets (race-check.ts); one that saves none of them, or raises a timeout to the value in
// force, is dropped, and the others carry what the race said (`checked`).
import type { Suggestion } from '../model/diagnosis.js';
import type { PathContext } from '../analysis/path/context.js';
import type { PathTimeouts } from '../analysis/path/path-timeouts.js';
import {
  type Trial,
  checkTrial,
  helps,
  lookupPaths,
  targetsOf,
  trialRefused,
} from './race-check.js';
import type { NeedSet } from './suggest.js';

/** Adds a suggestion, with the change it makes as the race sees it when it changes a timer. */
export type Add = (s: Omit<Suggestion, 'rank'>, trial?: Trial) => void;

/** A suggestion the race turned down, and why: what a finding left with no fix says. */
export interface Refused {
  readonly id: string;
  readonly fixes: readonly string[];
  readonly reason: string;
  /** The flows it was tried on (none when refused before any flow was tried). */
  readonly flows: readonly string[];
}

/** Keeps the suggestions the race says help, each with the flows it saves and those it leaves at risk. */
export function checkSuggestions(
  list: readonly Suggestion[],
  trials: ReadonlyMap<string, Trial>,
  sets: readonly NeedSet[],
  ctx: PathContext,
): { kept: Suggestion[]; refused: Refused[] } {
  const paths = new Map<string, PathTimeouts[]>();
  const flows = new Map<string, readonly string[]>();
  for (const s of sets) {
    const own = s.needs.flatMap((n) => (n.kind === 'keepalive' ? n.paths : []));
    paths.set(s.findingId, [...(paths.get(s.findingId) ?? []), ...own]);
    flows.set(s.findingId, s.flows ?? []);
  }
  const all = [...paths.values()].flat();
  const checked = list.filter((s) => trials.has(s.id));
  // One pass over the table for every flow a checked suggestion's findings name.
  const named = new Set<string>();
  for (const s of checked)
    for (const f of s.fixes) for (const id of flows.get(f) ?? []) named.add(id);
  for (const s of checked)
    for (const f of s.fixes) for (const p of paths.get(f) ?? []) named.delete(p.id);
  const found = lookupPaths(ctx, named);
  const out: Suggestion[] = [];
  const refused: Refused[] = [];
  for (const s of list) {
    const t = trials.get(s.id);
    if (!t) {
      out.push(s);
      continue;
    }
    const no = trialRefused(t);
    if (no !== null) {
      refused.push({ id: s.id, fixes: s.fixes, reason: no, flows: [] });
      continue;
    }
    // A netns keepalive sysctl targets every at-risk flow with a socket in that netns, not only the
    // flows of the findings that asked for it (a node budget finding names none).
    const inScope =
      t.kind === 'sysctl-keepalive'
        ? all.filter((p) => p.keepalive.sockets.some((k) => (k.scope ?? '') === (t.scope ?? '')))
        : [];
    const targets = targetsOf(
      [...s.fixes.flatMap((f) => paths.get(f) ?? []), ...inScope],
      s.fixes.flatMap((f) => flows.get(f) ?? []),
      found,
    );
    const c = checkTrial(t, targets);
    if (!helps(c)) {
      const first = c.atRisk[0];
      refused.push({
        id: s.id,
        fixes: s.fixes,
        reason: `saves none of the ${c.targets} flow${c.targets === 1 ? '' : 's'} it targets${first ? ` (${first.reason})` : ''}`,
        flows: c.atRisk.map((x) => x.flow),
      });
      continue;
    }
    out.push(targets.length > 0 ? { ...s, checked: c } : s);
  }
  return { kept: out, refused };
}

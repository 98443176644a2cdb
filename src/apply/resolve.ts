// Turns what the user typed (a suggestion id, or `--change sysctl:KEY=VALUE`) into a change
// request and the reason recorded with it. Pure.
import { UsageError } from '../errors.js';
import type { Diagnosis, Finding, Suggestion } from '../model/diagnosis.js';
import type { ChangeRequest } from './apply-change.js';
import type { JournalWhy } from './journal.js';

export interface ResolvedSuggestion {
  readonly suggestion: Suggestion;
  /** The findings it fixes, as found in the diagnosis. */
  readonly findings: readonly Finding[];
}

/** Finds a suggestion by id; an unknown id is a UsageError listing the ids there are. */
export function findSuggestion(diagnosis: Diagnosis, id: string): ResolvedSuggestion {
  const suggestion = diagnosis.suggestions.find((s) => s.id === id);
  if (suggestion === undefined) {
    const appliable = diagnosis.suggestions.filter((s) => s.change !== undefined).map((s) => s.id);
    const others = diagnosis.suggestions.filter((s) => s.change === undefined).map((s) => s.id);
    const hint =
      diagnosis.suggestions.length === 0
        ? 'this diagnosis has no suggestions: nothing to apply'
        : `kdiag can apply: ${appliable.join(', ') || '(none)'}${others.length ? `; others: ${others.join(', ')}` : ''}`;
    throw new UsageError(`no suggestion "${id.slice(0, 80)}" in the current diagnosis`, hint);
  }
  const findings = suggestion.fixes
    .map((f) => diagnosis.findings.find((x) => x.id === f))
    .filter((f): f is Finding => f !== undefined);
  return { suggestion, findings };
}

/** The change a suggestion carries, as a request. */
export function requestOf(suggestion: Suggestion): ChangeRequest | undefined {
  const c = suggestion.change;
  if (c === undefined) return undefined;
  if (c.kind === 'conntrack-update')
    return { kind: 'conntrack-update', family: c.family, state: c.state, timeoutSec: c.timeoutSec };
  return c.kind === 'sysctl'
    ? { kind: 'sysctl', key: c.key, value: c.value }
    : { kind: 'ipvs-timeout', tcp: c.tcp, tcpfin: c.tcpfin, udp: c.udp };
}

/** The journal's reason for a suggestion's change. */
export function whyOfSuggestion(r: ResolvedSuggestion): JournalWhy {
  const cause = r.findings[0]?.cause ?? r.suggestion.rationale;
  return {
    via: 'suggestion',
    suggestion: r.suggestion.id,
    findings: r.suggestion.fixes.slice(0, 100).map((f) => f.slice(0, 500)),
    cause: cause.slice(0, 2000),
  };
}

/** The journal's reason for a `--change` given by hand. */
export function whyOfFlag(flag: string): JournalWhy {
  return { via: 'change-flag', findings: [], cause: `--change ${flag}`.slice(0, 2000) };
}

const CHANGE_FORMS = 'sysctl:KEY=VALUE or ipvs-timeout:TCP,TCPFIN,UDP (0 = keep)';

/** Parses `--change sysctl:KEY=VALUE` or `--change ipvs-timeout:TCP,TCPFIN,UDP`. Values are checked later, against the allowlist. */
export function parseChangeFlag(text: string): ChangeRequest {
  const t = text.trim();
  if (t.startsWith('sysctl:')) {
    const body = t.slice('sysctl:'.length);
    const eq = body.indexOf('=');
    if (eq <= 0) throw new UsageError(`--change ${t.slice(0, 80)}: expected ${CHANGE_FORMS}`);
    return { kind: 'sysctl', key: body.slice(0, eq).trim(), value: body.slice(eq + 1).trim() };
  }
  if (t.startsWith('ipvs-timeout:')) {
    const parts = t.slice('ipvs-timeout:'.length).split(',');
    const nums = parts.map((p) => (/^\s*[0-9]{1,10}\s*$/.test(p) ? Number(p) : NaN));
    if (nums.length !== 3 || nums.some((n) => !Number.isSafeInteger(n)))
      throw new UsageError(`--change ${t.slice(0, 80)}: expected ${CHANGE_FORMS}`);
    return { kind: 'ipvs-timeout', tcp: nums[0]!, tcpfin: nums[1]!, udp: nums[2]! };
  }
  throw new UsageError(`--change ${t.slice(0, 80)}: expected ${CHANGE_FORMS}`);
}

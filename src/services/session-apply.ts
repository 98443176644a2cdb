// Applying and reverting from the TUI: the same plan, journal and read-back as `kdiag apply`;
// the confirmation is the TUI's dialog.
import { KdiagError } from '../errors.js';
import type { Diagnosis } from '../model/diagnosis.js';
import type { AppliedChange } from '../model/session.js';

export interface SessionApplyDeps {
  readonly diagnosis: () => Diagnosis;
  readonly journalDir?: string;
}

/** Applies a suggestion of the current diagnosis; resolves with what the journal recorded. */
export async function applyFromSession(suggestionId: string, deps: SessionApplyDeps): Promise<AppliedChange> {
  const resolve = await import('../apply/resolve.js');
  const { planChange, applyPlan, changeSubject, showValue } = await import('../apply/apply-change.js');
  const { journalDirFrom } = await import('../apply/journal.js');
  const { systemLive } = await import('../apply/live-system.js');
  const { NODE } = await import('../apply/target.js');
  const { scopeTarget } = await import('../apply/find-target.js');
  const found = resolve.findSuggestion(deps.diagnosis(), suggestionId);
  const request = resolve.requestOf(found.suggestion);
  if (!request) throw new KdiagError('KDIAG_REFUSED', `suggestion ${suggestionId} is not a change kdiag can make live`);
  const change = found.suggestion.change;
  // A pod's namespace by its name under /run/netns, else through the pod's processes (as kdiag apply does).
  const target = change?.kind === 'sysctl' && change.netns !== undefined ? await scopeTarget(change.netns) : NODE;
  const live = systemLive();
  const plan = await planChange(request, target, resolve.whyOfSuggestion(found), {}, live);
  const outcome = await applyPlan(plan, { live, journalDir: journalDirFrom(deps.journalDir) });
  if (!outcome.ok) throw new KdiagError('KDIAG_APPLY_FAILED', outcome.message);
  const c = plan.change;
  const summary = c.kind === 'sysctl' ? `${changeSubject(c)}: ${c.old} → ${c.new}` : `${changeSubject(c)}: ${showValue(c.old)} → ${showValue(c.new)}`;
  return { journalId: String(outcome.entry.id), suggestion: suggestionId, summary, reverted: false };
}

/** Reverts one journal entry. */
export async function revertFromSession(journalId: string, deps: { journalDir?: string } = {}): Promise<void> {
  const { revertEntries } = await import('../apply/revert-change.js');
  const { journalDirFrom } = await import('../apply/journal.js');
  const { systemLive } = await import('../apply/live-system.js');
  const outcomes = await revertEntries({ ids: [Number(journalId)] }, { live: systemLive(), journalDir: journalDirFrom(deps.journalDir) });
  const bad = outcomes.find((o) => o.status === 'failed' || o.status === 'skipped');
  if (bad) throw new KdiagError('KDIAG_APPLY_FAILED', `revert ${journalId}: ${bad.status}${'message' in bad && bad.message ? `: ${String(bad.message)}` : ''}`);
}

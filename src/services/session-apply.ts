// Applying and reverting from the TUI through the same service as `kdiag apply` (apply/apply-plan.ts):
// the session's --netns carries into every plan, the dialog shows the plan (namespace name and
// identity, old → new) before y/N, and y makes exactly the plan shown, nothing re-decided.
import { KdiagError } from '../errors.js';
import type { Diagnosis } from '../model/diagnosis.js';
import type { AppliedChange, ApplyPreview, SessionStore } from '../model/session.js';
import type { ApplyScope } from '../apply/aim.js';
import type { ApplyProposal, NamespaceFinder } from '../apply/apply-plan.js';
import type { LiveSystem } from '../apply/live-system.js';

export interface SessionApplyOptions {
  /** The namespace the session diagnoses (`kdiag ui --netns NAME`); empty = the node. */
  readonly scope: ApplyScope;
  readonly journalDir?: string;
  /** Seams for tests; default the real system. */
  readonly live?: LiveSystem;
  readonly namespaces?: NamespaceFinder;
}

/** Plans, applies and reverts the session's suggestions. */
export interface SessionApplier {
  /** Plans a suggestion of `diagnosis` and keeps the plan for `apply`. */
  plan(suggestionId: string, diagnosis: Diagnosis): Promise<ApplyPreview>;
  /** Makes the plan last shown for this suggestion; refuses one never shown. */
  apply(suggestionId: string): Promise<AppliedChange>;
  revert(journalId: string): Promise<void>;
}

/** The session's applier; the identity of the session's namespace is taken now, so a re-created one is refused later. */
export async function sessionApplier(opts: SessionApplyOptions): Promise<SessionApplier> {
  const { proposeApply, commitApply } = await import('../apply/apply-plan.js');
  const { changeSubject, showValue } = await import('../apply/apply-change.js');
  const { journalDirFrom } = await import('../apply/journal.js');
  const { systemLive } = await import('../apply/live-system.js');
  const { systemNamespaces } = await import('../apply/find-target.js');
  const { targetFor } = await import('../apply/target.js');
  const live = opts.live ?? systemLive();
  const namespaces = opts.namespaces ?? systemNamespaces();
  const journalDir = journalDirFrom(opts.journalDir);
  const scopeTarget =
    opts.scope.pid !== undefined
      ? await namespaces.pidTarget(opts.scope.pid)
      : targetFor(opts.scope.netns);
  const scopeNsId =
    opts.scope.netns === undefined && opts.scope.pid === undefined
      ? undefined
      : await live.namespaceId(scopeTarget);
  const shown = new Map<string, ApplyProposal>();

  return {
    async plan(suggestionId, diagnosis) {
      shown.delete(suggestionId);
      const proposal = await proposeApply(
        {
          scope: opts.scope,
          what: { suggestionId, diagnosis },
          ...(scopeNsId === undefined ? {} : { scopeNsId }),
        },
        { live, journalDir, namespaces },
      );
      shown.set(suggestionId, proposal);
      return { lines: proposal.lines, warnings: proposal.warnings };
    },
    async apply(suggestionId) {
      const proposal = shown.get(suggestionId);
      if (proposal === undefined)
        throw new KdiagError(
          'KDIAG_REFUSED',
          `suggestion ${suggestionId} has no plan shown: nothing changed`,
          { hint: 'press a on it to see the plan first' },
        );
      shown.delete(suggestionId);
      if (proposal.plan.noop)
        throw new KdiagError(
          'KDIAG_REFUSED',
          `nothing to change: ${changeSubject(proposal.plan.change)} is already set`,
        );
      const outcome = await commitApply(proposal, { live, journalDir });
      if (!outcome.ok) throw new KdiagError('KDIAG_APPLY_FAILED', outcome.message);
      const c = proposal.plan.change;
      const summary =
        c.kind === 'sysctl'
          ? `${changeSubject(c)}: ${c.old} → ${c.new}`
          : `${changeSubject(c)}: ${showValue(c.old)} → ${showValue(c.new)}`;
      return {
        journalId: String(outcome.entry.id),
        suggestion: suggestionId,
        summary,
        reverted: false,
      };
    },
    async revert(journalId) {
      const { revertEntries } = await import('../apply/revert-change.js');
      const outcomes = await revertEntries({ ids: [Number(journalId)] }, { live, journalDir });
      const bad = outcomes.find((o) => o.status === 'failed' || o.status === 'skipped');
      if (bad)
        throw new KdiagError(
          'KDIAG_APPLY_FAILED',
          `revert ${journalId}: ${bad.status}: ${bad.message}`,
        );
    },
  };
}

/** The session as the TUI's store, with the applier's planner for the confirmation dialog. */
export function withApplyPlanner(store: SessionStore, applier: SessionApplier): SessionStore {
  return {
    getSnapshot: () => store.getSnapshot(),
    subscribe: (listener) => store.subscribe(listener),
    dispatch: (command) => store.dispatch(command),
    planApply: (suggestionId) => applier.plan(suggestionId, store.getSnapshot().diagnosis),
  };
}

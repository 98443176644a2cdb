// The one way a change is planned and made, for `kdiag apply` and the TUI alike: what to change
// (a suggestion of a diagnosis, or --change), where (the command's or session's namespace, or the
// pod namespace a suggestion names), checked against the allowlist, shown with the namespace's
// name and identity, then made under the journal lock into that same namespace or not at all.
import { KdiagError, UsageError } from '../errors.js';
import type { Diagnosis, Finding, Suggestion } from '../model/diagnosis.js';
import { aimOf, aimsAtNode, type Aim, type ApplyScope } from './aim.js';
import {
  applyPlan,
  changeSubject,
  planChange,
  type ApplyDeps,
  type ApplyOutcome,
  type ChangeRequest,
  type Plan,
} from './apply-change.js';
import { formatPlan } from './format.js';
import { journalPath, type JournalWhy } from './journal.js';
import type { LiveSystem } from './live-system.js';
import {
  findSuggestion,
  parseChangeFlag,
  requestOf,
  whyOfFlag,
  whyOfSuggestion,
} from './resolve.js';
import { describeTarget, NODE, targetFor, type Target } from './target.js';

/** What to change: a suggestion of a diagnosis, or a `--change` spec typed by hand. */
export type ApplyWhat =
  | { readonly suggestionId: string; readonly diagnosis: Diagnosis }
  | { readonly changeSpec: string };

/** Finds the namespaces a pid or a label means (find-target.ts on a real host). */
export interface NamespaceFinder {
  pidTarget(pid: number, label?: string): Promise<Target>;
  scopeTarget(label: string): Promise<Target>;
}

export interface ProposeInput {
  readonly scope: ApplyScope;
  readonly what: ApplyWhat;
  readonly persist?: boolean;
  /** The identity of the scope's namespace when the session began: a namespace re-created since is refused. */
  readonly scopeNsId?: string;
}

export interface ProposeDeps {
  readonly live: LiveSystem;
  readonly journalDir: string;
  readonly namespaces: NamespaceFinder;
  readonly sysctlDir?: string;
}

/** A planned change and the text to show before asking y/N. */
export interface ApplyProposal {
  readonly plan: Plan;
  /** The plan for people: change, where, identity, old → new, what it fixes, the journal file. */
  readonly lines: readonly string[];
  readonly warnings: readonly string[];
  readonly suggestion?: Suggestion;
}

interface Resolved {
  readonly request: ChangeRequest;
  readonly why: JournalWhy;
  readonly suggestion?: Suggestion;
  readonly findings: readonly Finding[];
}

function resolveWhat(what: ApplyWhat): Resolved {
  if ('changeSpec' in what)
    return {
      request: parseChangeFlag(what.changeSpec),
      why: whyOfFlag(what.changeSpec.trim()),
      findings: [],
    };
  const found = findSuggestion(what.diagnosis, what.suggestionId);
  const s = found.suggestion;
  const request = requestOf(s);
  if (request === undefined) {
    const first = s.commands[0];
    throw new UsageError(
      `suggestion ${s.id} (${s.scope}) is not a change kdiag can make`,
      first ? `${first.label}: ${first.text.split('\n')[0]}` : 'see kdiag check for what to do',
    );
  }
  return { request, why: whyOfSuggestion(found), suggestion: s, findings: found.findings };
}

async function targetOf(
  aim: Aim,
  namespaces: NamespaceFinder,
  suggestionId: string | undefined,
): Promise<Target> {
  if (aim.kind === 'node') return NODE;
  if (aim.kind === 'netns') return targetFor(aim.name);
  if (aim.kind === 'pid') return namespaces.pidTarget(aim.pid);
  const forIt = await namespaces.scopeTarget(aim.label);
  if (aim.pid !== undefined) {
    const given = await namespaces.pidTarget(aim.pid);
    if (!(forIt.kind === 'pid' && given.kind === 'pid' && forIt.nsId === given.nsId)) {
      throw new UsageError(
        `suggestion ${suggestionId ?? '?'} is for the ${describeTarget(forIt)}, not the netns of pid ${aim.pid}`,
      );
    }
  }
  return forIt;
}

/** Plans a change (reads what it replaces; changes nothing) and says where it would go, by name and identity. */
export async function proposeApply(input: ProposeInput, deps: ProposeDeps): Promise<ApplyProposal> {
  const r = resolveWhat(input.what);
  const aim = aimOf(input.scope, r.suggestion?.change, r.suggestion?.id);
  const target = await targetOf(aim, deps.namespaces, r.suggestion?.id);
  const plan = await planChange(
    r.request,
    target,
    r.why,
    {
      persist: Boolean(input.persist),
      ...(deps.sysctlDir === undefined ? {} : { sysctlDir: deps.sysctlDir }),
    },
    deps.live,
  );
  const subject = changeSubject(plan.change);
  if (!aimsAtNode(aim)) {
    // A named netns can be the node's own (ip netns attach NAME 1), and a pid can live in it.
    const hostId = await deps.live.namespaceId(NODE);
    if (target.kind === 'node' || (hostId !== undefined && plan.nsId === hostId)) {
      throw new KdiagError(
        'KDIAG_REFUSED',
        `won't change ${subject}: ${describeTarget(target)} is the node's own network namespace, and the node was not asked for`,
        {
          hint: 'to change the node, run kdiag apply without --netns or --pid',
        },
      );
    }
  }
  if (
    input.scopeNsId !== undefined &&
    aim.kind !== 'label' &&
    aim.kind !== 'node' &&
    plan.nsId !== input.scopeNsId
  ) {
    throw new KdiagError(
      'KDIAG_REFUSED',
      `won't change ${subject}: ${describeTarget(target)} is not the namespace this session diagnoses (${input.scopeNsId}, now ${plan.nsId ?? 'gone'})`,
      {
        hint: 'restart the session on the namespace as it is now',
      },
    );
  }
  const lines = formatPlan(plan, {
    ...(r.suggestion === undefined ? {} : { suggestionTitle: r.suggestion.title }),
    findings: r.findings,
    journalFile: journalPath(deps.journalDir),
  });
  return {
    plan,
    lines,
    warnings: r.suggestion?.warnings ?? [],
    ...(r.suggestion === undefined ? {} : { suggestion: r.suggestion }),
  };
}

/** Makes a proposal shown to (and confirmed by) the user: the same plan, into the same namespace. */
export async function commitApply(proposal: ApplyProposal, deps: ApplyDeps): Promise<ApplyOutcome> {
  return applyPlan(proposal.plan, deps);
}

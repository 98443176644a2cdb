// Which network namespace a change is aimed at, before any namespace is looked up: the one the
// command or session works in (--netns, --pid), or the pod namespace a suggestion names. Pure: the
// CLI and the TUI both plan through it, so a session on --netns LAB never aims a change at the node.
import { UsageError } from '../errors.js';
import type { ApplyChange } from '../model/diagnosis.js';

/** The namespace a command or session works in; neither field = the node. */
export interface ApplyScope {
  readonly netns?: string;
  readonly pid?: number;
}

export type Aim =
  | { readonly kind: 'node' }
  | { readonly kind: 'netns'; readonly name: string }
  | { readonly kind: 'pid'; readonly pid: number }
  /** A pod's namespace by kdiag's label for it; with `pid`, it must be that process's namespace too. */
  | { readonly kind: 'label'; readonly label: string; readonly pid?: number };

/** Whether the user aimed at the node itself: only then may a change land in the node's namespace. */
export function aimsAtNode(aim: Aim): boolean {
  return aim.kind === 'node';
}

/** The aim of a change (`change` = the suggestion's, if any) made from `scope`; a contradiction is a UsageError. */
export function aimOf(scope: ApplyScope, change?: ApplyChange, suggestionId?: string): Aim {
  if (scope.netns !== undefined && scope.pid !== undefined)
    throw new UsageError(
      'give --netns or --pid, not both',
      "--pid is for a namespace without a name (a pod's)",
    );
  const named =
    change?.kind === 'sysctl' || change?.kind === 'conntrack-update' ? change.netns : undefined;
  if (named !== undefined) {
    if (scope.netns !== undefined && scope.netns !== named)
      throw new UsageError(
        `suggestion ${suggestionId ?? '?'} is for netns ${named}, not ${scope.netns}`,
      );
    if (scope.netns !== undefined) return { kind: 'netns', name: named };
    return scope.pid === undefined
      ? { kind: 'label', label: named }
      : { kind: 'label', label: named, pid: scope.pid };
  }
  if (scope.pid !== undefined) return { kind: 'pid', pid: scope.pid };
  if (scope.netns !== undefined) return { kind: 'netns', name: scope.netns };
  return { kind: 'node' };
}

// A node sysctl suggestion: the one shape every sysctl fix takes.
import type { Suggestion } from '../model/diagnosis.js';
import { nodeSysctlCommands } from './snippets.js';

/** A node sysctl suggestion that kdiag apply can make, with its live and persistent commands. */
export function nodeSysctl(
  id: string,
  key: string,
  value: number,
  fixes: readonly string[],
  title: string,
  rationale: string,
  warnings: readonly string[],
): Omit<Suggestion, 'rank'> {
  return {
    id,
    scope: 'node',
    title,
    rationale,
    fixes,
    commands: nodeSysctlCommands(key, value),
    warnings,
    change: { kind: 'sysctl', key, value: String(value) },
  };
}

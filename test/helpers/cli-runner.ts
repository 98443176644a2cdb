// Runs kdiag's apply, revert and journal commands in-process, keeping what they print on stdout.
import { Command } from 'commander';
import { vi } from 'vitest';
import { registerApply, type ApplyCommandDeps } from '../../src/cli/commands/apply.js';

export interface CliRunner {
  /** Runs `kdiag ARGS…`; rejects with the command's error. */
  run(...args: string[]): Promise<void>;
  /** What the last run printed on stdout. */
  readonly printed: string;
}

export function cliRunner(deps: ApplyCommandDeps = {}): CliRunner {
  let printed = '';
  return {
    async run(...args: string[]) {
      printed = '';
      const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
        printed += String(s);
        return true;
      });
      try {
        const program = new Command('kdiag').exitOverride();
        registerApply(program, deps);
        await program.parseAsync(args, { from: 'user' });
      } finally {
        spy.mockRestore();
      }
    },
    get printed() {
      return printed;
    },
  };
}

// Entry: builds the program, runs it, and turns every error into one clear line and an exit code.
import { CommanderError } from 'commander';
import { KdiagError } from '../errors.js';
import { printable } from '../model/printable.js';
import { createProgram } from './program.js';

export async function main(argv: readonly string[]): Promise<void> {
  // `kdiag … | head` closes the pipe early: that is the reader's choice, not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  const program = createProgram();
  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    process.exitCode = reportError(err);
  }
}

/** Prints an error for a person (never a stack trace unless KDIAG_DEBUG is set) and returns the exit code. */
export function reportError(
  err: unknown,
  write: (s: string) => void = (s) => process.stderr.write(s),
): number {
  if (err instanceof CommanderError) {
    // commander has already printed help or its own one-line message; exit code 0 marks help,
    // --version and an answer printed on request (--cloud list). Anything else is a usage error.
    return err.exitCode === 0 ? 0 : 2;
  }
  if (err instanceof KdiagError) {
    // Messages quote input (file names, lines): escape sequences in them must not reach the terminal.
    write(`kdiag: ${printable(err.message).replace(/\n/g, ' ')}\n`);
    if (err.hint) write(`  hint: ${printable(err.hint)}\n`);
    if (err.code === 'KDIAG_BUG' || process.env.KDIAG_DEBUG) write(`${err.stack ?? ''}\n`);
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  write(
    `kdiag: internal error: ${printable(message.split('\n')[0] ?? '')}\n  hint: re-run with KDIAG_DEBUG=1 for the stack trace and report it\n`,
  );
  if (process.env.KDIAG_DEBUG && err instanceof Error) write(`${err.stack ?? ''}\n`);
  return 70;
}

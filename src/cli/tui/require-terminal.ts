// ink without a terminal on both ends fails deep in React (error #185): every way into the TUI
// refuses first, naming the plain-output command that does the same job.
import { UsageError } from '../../errors.js';

/** Throws a usage error naming `instead` unless stdin and stdout are both terminals. */
export function requireTerminal(instead: string): void {
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    throw new UsageError(`the terminal UI needs a terminal on stdin and stdout; use ${instead}`);
  }
}

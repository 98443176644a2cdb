// The OSC 52 escape sequence: asks the terminal (also over ssh) to put text on the system clipboard.
import { printable } from '../model/printable.js';

/** Builds the OSC 52 "set clipboard" sequence for `text` (BEL-terminated, which xterm, iTerm2, kitty and tmux accept). */
export function osc52(text: string): string {
  // What is copied gets pasted into a shell: no escape sequence from input may ride along.
  return `\u001B]52;c;${Buffer.from(printable(text), 'utf8').toString('base64')}\u0007`;
}

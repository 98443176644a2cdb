// The OSC 52 escape sequence: asks the terminal (also over ssh) to put text on the system clipboard.

/** Builds the OSC 52 "set clipboard" sequence for `text` (BEL-terminated, which xterm, iTerm2, kitty and tmux accept). */
export function osc52(text: string): string {
  return `\u001B]52;c;${Buffer.from(text, 'utf8').toString('base64')}\u0007`;
}

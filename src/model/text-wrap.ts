// Word wrap for lines that must fit a terminal width: reports (cli/output) and the progress lines
// services write.

/** Wraps text to `width`, indenting continuation lines by `indent` spaces; long words are split. */
export function wrap(text: string, width: number, indent = 0, firstIndent = indent): string[] {
  const out: string[] = [];
  let line = ' '.repeat(firstIndent);
  let lineHasWord = false;
  const pad = ' '.repeat(indent);
  for (const word0 of text.split(/\s+/).filter(Boolean)) {
    let word = word0;
    while (word.length > 0) {
      const room = width - line.length - (lineHasWord ? 1 : 0);
      if (word.length <= room) {
        line += (lineHasWord ? ' ' : '') + word;
        lineHasWord = true;
        word = '';
      } else if (!lineHasWord || word.length > width - indent) {
        // Split a word that could never fit, at what room remains.
        const take = Math.max(1, room);
        line += (lineHasWord ? ' ' : '') + word.slice(0, take);
        word = word.slice(take);
        out.push(line);
        line = pad;
        lineHasWord = false;
      } else {
        out.push(line);
        line = pad;
        lineHasWord = false;
      }
    }
  }
  if (lineHasWord || out.length === 0) out.push(line);
  return out;
}

// What a copy from a terminal adds around a tool's own lines: shell prompts with their command, a
// time column put in front by `ts`, a `while` loop or `watch`, the `^C` echo of an interrupted
// stream, and notes typed after a line (`<- this one`, `# hangs`). Only looked at once a line
// failed to parse (the slow path), so clean tool output costs nothing here.
// Every pattern is anchored and has no nested quantifiers: pastes are untrusted text.
import { promptCommand } from './paste/line-shapes.js';

/** Longer lines are never taken apart: no tool line kdiag reads is anywhere near this long. */
const MAX_NOISY_LINE = 16384;

// `09:14:29 `, `09:14:29.123 `, `[09:14:29] `, `2026-06-24 09:14:29 `, `2026-06-24T09:14:29Z `,
// and moreutils ts's default `Jun 24 09:14:29 `.
const TIME_COLUMN =
  /^(?:\[?(?:\d{4}-\d{2}-\d{2}[T ])?\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?\]?|[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}(?:\.\d{1,9})?) {1,8}(?=\S)/;

// A note starts after a blank with an arrow, a comment mark or a dash pair.
const NOTE = /[ \t](?:<-|<=|←|#|\/\/|--)/;

/** The command of a shell prompt or watch(1) header line, or undefined: such lines are skipped. */
export function promptOf(line: string): string | undefined {
  if (line.length > MAX_NOISY_LINE) return undefined;
  return promptCommand(line);
}

/** The time column in front of a line (`09:14:29`), or undefined. */
export function timeColumnOf(line: string): string | undefined {
  if (line.length > MAX_NOISY_LINE) return undefined;
  const m = TIME_COLUMN.exec(line);
  return m === null ? undefined : m[0].trimEnd();
}

/** The line without what a terminal put in front of it (a time column, a `^C` echo), or undefined. */
export function withoutLeadingNoise(line: string): string | undefined {
  if (line.length > MAX_NOISY_LINE) return undefined;
  let rest = line;
  const at = TIME_COLUMN.exec(rest);
  if (at !== null) rest = rest.slice(at[0].length);
  if (rest.startsWith('^C')) rest = rest.slice(2);
  return rest === line || rest.trim() === '' ? undefined : rest;
}

/** The line without a note typed after it, or undefined when it has none. */
export function withoutTrailingNote(line: string): string | undefined {
  if (line.length > MAX_NOISY_LINE) return undefined;
  const m = NOTE.exec(line);
  if (m === null) return undefined;
  const kept = line.slice(0, m.index).trimEnd();
  return kept.trim() === '' ? undefined : kept;
}

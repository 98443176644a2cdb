// Problems in input are data, not exceptions: every parser returns values plus line-numbered issues.
import { promptOf, withoutLeadingNoise, withoutTrailingNote } from './paste-noise.js';

export interface ParseIssue {
  /** 1-based line number within the text given to the parser (callers map it to a file line). */
  readonly line: number;
  /** Stable kebab code: `conntrack.bad-tuple`, `ss.unknown-timer` … */
  readonly code: string;
  readonly message: string;
  /** The offending text, cut to 200 characters. */
  readonly text?: string;
  /** 'info' marks something worth saying that is not a parse failure (an unreadable sysctl key). */
  readonly severity?: 'info';
}

export interface ParseResult<T> {
  readonly value: T;
  readonly issues: ParseIssue[];
}

/** What a row parser says of one line. */
export type LineOutcome<T> =
  | { readonly kind: 'row'; readonly value: T }
  | { readonly kind: 'skip' }
  | { readonly kind: 'issue'; readonly code: string; readonly message: string };

export const SKIP: LineOutcome<never> = Object.freeze({ kind: 'skip' });

export function row<T>(value: T): LineOutcome<T> {
  return { kind: 'row', value };
}

export function lineIssue(code: string, message: string): LineOutcome<never> {
  return { kind: 'issue', code, message };
}

export function clip(text: string, max = 200): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/**
 * What a line that failed to parse is once the paste's noise is taken off: a shell prompt is
 * skipped, a time column or `^C` in front and a note after it are dropped and the rest parsed
 * again. The first outcome stands when none of that gives a row or a skip.
 */
export function recoverPasteLine<T>(
  line: string,
  first: LineOutcome<T>,
  parseLine: (line: string) => LineOutcome<T>,
): LineOutcome<T> {
  if (promptOf(line) !== undefined) return SKIP;
  let rest = line;
  const lead = withoutLeadingNoise(line);
  if (lead !== undefined) {
    const again = parseLine(lead);
    if (again.kind !== 'issue') return again;
    rest = lead;
  }
  const kept = withoutTrailingNote(rest);
  if (kept !== undefined) {
    const again = parseLine(kept);
    if (again.kind !== 'issue') return again;
  }
  return first;
}

/**
 * Runs a row parser over a whole text: one row or issue per line, blank lines skipped, CR LF line
 * ends and a paste's noise (recoverPasteLine) taken off the lines that fail as they are.
 */
export function parseRows<T>(
  text: string,
  parseLine: (line: string) => LineOutcome<T>,
): ParseResult<T[]> {
  const value: T[] = [];
  const issues: ParseIssue[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') continue;
    let out = parseLine(line);
    if (out.kind === 'issue') out = recoverPasteLine(line, out, parseLine);
    if (out.kind === 'row') value.push(out.value);
    else if (out.kind === 'issue')
      issues.push({ line: i + 1, code: out.code, message: out.message, text: clip(line) });
  }
  return { value, issues };
}

// Text for people: the change about to be made, the journal, revert results. Pure; every line
// fits 80 columns (long values are wrapped or cut with an ellipsis).
import type { Finding } from '../model/diagnosis.js';
import { changeSubject, showValue, type Plan } from './apply-change.js';
import { REVERT_NOTE, updateArgs } from './conntrack-update.js';
import type { JournalEntry } from './journal.js';
import { describeTarget, fromJournal } from './target.js';

export const WIDTH = 80;

/** Cuts a line to `width` columns with an ellipsis. */
export function cut(line: string, width: number = WIDTH): string {
  return line.length <= width ? line : `${line.slice(0, width - 1)}…`;
}

/** Wraps text at spaces; words longer than a line are cut. */
export function wrap(text: string, width: number, indent: string, firstPrefix: string): string[] {
  const out: string[] = [];
  let line = firstPrefix;
  let empty = true;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (!empty && line.length + 1 + word.length > width) {
      out.push(line);
      line = indent;
      empty = true;
    }
    line += (empty ? '' : ' ') + word;
    empty = false;
  }
  out.push(line);
  return out.map((l) => cut(l, width));
}

const LABEL = 9;
const field = (label: string, value: string): string => cut(`${label.padEnd(LABEL)}${value}`);
const pad = ' '.repeat(LABEL);

/** The change about to be made: key, where, old → new, what it fixes and why. */
export function formatPlan(
  plan: Plan,
  ctx: { suggestionTitle?: string; findings: readonly Finding[]; journalFile: string },
): string[] {
  const c = plan.change;
  const lines = [field('Change', changeSubject(c)), field('Where', describeTarget(plan.target))];
  if (plan.nsId !== undefined)
    lines.push(field('Identity', `${plan.nsId} (dev:inode of the network namespace)`));
  lines.push(
    field(
      'Value',
      `${showValue(c.old)} → ${showValue(c.new)}${plan.noop ? '  (already set)' : ''}`,
    ),
  );
  if (c.kind === 'conntrack-update') {
    lines.push(
      ...wrap(
        `each entry's tuple and remaining timeout are journaled first, then conntrack ${updateArgs(c).join(' ')} runs and the timers are read back; ${REVERT_NOTE}`,
        WIDTH,
        pad,
        'How'.padEnd(LABEL),
      ),
    );
  }
  if (ctx.suggestionTitle !== undefined)
    lines.push(...wrap(ctx.suggestionTitle, WIDTH, pad, 'For'.padEnd(LABEL)));
  ctx.findings.slice(0, 5).forEach((f, i) => {
    lines.push(field(i === 0 ? 'Fixes' : '', f.id));
    lines.push(...wrap(f.title, WIDTH, pad, pad));
  });
  if (plan.why.cause) lines.push(...wrap(plan.why.cause, WIDTH, pad, 'Why'.padEnd(LABEL)));
  if (plan.persist) {
    lines.push(field('Persist', plan.persist.path));
    lines.push(
      field(
        '',
        plan.persist.previous === null
          ? '(new file)'
          : '(replaces the existing file; its content is kept in the journal)',
      ),
    );
  }
  lines.push(field('Journal', ctx.journalFile));
  return lines;
}

function shortTime(iso: string): string {
  // 2025-06-01T12:00:03.123Z → 2025-06-01 12:00:03Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`;
}

/** The journal, newest first: three lines per entry. */
export function formatJournal(entries: readonly JournalEntry[]): string[] {
  if (entries.length === 0) return ['The journal is empty: kdiag has changed nothing here.'];
  const lines: string[] = [];
  for (const e of [...entries].sort((a, b) => b.id - a.id)) {
    const where = describeTarget(fromJournal(e.target, e.nsId));
    lines.push(
      cut(`#${String(e.id).padEnd(4)} ${e.state.padEnd(12)}${shortTime(e.when)}  ${where}`),
    );
    const observed = e.observed === undefined ? '' : ` (read back ${showValue(e.observed)})`;
    lines.push(
      cut(
        `      ${changeSubject(e.change)}: ${showValue(e.change.old)} → ${showValue(e.change.new)}${observed}`,
      ),
    );
    const why =
      e.why.via === 'suggestion'
        ? `${e.why.suggestion ?? '?'}: ${e.why.cause ?? ''}`
        : (e.why.cause ?? '');
    lines.push(cut(`      why: ${why}`));
    if (e.persist) lines.push(cut(`      file: ${e.persist.path}`));
    if (e.error && e.state === 'failed') lines.push(cut(`      error: ${e.error}`));
  }
  return lines;
}

/** Wraps one revert/apply message to 80 columns. */
export function formatMessage(message: string): string[] {
  return wrap(message, WIDTH, '  ', '');
}

// What an analysis read and what it could not see: one line per input, a ticket's sections, and the
// inputs that were missing with what each hides. A report with no findings must never read as
// "healthy" when it rests on little: these lines say what the findings rest on.
import type { AnalysisResult, InputRead } from '../../services/analyze-input.js';
import { wrap } from './text-layout.js';

/** `ss.txt: 3 sockets, 1 line skipped (ss.bad-line)` */
export function inputLine(i: InputRead): string {
  const skipped =
    i.skipped > 0
      ? `, ${i.skipped} line${i.skipped === 1 ? '' : 's'} skipped (${i.codes.join(', ') || 'unparseable'})`
      : '';
  const why = i.stderr !== undefined ? ` (${i.stderr.slice(0, 200)})` : '';
  return `${i.name}: ${i.read}${skipped}${why}`;
}

/** Lines for a ticket's sections: where each is, what it became, and the prose left out. */
export function ticketLines(r: AnalysisResult): string[] {
  const t = r.input.ticket;
  if (t === undefined) return [];
  const out = t.sections.map((s) =>
    s.file !== undefined ? `${s.label} → ${s.file}` : `${s.label} (not read: ${s.skipped ?? '?'})`,
  );
  const ranges = t.ignored.ranges.map((g) =>
    g.startLine === g.endLine ? `${g.startLine}` : `${g.startLine}–${g.endLine}`,
  );
  const shown = ranges.length > 6 ? `${ranges.slice(0, 6).join(', ')}, …` : ranges.join(', ');
  out.push(
    `${t.ignored.count} line${t.ignored.count === 1 ? '' : 's'} of prose ignored${ranges.length ? ` (lines ${shown})` : ''}`,
  );
  return out;
}

/** The "Read", ticket "Sections" and "Not seen" parts of the text report. */
export function renderInputs(r: AnalysisResult, width = 80): string[] {
  const out: string[] = [];
  const sections = ticketLines(r);
  if (sections.length > 0) {
    out.push('', 'Sections of the ticket');
    for (const l of sections) out.push(...wrap(l, width, 4, 2));
  }
  if (r.inputs.length > 0) {
    out.push('', 'Read');
    for (const i of r.inputs) out.push(...wrap(inputLine(i), width, 4, 2));
  }
  out.push(...renderNotSeen(r, width));
  return out;
}

/** Inputs that were missing and what the analysis cannot tell without them. */
export function renderNotSeen(r: AnalysisResult, width = 80): string[] {
  if (r.missing.length === 0) return [];
  const out = ['', 'Not seen (findings can only come from what was read)'];
  for (const m of r.missing) out.push(...wrap(`no ${m.input}: ${m.hides}`, width, 4, 2));
  return out;
}

/** Why nothing could be read, one line per input, for the error the CLI prints before exiting 2. */
export function nothingReadLines(r: AnalysisResult): string[] {
  const what = r.input.kind === 'live' ? 'the host' : r.input.path;
  const lines = [`kdiag: nothing could be read from ${what}`];
  for (const i of r.inputs) lines.push(`  ${inputLine(i)}`);
  for (const n of r.input.live?.notes ?? []) lines.push(`  ${n}`);
  return lines;
}

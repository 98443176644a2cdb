// A pasted ticket (one text file: command outputs, prompts and prose) as the bundle it stands for:
// each section splitPaste finds becomes the bundle file of its kind, its lines keeping their line
// numbers in the ticket, so the bundle reader and every parser see what a collected bundle gives.
import { splitPaste, type PasteSection, type PasteSplit } from '../parse/paste/sections.js';
import { BUNDLE_FILES, type MemoryFile } from '../record/bundle-reader.js';

/** A section of the ticket and the bundle file it was read as, or why it was not read. */
export interface TicketSection {
  readonly startLine: number;
  readonly endLine: number;
  readonly kind: string;
  readonly label: string;
  readonly count: number;
  readonly unit: string;
  readonly scope?: string;
  readonly command?: string;
  /** The bundle file it became (`ss@pid_31337.txt`). */
  readonly file?: string;
  /** Why it was not read (a later section of the same output replaced it; no reader for its kind). */
  readonly skipped?: string;
}

export interface TicketBundle {
  readonly files: ReadonlyMap<string, MemoryFile>;
  readonly sections: readonly TicketSection[];
  readonly ignored: PasteSplit['ignored'];
  readonly crlf: number;
  readonly cut: number;
  readonly truncated: boolean;
  /** `kernel.osrelease` from the node's own sysctl section, when the ticket has it. */
  readonly kernel?: string;
}

// Outputs read as a whole once (a table, a config): a second paste of the same one is a later view.
// Sysctl lines and conntrack events add up instead.
const ADDITIVE = new Set(['sysctl.txt', 'conntrack-E.txt']);

/** `pid 31337` → `pid_31337`, `netns kdiag-a` → `kdiag-a`, `pod web-0` → `pod_web-0`: a bundle file's scope. */
export function scopeLabel(scope: string): string {
  const s = scope.startsWith('netns ') ? scope.slice('netns '.length) : scope;
  return s.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64) || 'scope';
}

function fileOf(s: PasteSection): string {
  if (s.scope === undefined) return s.kind;
  const dot = s.kind.lastIndexOf('.');
  return `${s.kind.slice(0, dot)}@${scopeLabel(s.scope)}${s.kind.slice(dot)}`;
}

function linesOf(s: PasteSection): { no: number; text: string }[] {
  // `cat /proc/sys/net/…/x` printed the bare value: the sysctl -a form says whose value it is
  if (s.key !== undefined)
    return s.lines.map((l) => ({ no: l.no, text: `${s.key} = ${l.text.trim()}` }));
  return s.lines.map((l) => ({ no: l.no, text: l.text }));
}

/** Splits a ticket's text and lays its sections out as bundle files held in memory. */
export function ticketBundle(label: string, text: string): TicketBundle {
  const split = splitPaste(text);
  const files = new Map<string, { no: number; text: string }[]>();
  const owner = new Map<string, number>();
  const sections: TicketSection[] = split.sections.map((s) => ({
    startLine: s.startLine,
    endLine: s.endLine,
    kind: s.kind,
    label: s.label,
    count: s.count,
    unit: s.unit,
    ...(s.scope !== undefined ? { scope: s.scope } : {}),
    ...(s.command !== undefined ? { command: s.command.text } : {}),
  }));
  split.sections.forEach((s, i) => {
    if (BUNDLE_FILES[s.kind] === undefined) {
      sections[i] = {
        ...sections[i]!,
        skipped: `kdiag does not read ${s.kind.replace(/\.txt$/, '')} output`,
      };
      return;
    }
    const file = fileOf(s);
    const prev = owner.get(file);
    if (prev !== undefined && !ADDITIVE.has(s.kind)) {
      const p = sections[prev]!;
      const { file: _f, ...rest } = p;
      sections[prev] = {
        ...rest,
        skipped: `a later ${s.kind} (line ${s.startLine}) is read instead`,
      };
      files.set(file, []);
    }
    owner.set(file, i);
    sections[i] = { ...sections[i]!, file };
    files.set(file, [...(files.get(file) ?? []), ...linesOf(s)]);
  });
  const memory = new Map<string, MemoryFile>(
    [...files].map(([name, lines]) => [name, { label, lines }]),
  );
  const kernel = memory
    .get('sysctl.txt')
    ?.lines.map((l) => /^kernel\.osrelease\s*=\s*(\S{1,100})\s*$/.exec(l.text)?.[1])
    .find((k) => k !== undefined);
  return {
    files: memory,
    sections,
    ignored: split.ignored,
    crlf: split.crlf,
    cut: split.cut,
    truncated: split.truncated,
    ...(kernel !== undefined ? { kernel } : {}),
  };
}

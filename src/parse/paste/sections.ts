// Splits one pasted text (a support ticket: outputs of several commands, prompts, prose between
// them) into sections by the shape of their lines, and names each after the bundle file it stands
// for, so each section can go to the parser of that file. Pure and bounded: lines are cut at
// MAX_LINE characters and reading stops after MAX_LINES lines, both reported.
import { braceDelta } from '../nft-ruleset.js';
import {
  continues,
  kindOfCommand,
  procSysKey,
  scopeOfCommand,
  shapeOf,
  type PasteKind,
} from './line-shapes.js';

export type { PasteKind } from './line-shapes.js';

export const PASTE_MAX_LINE = 16384;
export const PASTE_MAX_LINES = 2_000_000;

/** One line of a section, with its line number in the paste and the time column it carried. */
export interface PasteLine {
  readonly no: number;
  readonly text: string;
  /** The leading `HH:MM:SS` (or ISO date-time) a `ts`/loop/watch added, removed from `text`. */
  readonly at?: string;
}

export interface PasteSection {
  readonly startLine: number;
  readonly endLine: number;
  readonly kind: PasteKind;
  /** `lines 3–40: conntrack -L, 38 entries` */
  readonly label: string;
  /** The prompt line that ran the command, when the paste has it. */
  readonly command?: { readonly line: number; readonly text: string };
  /** Where the command ran: `pid 31337` (nsenter), `netns NAME`, `pod NAME` (kubectl exec). */
  readonly scope?: string;
  /** For `cat /proc/sys/…`: the dotted key the bare value in `lines` belongs to. */
  readonly key?: string;
  /** Rows of the section's format: entries, events, sockets, services, keys, rules, chains, lines. */
  readonly count: number;
  readonly unit: string;
  /** The section's lines without blank ones; headers included (parsers expect them). */
  readonly lines: readonly PasteLine[];
  /** Lines of the section that carried a time column. */
  readonly timeColumn: number;
}

export interface PasteSplit {
  readonly sections: readonly PasteSection[];
  /** Prose and other lines no section took (blank lines not counted). */
  readonly ignored: {
    readonly count: number;
    readonly ranges: readonly { readonly startLine: number; readonly endLine: number }[];
  };
  /** Lines that ended in CR LF. */
  readonly crlf: number;
  /** Lines whose leading time column was removed. */
  readonly timeColumn: number;
  /** Lines cut at PASTE_MAX_LINE characters. */
  readonly cut: number;
  /** Reading stopped at PASTE_MAX_LINES lines. */
  readonly truncated: boolean;
}

const WHAT: Readonly<Record<PasteKind, readonly [string, string]>> = {
  'conntrack-L.txt': ['conntrack -L', 'entries'],
  'conntrack-E.txt': ['conntrack -E', 'events'],
  'nf_conntrack.txt': ['/proc/net/nf_conntrack', 'entries'],
  'conntrack-S.txt': ['conntrack -S', 'lines'],
  'stat_nf_conntrack.txt': ['/proc/net/stat/nf_conntrack', 'CPUs'],
  'ss.txt': ['ss', 'sockets'],
  'ipvsadm-Ln.txt': ['ipvsadm -Ln', 'services'],
  'ipvsadm-Lnc.txt': ['ipvsadm -Lnc', 'entries'],
  'ipvsadm-timeout.txt': ['ipvsadm --timeout', 'lines'],
  'ipvsadm-stats.txt': ['ipvsadm --stats', 'services'],
  'ip_vs_conn.txt': ['/proc/net/ip_vs_conn', 'entries'],
  'sysctl.txt': ['sysctl', 'keys'],
  'iptables-save.txt': ['iptables-save', 'rules'],
  'ip6tables-save.txt': ['ip6tables-save', 'rules'],
  'nft-ruleset.txt': ['nft list ruleset', 'chains'],
  'kube-proxy.yaml': ['kube-proxy configuration', 'lines'],
  'kube-proxy.args': ['kube-proxy command line', 'arguments'],
};

// `09:14:29 `, `09:14:29.123 `, `2026-06-24T19:48:36Z ` at the start of a line, followed by text.
const TIME_COLUMN =
  /^(\d\d:\d\d:\d\d(?:[.,]\d{1,9})?|\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?) +(?=\S)/;
const NFT_CHAIN = /^\s{0,16}chain \S/;

interface Open {
  kinds: readonly PasteKind[];
  lines: PasteLine[];
  rows: number;
  cpuRows: number;
  command?: { line: number; text: string; kind?: PasteKind; scope?: string };
  key?: string;
  depth: number;
}

interface Pending {
  readonly line: number;
  readonly text: string;
  readonly kind?: PasteKind;
  readonly scope?: string;
}

/** Splits a pasted text into named sections and counts what none of them took. */
export function splitPaste(text: string): PasteSplit {
  const sections: PasteSection[] = [];
  const ignoredRanges: { startLine: number; endLine: number }[] = [];
  let ignoredCount = 0;
  let crlf = 0;
  let timeColumn = 0;
  let cut = 0;
  let cur: Open | undefined;
  let pending: Pending | undefined;

  const ignore = (no: number): void => {
    ignoredCount++;
    const last = ignoredRanges[ignoredRanges.length - 1];
    if (last !== undefined && last.endLine === no - 1) last.endLine = no;
    else ignoredRanges.push({ startLine: no, endLine: no });
  };
  const close = (): void => {
    if (cur !== undefined && cur.lines.length > 0) sections.push(finish(cur));
    cur = undefined;
  };
  const open = (kinds: readonly PasteKind[]): Open => {
    close();
    const o: Open = { kinds, lines: [], rows: 0, cpuRows: 0, depth: 0 };
    if (pending !== undefined) {
      o.command = { line: pending.line, text: pending.text };
      if (pending.kind !== undefined) o.command.kind = pending.kind;
      if (pending.scope !== undefined) o.command.scope = pending.scope;
      if (pending.kind !== undefined && kinds.includes(pending.kind)) o.kinds = [pending.kind];
    }
    pending = undefined;
    cur = o;
    return o;
  };
  const add = (o: Open, line: PasteLine, row: boolean): void => {
    o.lines.push(line);
    if (row) o.rows++;
    if (line.text.startsWith('cpu=')) o.cpuRows++;
    if (line.at !== undefined) timeColumn++;
  };

  let start = 0;
  let no = 0;
  let truncated = false;
  while (start <= text.length) {
    if (no >= PASTE_MAX_LINES) {
      truncated = start < text.length;
      break;
    }
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    no++;
    let raw = text.slice(start, Math.min(end, start + PASTE_MAX_LINE + 1));
    start = end + 1;
    if (raw.endsWith('\r')) {
      raw = raw.slice(0, -1);
      crlf++;
    }
    if (raw.length > PASTE_MAX_LINE) {
      raw = raw.slice(0, PASTE_MAX_LINE);
      cut++;
    }
    if (end === text.length && raw === '') break;
    const tm = TIME_COLUMN.exec(raw);
    const line: PasteLine =
      tm === null ? { no, text: raw } : { no, text: raw.slice(tm[0].length), at: tm[1]! };
    const s = line.text;

    // nft's braces decide where its ruleset ends, whatever the lines inside look like
    if (cur?.kinds[0] === 'nft-ruleset.txt' && cur.depth > 0) {
      if (s.trim() !== '') add(cur, line, NFT_CHAIN.test(s));
      cur.depth = Math.max(0, Math.min(64, cur.depth + braceDelta(s)));
      continue;
    }

    const shape = shapeOf(s);
    if (shape.t === 'blank') continue;
    if (shape.t === 'fence') {
      close();
      ignore(no);
      continue;
    }
    if (shape.t === 'prompt') {
      close();
      const kind = kindOfCommand(shape.command);
      const scope = scopeOfCommand(shape.command);
      pending = {
        line: no,
        text: shape.command,
        ...(kind !== undefined ? { kind } : {}),
        ...(scope !== undefined ? { scope } : {}),
      };
      continue;
    }

    if (cur !== undefined) {
      if (shape.t === 'data' && shape.role !== 'start') {
        const both = cur.kinds.filter((k) => shape.kinds.includes(k));
        if (both.length > 0) {
          cur.kinds = both;
          add(cur, line, shape.role === 'row');
          continue;
        }
      }
      // a line of no known shape (or, once the kind is settled, of another shape) that the open
      // format still accepts: yaml keys, argv flags, ss info lines, damaged conntrack rows
      const role = continues(cur.kinds[0]!, s);
      if (role !== undefined && (cur.kinds.length === 1 || shape.t === 'prose')) {
        add(cur, line, role === 'row');
        continue;
      }
    }

    if (shape.t === 'data') {
      const o = open(shape.kinds);
      add(o, line, shape.role === 'row' || o.kinds[0] === 'kube-proxy.args');
      if (o.kinds[0] === 'nft-ruleset.txt') o.depth = Math.max(0, braceDelta(s));
      continue;
    }
    // prose: a bare value under `cat /proc/sys/…` is that key's value
    const key = pending?.kind === 'sysctl.txt' ? procSysKey(pending.text) : undefined;
    if (key !== undefined && s.length <= 4096) {
      const o = open(['sysctl.txt']);
      o.key = key;
      add(o, line, true);
      close();
      continue;
    }
    close();
    pending = undefined;
    ignore(no);
  }
  close();
  return {
    sections,
    ignored: { count: ignoredCount, ranges: ignoredRanges },
    crlf,
    timeColumn,
    cut,
    truncated,
  };
}

/** The kind a finished section gets: the command's when it fits, else what its lines say. */
function kindOf(o: Open): PasteKind {
  const kinds = o.kinds;
  if (o.command?.kind !== undefined && kinds.includes(o.command.kind)) return o.command.kind;
  if (kinds.includes('nf_conntrack.txt') && kinds.includes('conntrack-L.txt')) {
    // ct_seq_show always prints the l3 columns and zone= (with zones compiled in), never id=
    const entries = o.lines.filter((l) => l.text.includes('src='));
    const proc =
      entries.length > 0 &&
      entries.every(
        (l) => l.text.startsWith('ipv') && l.text.includes(' zone=') && !l.text.includes(' id='),
      );
    return proc ? 'nf_conntrack.txt' : 'conntrack-L.txt';
  }
  return kinds[0]!;
}

function finish(o: Open): PasteSection {
  const kind = kindOf(o);
  const first = o.lines[0]!;
  const last = o.lines[o.lines.length - 1]!;
  let count = o.rows;
  let unit = WHAT[kind][1];
  if (kind === 'kube-proxy.yaml') count = o.lines.length;
  if (kind === 'kube-proxy.args')
    count = o.lines.reduce((n, l) => n + l.text.split(' ').filter((w) => w !== '').length, 0);
  if (kind === 'conntrack-S.txt' && o.cpuRows > 0) {
    count = o.cpuRows;
    unit = 'CPUs';
  }
  if (count === 1) unit = unit.endsWith('ies') ? `${unit.slice(0, -3)}y` : unit.replace(/s$/, '');
  const scope = o.command?.scope;
  const what = o.command !== undefined ? clipCommand(o.command.text) : WHAT[kind][0];
  const range = first.no === last.no ? `line ${first.no}` : `lines ${first.no}–${last.no}`;
  const label = `${range}: ${what}${o.key !== undefined ? ` (${o.key})` : ''}, ${count} ${unit}`;
  return {
    startLine: first.no,
    endLine: last.no,
    kind,
    label,
    ...(o.command !== undefined ? { command: { line: o.command.line, text: o.command.text } } : {}),
    ...(scope !== undefined ? { scope } : {}),
    ...(o.key !== undefined ? { key: o.key } : {}),
    count,
    unit,
    lines: o.lines,
    timeColumn: o.lines.reduce((n, l) => n + (l.at !== undefined ? 1 : 0), 0),
  };
}

function clipCommand(command: string): string {
  return command.length <= 60 ? command : `${command.slice(0, 59)}…`;
}

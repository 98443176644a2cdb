// splitPaste on the ticket fixtures (fixtures/pastes/tickets/) and on the shapes a paste mixes.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  PASTE_MAX_LINE,
  splitPaste,
  type PasteSection,
} from '../../../src/parse/paste/sections.js';

const PASTES = fileURLToPath(new URL('../../../fixtures/pastes/', import.meta.url));
const TICKETS = join(PASTES, 'tickets');
const BUNDLES = fileURLToPath(new URL('../../../fixtures/bundles/', import.meta.url));

interface TicketExpected {
  readonly bundle: string;
  readonly lineCount: number;
  readonly crlf: number;
  readonly timeColumn: number;
  readonly ignored: number;
  readonly sections: readonly {
    startLine: number;
    endLine: number;
    kind: string;
    count: number;
    commandLine?: number;
    scope?: string;
    timeColumn?: number;
    /** The bundle file the section's text comes from (for the later check that the ticket is diagnosed like the bundle). */
    bundleFile: string;
  }[];
}

function shapeOf(s: PasteSection): Omit<TicketExpected['sections'][number], 'bundleFile'> {
  return {
    startLine: s.startLine,
    endLine: s.endLine,
    kind: s.kind,
    count: s.count,
    ...(s.command !== undefined ? { commandLine: s.command.line } : {}),
    ...(s.scope !== undefined ? { scope: s.scope } : {}),
    ...(s.timeColumn > 0 ? { timeColumn: s.timeColumn } : {}),
  };
}

describe('splitPaste on tickets', () => {
  const tickets = readdirSync(TICKETS).filter((f) => f.endsWith('.txt'));
  it('has at least two tickets', () => expect(tickets.length).toBeGreaterThanOrEqual(2));
  for (const file of tickets) {
    it(file, () => {
      const text = readFileSync(join(TICKETS, file), 'utf8');
      const exp = JSON.parse(
        readFileSync(join(TICKETS, file.replace(/\.txt$/, '.expected.json')), 'utf8'),
      ) as TicketExpected;
      const got = splitPaste(text);
      expect(got.sections.map(shapeOf)).toEqual(
        exp.sections.map(({ bundleFile: _, ...rest }) => rest),
      );
      expect(got.ignored.count).toBe(exp.ignored);
      expect(got.crlf).toBe(exp.crlf);
      expect(got.timeColumn).toBe(exp.timeColumn);
      expect(got.truncated).toBe(false);
      // every section line is the text of the paste at that line, without CR and time column
      const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
      for (const s of got.sections)
        for (const l of s.lines) expect(lines[l.no - 1]!.endsWith(l.text)).toBe(true);
      expect(new Set(got.sections.map((s) => s.kind)).size).toBeGreaterThanOrEqual(5);
    });
  }

  it('gives each section the text of its bundle file, so the ticket reads as the bundle does', () => {
    for (const file of tickets) {
      const exp = JSON.parse(
        readFileSync(join(TICKETS, file.replace(/\.txt$/, '.expected.json')), 'utf8'),
      ) as TicketExpected;
      const got = splitPaste(readFileSync(join(TICKETS, file), 'utf8'));
      got.sections.forEach((s, i) => {
        const want = readFileSync(join(BUNDLES, exp.bundle, exp.sections[i]!.bundleFile), 'utf8')
          .replace(/\n$/, '')
          .split('\n');
        // conntrack's summary goes to stderr, which a bundle file does not hold; ps prints argv on one line
        const text = s.lines.map((l) => l.text).filter((t) => !t.startsWith('conntrack v'));
        if (s.kind === 'kube-proxy.args') expect(text.join(' ').split(' ')).toEqual(want);
        else expect(text).toEqual(want);
      });
    }
  });

  it('labels a section with its command, range and count', () => {
    const got = splitPaste(readFileSync(join(TICKETS, 'keepalive-sysctl-trap.txt'), 'utf8'));
    expect(got.sections[0]!.label).toBe(
      "lines 9–12: conntrack -L -o extended,id -p tcp --dport 3306 | ts '%H:%M…, 3 entries",
    );
    expect(got.sections[2]!.label).toBe('line 22: ipvsadm -Ln --timeout, 1 line');
    expect(got.sections[0]!.lines[0]).toMatchObject({ no: 9, at: '19:48:36' });
    expect(got.sections[0]!.lines[0]!.text.startsWith('ipv4     2 tcp')).toBe(true);
  });
});

describe('splitPaste on shapes', () => {
  it('keeps damaged conntrack lines in their section and the prompt names it', () => {
    const got = splitPaste(readFileSync(join(PASTES, 'ct-list-damaged.txt'), 'utf8'));
    expect(got.sections).toHaveLength(1);
    expect(got.sections[0]).toMatchObject({
      kind: 'conntrack-L.txt',
      startLine: 2,
      endLine: 9,
      count: 6,
      command: { line: 1 },
    });
    expect(got.ignored.count).toBe(0);
  });

  it('tells /proc/net/nf_conntrack from conntrack -L by its lines when no command names it', () => {
    const proc = readFileSync(join(PASTES, 'proc-nf-conntrack.txt'), 'utf8')
      .split('\n')
      .slice(1)
      .join('\n');
    expect(splitPaste(proc).sections.map((s) => s.kind)).toEqual(['nf_conntrack.txt']);
    const list = readFileSync(join(PASTES, 'ct-list-extended.txt'), 'utf8');
    expect(splitPaste(list).sections.map((s) => s.kind)).toEqual(['conntrack-L.txt']);
  });

  it('reads events, both conntrack -S forms and ipvsadm outputs back to back', () => {
    const text = [
      'ct-events-timestamp',
      'ct-stats-percpu',
      'ct-stats-old-summary',
      'ipvsadm-Ln-note',
      'ipvsadm-Lnc-templates',
      'ipvsadm-stats',
      'ss-o-noheader',
    ]
      .map((n) => readFileSync(join(PASTES, `${n}.txt`), 'utf8'))
      .join('Next one:\n');
    const got = splitPaste(text);
    expect(got.sections.map((s) => [s.kind, s.count])).toEqual([
      ['conntrack-E.txt', 7],
      ['conntrack-S.txt', 2],
      ['conntrack-S.txt', 17],
      ['ipvsadm-Ln.txt', 2],
      ['ipvsadm-Lnc.txt', 4],
      ['ipvsadm-stats.txt', 1],
      ['ss.txt', 4],
    ]);
    expect(got.ignored.count).toBe(6);
  });

  it('ties a bare value to the /proc/sys path of its command', () => {
    const got = splitPaste(readFileSync(join(PASTES, 'sysctl-mixed.txt'), 'utf8'));
    expect(got.sections.map((s) => [s.kind, s.key ?? '', s.count])).toEqual([
      ['sysctl.txt', '', 3],
      ['sysctl.txt', '', 1],
      ['sysctl.txt', 'net.netfilter.nf_conntrack_max', 1],
      ['sysctl.txt', 'net.ipv4.vs.conntrack', 1],
      ['sysctl.txt', '', 2],
    ]);
  });

  it('follows an nft ruleset to its closing brace, blank lines and all', () => {
    const nft = readFileSync(join(PASTES, 'nft-kube-proxy.txt'), 'utf8');
    const got = splitPaste(`$ sudo nft list ruleset\n${nft}That is all.\n`);
    expect(got.sections).toHaveLength(1);
    expect(got.sections[0]).toMatchObject({ kind: 'nft-ruleset.txt', startLine: 2, count: 13 });
    expect(got.ignored).toEqual({
      count: 1,
      ranges: [
        { startLine: 2 + nft.split('\n').length - 1, endLine: 2 + nft.split('\n').length - 1 },
      ],
    });
  });

  it('names ip6tables-save apart from iptables-save', () => {
    const got = splitPaste(readFileSync(join(PASTES, 'ip6tables-save.txt'), 'utf8'));
    expect(got.sections.map((s) => [s.kind, s.count])).toEqual([['ip6tables-save.txt', 8]]);
  });

  it('counts prose as ignored ranges and keeps an iptables-save comment apart from a root prompt', () => {
    const got = splitPaste(
      'hello\nworld\n\n# ipvsadm -Ln --timeout\nTimeout (tcp tcpfin udp): 900 120 300\nbye\n',
    );
    expect(got.ignored).toEqual({
      count: 3,
      ranges: [
        { startLine: 1, endLine: 2 },
        { startLine: 6, endLine: 6 },
      ],
    });
    expect(got.sections[0]).toMatchObject({
      kind: 'ipvsadm-timeout.txt',
      command: { line: 4, text: 'ipvsadm -Ln --timeout' },
    });
  });

  it('cuts overlong lines and survives text that is all one line', () => {
    const long = `tcp      6 10 ESTABLISHED src=${'9'.repeat(PASTE_MAX_LINE * 2)}`;
    const got = splitPaste(`${long}\n${'a '.repeat(50_000)}\n`);
    expect(got.cut).toBe(2);
    expect(got.sections[0]!.lines[0]!.text).toHaveLength(PASTE_MAX_LINE);
    expect(got.ignored.count).toBe(1);
  });

  it('returns nothing for an empty paste', () => {
    expect(splitPaste('')).toEqual({
      sections: [],
      ignored: { count: 0, ranges: [] },
      crlf: 0,
      timeColumn: 0,
      cut: 0,
      truncated: false,
    });
  });
});

describe('prompts', () => {
  it('takes `> text` for a quote and `> conntrack -S` for a prompt', () => {
    const got = splitPaste('> we see resets\n> conntrack -S\ncpu=0   \tfound=0 invalid=3 \n');
    expect(got.ignored.count).toBe(1);
    expect(got.sections[0]).toMatchObject({
      kind: 'conntrack-S.txt',
      command: { line: 2, text: 'conntrack -S' },
      count: 1,
      unit: 'CPU',
    });
  });

  it('names the section from the command over the shape, and the netns from nsenter or ip netns exec', () => {
    const row =
      'ipv4     2 tcp      6 10 ESTABLISHED src=1.1.1.1 dst=2.2.2.2 sport=1 dport=2 src=2.2.2.2 dst=1.1.1.1 sport=2 dport=1 [ASSURED] mark=0 zone=0 use=2';
    const got = splitPaste(
      `$ sudo ip netns exec kdiag-a cat /proc/net/nf_conntrack\n${row}\n$ conntrack -L\n${row}\n`,
    );
    expect(got.sections.map((s) => [s.kind, s.scope ?? ''])).toEqual([
      ['nf_conntrack.txt', 'netns kdiag-a'],
      ['conntrack-L.txt', ''],
    ]);
  });
});

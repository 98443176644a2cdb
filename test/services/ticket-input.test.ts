// A pasted ticket is diagnosed like the bundle it stands for (fixtures/pastes/tickets/*.txt are
// made from fixtures/bundles/<name>), and the CLI shows its sections.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { AnalyzeOptions } from '../../src/analysis/analyze.js';
import { analyzeInput, type AnalysisResult } from '../../src/services/analyze-input.js';
import { scopeLabel, ticketBundle } from '../../src/services/ticket-bundle.js';

const TICKETS = fileURLToPath(new URL('../../fixtures/pastes/tickets/', import.meta.url));
const BUNDLES = fileURLToPath(new URL('../../fixtures/bundles/', import.meta.url));
const KDIAG = fileURLToPath(new URL('../../bin/kdiag.js', import.meta.url));
const run = promisify(execFile);

interface TicketExpected {
  readonly bundle: string;
  readonly ignored: number;
  readonly sections: readonly {
    readonly startLine: number;
    readonly endLine: number;
    readonly bundleFile: string;
  }[];
  readonly args: readonly string[];
  readonly findings: readonly { readonly rule: string; readonly flows: readonly string[] }[];
  readonly atRisk: readonly string[];
}

/** What must agree between a ticket and its bundle: the findings without their evidence (whose source ids name the scope as each input does). */
function shape(r: AnalysisResult): unknown {
  return {
    findings: r.diagnosis.findings.map((f) => ({
      rule: f.rule,
      fm: f.fm,
      severity: f.severity,
      confidence: f.confidence,
      flows: f.flows,
      suggestions: f.suggestions,
    })),
    predictions: r.diagnosis.predictions.map((p) => ({ flow: p.flow, layer: p.layer })),
    suggestions: r.diagnosis.suggestions.map((s) => s.id),
  };
}

function optionsOf(args: readonly string[]): AnalyzeOptions {
  return args[0] === '--cloud' ? { cloud: args[1] as AnalyzeOptions['cloud'] } : {};
}

const tickets = readdirSync(TICKETS)
  .filter((n) => n.endsWith('.txt'))
  .sort();

describe('a pasted ticket', () => {
  it('has ticket fixtures', () => {
    expect(tickets.length).toBeGreaterThanOrEqual(2);
  });

  for (const name of tickets) {
    const exp = JSON.parse(
      readFileSync(join(TICKETS, name.replace(/\.txt$/, '.expected.json')), 'utf8'),
    ) as TicketExpected;
    it(`${name} is diagnosed like fixtures/bundles/${exp.bundle}`, async () => {
      const opts = optionsOf(
        exp.args.length
          ? exp.args
          : ((
              JSON.parse(readFileSync(join(BUNDLES, exp.bundle, 'expected.json'), 'utf8')) as {
                args?: string[];
              }
            ).args ?? []),
      );
      const fromTicket = await analyzeInput(join(TICKETS, name), opts);
      const fromBundle = await analyzeInput(join(BUNDLES, exp.bundle), opts);
      expect(fromTicket.input.kind).toBe('ticket');
      expect(fromTicket.issues).toEqual([]);
      expect(fromBundle.diagnosis.findings.length).toBeGreaterThan(0);
      expect(shape(fromTicket)).toEqual(shape(fromBundle));
      expect(
        fromTicket.diagnosis.findings.map((f) => ({ rule: f.rule, flows: [...f.flows].sort() })),
      ).toEqual(
        expect.arrayContaining(
          exp.findings.map((f) => ({ rule: f.rule, flows: [...f.flows].sort() })),
        ),
      );
      expect(fromTicket.nothingRead).toBe(false);
      // every section became a file (the scope named as the ticket names it) with its line range
      const t = fromTicket.input.ticket!;
      expect(t.sections.map((s) => [s.startLine, s.endLine])).toEqual(
        exp.sections.map((s) => [s.startLine, s.endLine]),
      );
      expect(t.sections.every((s) => s.file !== undefined && s.skipped === undefined)).toBe(true);
      expect(t.ignored.count).toBe(exp.ignored);
      // parse evidence points at the ticket's own lines
      const ev = fromTicket.diagnosis.findings.flatMap((f) => f.evidence);
      expect(ev.length).toBeGreaterThan(0);
    });
  }

  it('--json carries the sections, text lists them and the prose ignored', async () => {
    const path = join(TICKETS, 'keepalive-sysctl-trap.txt');
    const json = await run('node', [KDIAG, 'check', path, '--json']).catch(
      (e: { stdout: string; code: number }) => e,
    );
    expect((json as { code?: number }).code).toBe(1);
    const out = JSON.parse((json as { stdout: string }).stdout) as {
      input: {
        kind: string;
        ticket: { sections: { label: string; file?: string }[]; ignored: { count: number } };
      };
    };
    expect(out.input.kind).toBe('ticket');
    expect(out.input.ticket.sections[1]).toMatchObject({
      label: 'lines 14–20: ipvsadm -Ln, 2 services',
      file: 'ipvsadm-Ln.txt',
    });
    expect(out.input.ticket.ignored.count).toBe(10);
    const text = await run('node', [KDIAG, 'replay', path]).catch((e: { stdout: string }) => e);
    const s = (text as { stdout: string }).stdout;
    expect(s).toContain('Sections of the ticket');
    expect(s).toContain('lines 32–38: nsenter -t 31337 -n ss -tinoe, 3 sockets → ss@pid_31337.txt');
    expect(s).toContain('10 lines of prose ignored (lines 1, 3–6, 30, 44, 227–229)');
    expect(s).toContain('ss@pid_31337.txt: 3 sockets');
  });

  it('names scopes as a bundle file does', () => {
    expect(scopeLabel('pid 31337')).toBe('pid_31337');
    expect(scopeLabel('netns kdiag-a')).toBe('kdiag-a');
    expect(scopeLabel('pod web-0')).toBe('pod_web-0');
  });

  it('reads a later paste of the same table instead of the earlier, and adds up sysctl sections', () => {
    const text = [
      '$ conntrack -L',
      'tcp      6 100 ESTABLISHED src=10.0.0.1 dst=10.0.0.2 sport=1 dport=80 src=10.0.0.2 dst=10.0.0.1 sport=80 dport=1 [ASSURED] mark=0 use=1',
      'and again:',
      '$ conntrack -L',
      'tcp      6 90 ESTABLISHED src=10.0.0.1 dst=10.0.0.2 sport=1 dport=80 src=10.0.0.2 dst=10.0.0.1 sport=80 dport=1 [ASSURED] mark=0 use=1',
      '$ cat /proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established',
      '600',
      '$ sysctl net.ipv4.tcp_keepalive_time',
      'net.ipv4.tcp_keepalive_time = 300',
    ].join('\n');
    const t = ticketBundle('t.txt', text);
    expect(t.sections.map((s) => [s.kind, s.file ?? `skipped: ${s.skipped}`])).toEqual([
      ['conntrack-L.txt', 'skipped: a later conntrack-L.txt (line 5) is read instead'],
      ['conntrack-L.txt', 'conntrack-L.txt'],
      ['sysctl.txt', 'sysctl.txt'],
      ['sysctl.txt', 'sysctl.txt'],
    ]);
    expect(t.files.get('conntrack-L.txt')!.lines.map((l) => l.no)).toEqual([5]);
    expect(t.files.get('sysctl.txt')!.lines).toEqual([
      { no: 7, text: 'net.netfilter.nf_conntrack_tcp_timeout_established = 600' },
      { no: 9, text: 'net.ipv4.tcp_keepalive_time = 300' },
    ]);
  });
});

describe('a text file with nothing kdiag reads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kdiag-ticket-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is exit 2 with the reason, never a healthy report', async () => {
    const prose = join(dir, 'prose.txt');
    writeFileSync(prose, 'Hi,\nour connections drop after 15 minutes.\nThanks\n');
    for (const cmd of ['check', 'replay']) {
      const r = (await run('node', [KDIAG, cmd, prose]).catch((e: unknown) => e)) as {
        code: number;
        stdout: string;
        stderr: string;
      };
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(
        'no command output kdiag reads in this ticket (3 lines of prose ignored',
      );
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('an empty file is exit 2 too', async () => {
    const empty = join(dir, 'empty.txt');
    writeFileSync(empty, '');
    const r = (await run('node', [KDIAG, 'check', empty]).catch((e: unknown) => e)) as {
      code: number;
      stderr: string;
    };
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no command output kdiag reads');
  });
});

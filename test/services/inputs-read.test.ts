// What was read, what was skipped and why, what was not seen: the lines that keep "healthy" and
// "unreadable" apart.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { inputLine, renderInputs } from '../../src/cli/output/report-inputs.js';
import { renderAnalysis } from '../../src/cli/output/report-text.js';
import type { LocatedRecord } from '../../src/engine/raw-record.js';
import { missingInputs, SummaryCollector } from '../../src/engine/summary.js';
import { analyzeInput, analyzeRecords } from '../../src/services/analyze-input.js';

const BUNDLES = fileURLToPath(new URL('../../fixtures/bundles/', import.meta.url));
const KDIAG = fileURLToPath(new URL('../../bin/kdiag.js', import.meta.url));
const run = promisify(execFile);

// a header and one socket (with its info line) from a fixture bundle
const SS_OK = readFileSync(
  join(BUNDLES, 'aws-nlb-350', 'ss@pod_partners_sync-agent-59d7c6b8f-w4x9p.txt'),
  'utf8',
)
  .split('\n')
  .slice(0, 3)
  .join('\n');

describe('missing inputs (pure)', () => {
  it('names all six when nothing was read', () => {
    const m = missingInputs(new SummaryCollector().result(), { counts: {}, framed: new Set() });
    expect(m.map((x) => x.input)).toEqual([
      'sockets (ss)',
      'conntrack table (conntrack -L or /proc/net/nf_conntrack)',
      'sysctls (sysctl -a)',
      'kube-proxy config',
      'conntrack events or probes (kdiag trace)',
    ]);
    expect(m.find((x) => x.input === 'sockets (ss)')!.hides).toMatch(/^keepalive unknown/);
    expect(m.find((x) => x.input === 'sysctls (sysctl -a)')!.hides).toBe(
      'timeouts are kernel defaults (not read)',
    );
  });

  it('asks for ipvsadm only in IPVS mode', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kdiag-ipvs-'));
    try {
      cpSync(join(BUNDLES, 'keepalive-sysctl-trap'), dir, { recursive: true });
      for (const f of ['ipvsadm-timeout.txt', 'ipvsadm-Lnc.txt', 'ipvsadm-Ln.txt'])
        rmSync(join(dir, f));
      const r = await analyzeInput(dir);
      expect(r.missing.map((x) => x.input)).toEqual([
        'ipvsadm -Ln --timeout, ipvsadm -Lnc, ipvsadm -Ln (IPVS mode)',
        'conntrack events or probes (kdiag trace)',
      ]);
      const iptables = await analyzeInput(join(BUNDLES, 'healthy-iptables'));
      expect(iptables.missing.map((x) => x.input)).toEqual([
        'conntrack events or probes (kdiag trace)',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a report of what was read', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'kdiag-read-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('says per file what was read and which lines were skipped, with their codes', async () => {
    const dir = join(tmp, 'one-bad');
    mkdirSync(dir);
    writeFileSync(join(dir, 'ss.txt'), `${SS_OK}\nESTAB zero 0 nonsense here\n`);
    const r = await analyzeInput(dir);
    expect(r.inputs.map(inputLine)).toEqual([
      `ss.txt: 1 socket, 1 line skipped (${r.issues[0]!.code})`,
    ]);
    expect(r.issues[0]!.code).toMatch(/^ss\./);
    expect(r.nothingRead).toBe(false);
    const text = renderAnalysis(r, { title: 't' });
    expect(text).toContain('\nRead\n  ss.txt: 1 socket, 1 line skipped');
    expect(text).toContain(
      '\nNot seen (findings can only come from what was read)\n  no conntrack table',
    );
    expect(text).toContain('  no sysctls (sysctl -a): timeouts are kernel defaults (not read)');
    expect(text).toContain('\nFindings: none in what was read\n');
  });

  it('a healthy bundle with every input but events still says "none in what was read"', async () => {
    const r = await analyzeInput(join(BUNDLES, 'healthy-iptables'));
    expect(r.diagnosis.findings).toEqual([]);
    expect(renderAnalysis(r, { title: 't' })).toContain('Findings: none in what was read');
    // and nothing missing: plain "none"
    expect(renderInputs({ ...r, missing: [] }).join('\n')).not.toContain('Not seen');
  });

  it('a bundle whose files hold nothing recognised is exit 2 with the reasons, not a healthy report', async () => {
    const dir = join(tmp, 'garbage');
    mkdirSync(dir);
    writeFileSync(join(dir, 'ss.txt'), 'this is not ss output\n');
    writeFileSync(join(dir, 'conntrack-L.txt'), '');
    const r = await analyzeInput(dir);
    expect(r.nothingRead).toBe(true);
    expect(r.inputs.map(inputLine)).toEqual([
      'conntrack-L.txt: empty',
      expect.stringMatching(/^ss\.txt: nothing recognised, 1 line skipped \(ss\.[a-z-]+\)$/),
    ]);
    for (const args of [
      ['check', dir],
      ['replay', dir],
      ['check', dir, '--json'],
    ]) {
      const res = (await run('node', [KDIAG, ...args]).catch((e: unknown) => e)) as {
        code: number;
        stderr: string;
      };
      expect(res.code, args.join(' ')).toBe(2);
      expect(res.stderr).toContain(
        `kdiag: nothing could be read from ${dir}\n  conntrack-L.txt: empty\n  ss.txt: nothing recognised, 1 line skipped`,
      );
    }
  });

  it('a live check where every source failed reads nothing (exit 2 in the CLI)', async () => {
    const recs: LocatedRecord[] = [
      {
        rec: { t: 1, src: 'conntrack:list', line: 'conntrack -L', k: 'begin' },
        file: 'conntrack:list',
        line: 1,
      },
      {
        rec: { t: 1, src: 'conntrack:list', line: 'conntrack: command not found', k: 'err' },
        file: 'conntrack:list',
        line: 2,
      },
      {
        rec: { t: 1, src: 'ss:sockets', line: "ss: can't open netlink socket", k: 'err' },
        file: 'ss:sockets',
        line: 3,
      },
    ];
    const r = await analyzeRecords({
      info: {
        kind: 'live',
        path: 'host',
        live: { hostname: 'h', kernel: '6.1.0', notes: ['ipvsadm not installed'] },
      },
      records: (async function* () {
        yield* recs;
      })(),
      notices: [],
    });
    expect(r.nothingRead).toBe(true);
    expect(r.inputs.map(inputLine)).toEqual([
      'conntrack:list: nothing recognised (conntrack: command not found)',
      "ss:sockets: nothing recognised (ss: can't open netlink socket)",
    ]);
  });

  it('a live check with nothing at all is nothing read too', async () => {
    const r = await analyzeRecords({
      info: { kind: 'live', path: 'host' },
      records: (async function* () {})(),
      notices: [],
    });
    expect(r.nothingRead).toBe(true);
    expect(r.missing.length).toBe(5);
  });
});

// conntrack.old-deadline (issue 19 item 4) and conntrack.flow-forgotten (item 5), on copies of the
// healthy-iptables bundle with one thing changed: the table they read is real-format text.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { analyze } from '../../src/analysis/analyze.js';
import { analyzeInput } from '../../src/services/analyze-input.js';
import { ct, ctSnapshot, obs, tableOf } from '../helpers/builders.js';

const HEALTHY = fileURLToPath(new URL('../../fixtures/bundles/healthy-iptables/', import.meta.url));
const EST = 'net.netfilter.nf_conntrack_tcp_timeout_established';
const dirs: string[] = [];

/** A copy of healthy-iptables with files edited. */
function variant(edit: Record<string, (text: string) => string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kdiag-dl-unit-'));
  dirs.push(dir);
  cpSync(HEALTHY, dir, { recursive: true });
  rmSync(join(dir, 'expected.json'));
  for (const [f, fn] of Object.entries(edit))
    writeFileSync(join(dir, f), fn(readFileSync(join(dir, f), 'utf8')));
  return dir;
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('conntrack.old-deadline', () => {
  it('the healthy bundle holds no entry on an older deadline', async () => {
    const r = await analyzeInput(variant({}), {});
    expect(r.diagnosis.findings.filter((f) => f.rule === 'conntrack.old-deadline')).toEqual([]);
  });

  it('entries above a lowered ESTABLISHED timeout: counted, with when they expire and conntrack -U -f ipv4', async () => {
    const dir = variant({ 'sysctl.txt': (t) => t.replace(`${EST} = 86400`, `${EST} = 3600`) });
    const r = await analyzeInput(dir, {});
    const f = r.diagnosis.findings.filter((x) => x.rule === 'conntrack.old-deadline');
    expect(f).toHaveLength(1);
    expect(f[0]!.flows).toHaveLength(3);
    expect(f[0]!.cause).toContain('3 ESTABLISHED conntrack entries in the host still count down');
    expect(f[0]!.cause).toMatch(/expire between .* and .* from now/);
    const s = r.diagnosis.suggestions.find((x) => x.id === 'conntrack-update-established');
    expect(s?.commands[0]?.text).toBe(
      'conntrack -U -f ipv4 -p tcp --state ESTABLISHED --timeout 3600',
    );
    expect(s?.commands[1]?.text).toMatch(
      /^conntrack -U -p tcp -s 10\.244\.1\.9 -d 10\.96\.\S+ --sport \d+ --dport \d+ --timeout 3600$/,
    );
    expect(s?.change).toEqual({
      kind: 'conntrack-update',
      family: 'ipv4',
      state: 'ESTABLISHED',
      timeoutSec: 3600,
    });
    // The sysctl already holds 3600: nothing asks to set it to the value in force (kube-proxy.drift
    // may still ask for kube-proxy's 86400).
    const sets = r.diagnosis.suggestions.flatMap((x) =>
      x.change?.kind === 'sysctl' && x.change.key === EST ? [x.change.value] : [],
    );
    expect(sets).not.toContain('3600');
  });
});

describe('conntrack.flow-forgotten', () => {
  const dropFirstEntry = (t: string) =>
    t
      .split('\n')
      .filter((l) => !l.includes('sport=47210 dport=80 '))
      .join('\n');

  it('an ESTAB socket to a Service VIP whose entry is missing from the table read', async () => {
    const r = await analyzeInput(variant({ 'conntrack-L.txt': dropFirstEntry }), {});
    const f = r.diagnosis.findings.filter((x) => x.rule === 'conntrack.flow-forgotten');
    expect(f.map((x) => x.flows)).toEqual([['tcp 10.244.1.9:47210>10.96.45.12:80']]);
    expect(f[0]!.cause).toContain('net.netfilter.nf_conntrack_tcp_loose = 1 (read)');
    expect(f[0]!.cause).toContain("DNAT'ed again by the Service rules, maybe to another backend");
  });

  it('tcp_loose=0: dropped as INVALID; not read: says so', async () => {
    const zero = await analyzeInput(
      variant({
        'conntrack-L.txt': dropFirstEntry,
        'sysctl.txt': (t) => t.replace('nf_conntrack_tcp_loose = 1', 'nf_conntrack_tcp_loose = 0'),
      }),
      {},
    );
    expect(
      zero.diagnosis.findings.find((x) => x.rule === 'conntrack.flow-forgotten')?.cause,
    ).toContain('INVALID and dropped');
    const unread = await analyzeInput(
      variant({
        'conntrack-L.txt': dropFirstEntry,
        'sysctl.txt': (t) =>
          t
            .split('\n')
            .filter((l) => !l.includes('tcp_loose'))
            .join('\n'),
      }),
      {},
    );
    expect(
      unread.diagnosis.findings.find((x) => x.rule === 'conntrack.flow-forgotten')?.cause,
    ).toContain('not read (the kernel default 1 assumed)');
  });

  it('no finding when the conntrack table was not read', async () => {
    const dir = variant({});
    rmSync(join(dir, 'conntrack-L.txt'));
    const r = await analyzeInput(dir, {});
    expect(r.diagnosis.findings.filter((x) => x.rule === 'conntrack.flow-forgotten')).toEqual([]);
  });
});

describe('conntrack.old-deadline with a change seen in the recording', () => {
  const T0 = 1_700_000_000_000;
  const C = '10.0.0.1:40000>10.96.0.10:80';
  const R = '10.0.0.2:8080>10.0.0.1:40000';

  it('a raised timeout: an entry last refreshed before the change still dies at its old deadline', () => {
    const t = tableOf([
      obs.sysctls(T0, { [EST]: '600' }),
      ...ctSnapshot(T0, [ct(C, R, { timeout: 500 })]),
      obs.sysctls(T0 + 10_000, { [EST]: '7200' }),
      // 20 s after the change the entry shows 480 s: a packet since the change would have left ~7180.
      ...ctSnapshot(T0 + 20_000, [ct(C, R, { timeout: 480 })]),
    ]);
    const f = analyze(t)
      .drafts.map((d) => d.finding)
      .filter((x) => x.rule === 'conntrack.old-deadline');
    expect(f).toHaveLength(1);
    expect(f[0]!.severity).toBe('warning');
    expect(f[0]!.cause).toContain('it was 600 s (10 min) before the change kdiag saw');
    expect(f[0]!.cause).toContain('sooner than the new timeout promises');
  });

  it('an entry refreshed after the change is not reported', () => {
    const t = tableOf([
      obs.sysctls(T0, { [EST]: '600' }),
      ...ctSnapshot(T0, [ct(C, R, { timeout: 500 })]),
      obs.sysctls(T0 + 10_000, { [EST]: '7200' }),
      ...ctSnapshot(T0 + 20_000, [ct(C, R, { timeout: 7195 })]),
    ]);
    expect(analyze(t).drafts.filter((d) => d.finding.rule === 'conntrack.old-deadline')).toEqual(
      [],
    );
  });
});

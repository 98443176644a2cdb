import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ipvsSources, ipvsUnavailable } from '../../src/sources/ipvsadm-source.js';
import { isValidNetnsName, netnsProblem } from '../../src/host/netns.js';
import type { RawRecord } from '../../src/engine/raw-record.js';

describe('IPVS sources', () => {
  it('names the exact commands', async () => {
    const s = await ipvsSources({ netns: 'kdiag-x' });
    expect(s.services.argv).toEqual(['ipvsadm', '-Ln']);
    expect(s.conns.argv).toEqual(['ipvsadm', '-Lnc']);
    expect(s.timeout.argv).toEqual(['ipvsadm', '-Ln', '--timeout']);
    expect(s.stats.argv).toEqual(['ipvsadm', '-Ln', '--stats', '--exact']);
    expect(s.services.id).toBe('ipvsadm:services@kdiag-x');
    expect((await ipvsSources({ connsFromProcfs: true })).conns.id).toBe('procfs:ip_vs_conn');
  });

  it('says whether /proc/net/ip_vs exists', async () => {
    expect(await ipvsUnavailable('/proc/net/kdiag-no-ip_vs')).toMatch(/missing/);
    expect((await ipvsUnavailable()) === undefined).toBe(existsSync('/proc/net/ip_vs'));
  });

  it.skipIf(existsSync('/proc/net/ip_vs'))(
    'is skipped cleanly without IPVS: one err record, exit 127, never running ipvsadm',
    async () => {
      const s = await ipvsSources({ clock: () => 1 });
      expect(s.unavailable).toBe('IPVS is not loaded: /proc/net/ip_vs missing');
      const recs: RawRecord[] = [];
      for await (const r of s.timeout.records(new AbortController().signal)) recs.push(r);
      expect(recs).toEqual([
        { t: 1, src: 'ipvsadm:timeout', line: 'ipvsadm -Ln --timeout', k: 'begin' },
        {
          t: 1,
          src: 'ipvsadm:timeout',
          line: 'IPVS is not loaded: /proc/net/ip_vs missing',
          k: 'err',
        },
        { t: 1, src: 'ipvsadm:timeout', line: 'exit 127', k: 'end' },
      ]);
      expect(s.timeout.status.state).toBe('unavailable');
    },
  );
});

describe('named netns checks', () => {
  it('validates names and reports a missing namespace', async () => {
    expect(isValidNetnsName('kdiag-a')).toBe(true);
    expect(isValidNetnsName('../etc')).toBe(false);
    expect(isValidNetnsName('')).toBe(false);
    expect(await netnsProblem('kdiag-surely-absent-ns')).toMatch(/no network namespace/);
    expect(await netnsProblem('a/b')).toMatch(/invalid/);
  });
});

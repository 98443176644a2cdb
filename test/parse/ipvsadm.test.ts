import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseIpvsConnLine, parseIpvsConns } from '../../src/parse/ipvsadm-conns.js';
import { parseIpvsEndpoint, parseIpvsServices } from '../../src/parse/ipvsadm-services.js';
import { parseIpvsCount, parseIpvsStats } from '../../src/parse/ipvsadm-stats.js';
import { parseIpvsTimeout } from '../../src/parse/ipvsadm-timeout.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../fixtures/tools/ipvsadm/${name}`, import.meta.url), 'utf8');
const codes = (issues: { line: number; code: string }[]): string[] =>
  issues.map((i) => `${i.line}:${i.code}`);

describe('parseIpvsServices', () => {
  it('reads services, persistence, empty and weight-0 backends, IPv6 and FWM from -Ln', () => {
    const { value, issues } = parseIpvsServices(fixture('Ln.txt'));
    expect(issues).toEqual([]);
    expect(value).toHaveLength(9);
    expect(value[0]).toEqual({
      proto: 'TCP',
      addr: '10.96.0.1',
      port: 443,
      scheduler: 'rr',
      flags: [],
      realServers: [
        { addr: '172.18.0.2', port: 6443, forward: 'Masq', weight: 1, activeConn: 3, inactConn: 0 },
      ],
    });
    expect(value[2]).toMatchObject({ addr: '10.96.0.20', port: 80, persistent: 10800 });
    expect(value[3]).toMatchObject({ addr: '10.96.0.30', port: 80, realServers: [] });
    expect(value[4]!.scheduler).toBe('wrr');
    expect(value[4]!.realServers.map((r) => r.weight)).toEqual([0, 1]);
    expect(value[6]).toMatchObject({ addr: 'fd00:10:96::1', port: 443 });
    expect(value[6]!.realServers[0]).toMatchObject({ addr: 'fd00:10:244:1::7', port: 6443 });
    expect(value[7]).toMatchObject({ proto: 'UDP', port: 53 });
    expect(value[7]!.realServers.map((r) => r.inactConn)).toEqual([12, 11]);
    expect(value[8]).toMatchObject({
      proto: 'FWM',
      fwmark: 100,
      scheduler: 'sh',
      flags: ['sh-fallback', 'sh-port'],
    });
    expect(value[8]!.realServers[0]).toMatchObject({ forward: 'Route', port: 0 });
  });

  it('returns no services for headers only', () => {
    expect(parseIpvsServices(fixture('Ln-empty.txt'))).toEqual({ value: [], issues: [] });
  });

  it('reports bad rows with line numbers and keeps the good ones', () => {
    const { value, issues } = parseIpvsServices(fixture('Ln-malformed.txt'));
    expect(codes(issues)).toEqual([
      '5:ipvsadm.bad-real-server',
      '6:ipvsadm.bad-address',
      '7:ipvsadm.orphan-real-server',
      '8:ipvsadm.bad-row',
      '9:ipvsadm.bad-persistent',
    ]);
    expect(value).toHaveLength(1);
    expect(value[0]).toMatchObject({ addr: '10.96.0.1', realServers: [] });
  });

  it('reads endpoints and refuses malformed ones', () => {
    expect(parseIpvsEndpoint('10.0.0.1:80')).toEqual({ addr: '10.0.0.1', port: 80 });
    expect(parseIpvsEndpoint('[FD00:0:0::1]:80')).toEqual({ addr: 'fd00::1', port: 80 });
    for (const bad of [
      '10.0.0.1',
      '10.0.0.256:80',
      '10.0.0.1:65536',
      '[fd00::1:80',
      'host:80',
      '[zz::1]:80',
    ]) {
      expect(parseIpvsEndpoint(bad)).toBeUndefined();
    }
  });
});

describe('parseIpvsConns', () => {
  it('reads ipvsadm -Lnc rows with mm:ss expiry beyond 99 minutes and templates', () => {
    const { value, issues } = parseIpvsConns(fixture('Lnc.txt'));
    expect(issues).toEqual([]);
    expect(value.map((c) => [c.proto, c.state, c.expiresSec, c.template])).toEqual([
      ['TCP', 'ESTABLISHED', 897, false],
      ['TCP', 'FIN_WAIT', 112, false],
      ['TCP', 'TIME_WAIT', 7, false],
      ['UDP', 'UDP', 291, false],
      ['TCP', 'NONE', 10799, true],
      ['TCP', 'ESTABLISHED', 10799, false],
      ['TCP', 'ESTABLISHED', 899, false],
    ]);
    expect(value[0]).toMatchObject({
      client: { addr: '10.244.1.7', port: 53124 },
      virtual: { addr: '10.96.0.1', port: 443 },
      dest: { addr: '172.18.0.2', port: 6443 },
    });
    expect(value[6]!.client).toEqual({ addr: 'fd00:10:244:2::5', port: 51000 });
  });

  it('reads /proc/net/ip_vs_conn hex rows and full-form IPv6 rows the same way', () => {
    const { value, issues } = parseIpvsConns(fixture('proc-ip_vs_conn.txt'));
    expect(issues).toEqual([]);
    const lnc = parseIpvsConns(fixture('Lnc.txt')).value;
    expect(value[0]).toEqual(lnc[0]);
    expect(value[1]).toEqual(lnc[1]);
    expect(value[2]).toEqual(lnc[3]);
    expect(value[3]).toEqual(lnc[4]);
    expect(value[4]).toEqual(lnc[6]);
  });

  it('reports malformed rows of both forms', () => {
    expect(codes(parseIpvsConns(fixture('Lnc-malformed.txt')).issues)).toEqual([
      '4:ipvsadm.bad-expire',
      '5:ipvsadm.bad-address',
      '6:ipvsadm.bad-conn',
      '7:ipvsadm.bad-conn',
    ]);
    const proc = parseIpvsConns(fixture('proc-ip_vs_conn-malformed.txt'));
    expect(proc.value).toHaveLength(1);
    expect(codes(proc.issues)).toEqual([
      '3:ipvsadm.bad-address',
      '4:ipvsadm.bad-expire',
      '5:ipvsadm.bad-conn',
    ]);
  });

  it('skips headers line by line', () => {
    expect(parseIpvsConnLine('IPVS connection entries')).toEqual({ kind: 'skip' });
    expect(
      parseIpvsConnLine(
        'Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData',
      ).kind,
    ).toBe('skip');
  });
});

describe('parseIpvsTimeout', () => {
  it.each([
    ['timeout-default.txt', { tcp: 900, tcpfin: 120, udp: 300 }],
    ['timeout-kube-proxy.txt', { tcp: 7200, tcpfin: 30, udp: 300 }],
  ])('reads %s', (name, expected) => {
    expect(parseIpvsTimeout(fixture(name))).toEqual({ value: expected, issues: [] });
  });

  it('reports a short line and foreign text, and null when nothing is found', () => {
    const r = parseIpvsTimeout(fixture('timeout-malformed.txt'));
    expect(r.value).toBeNull();
    expect(codes(r.issues)).toEqual(['1:ipvsadm.bad-timeout', '2:ipvsadm.bad-row']);
    expect(codes(parseIpvsTimeout('').issues)).toEqual(['1:ipvsadm.no-timeout']);
  });
});

describe('parseIpvsStats', () => {
  it('expands K/M/G/T suffixes as lower bounds', () => {
    const { value, issues } = parseIpvsStats(fixture('stats.txt'));
    expect(issues).toEqual([]);
    expect(value).toHaveLength(7);
    expect(value[0]).toEqual({
      kind: 'service',
      proto: 'TCP',
      addr: '10.96.0.1',
      port: 443,
      conns: 1234,
      inPkts: 987_654_000,
      outPkts: 876_543_000,
      inBytes: 123e9,
      outBytes: 98_765e9,
    });
    expect(value[1]).toMatchObject({
      kind: 'real-server',
      proto: 'TCP',
      addr: '172.18.0.2',
      port: 6443,
    });
    expect(value[3]).toMatchObject({
      inPkts: 99_999_999,
      outPkts: 100_000_000,
      inBytes: 3456e12,
      outBytes: 7,
    });
    expect(value[5]).toMatchObject({
      kind: 'service',
      proto: 'FWM',
      addr: '100',
      port: 0,
      conns: 3,
    });
  });

  it('reads --exact integers', () => {
    const { value, issues } = parseIpvsStats(fixture('stats-exact.txt'));
    expect(issues).toEqual([]);
    expect(value[0]).toMatchObject({
      inPkts: 987_654_321,
      inBytes: 123_456_789_012,
      outBytes: 98_765_432_109_876,
    });
    expect(value[3]!.inBytes).toBe(3_456_789_012_345_678);
  });

  it('reports malformed rows and orphans their real servers', () => {
    const r = parseIpvsStats(fixture('stats-malformed.txt'));
    expect(codes(r.issues)).toEqual([
      '4:ipvsadm.bad-stats',
      '5:ipvsadm.orphan-real-server',
      '7:ipvsadm.bad-stats',
    ]);
    expect(parseIpvsCount('12Q')).toBeUndefined();
    expect(parseIpvsCount('5M')).toBe(5e6);
  });

  it('refuses --rate output', () => {
    const rate = 'Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n';
    expect(codes(parseIpvsStats(rate).issues)).toEqual(['1:ipvsadm.rate-not-stats']);
  });
});

describe('ipvsadm parsers on garbage', () => {
  const garbage = [
    '\0\0\0',
    'TCP',
    'TCP  [',
    '  ->',
    'FWM',
    'x'.repeat(100_000),
    'TCP 99:99 A B C D',
    '\n\n\r\n',
    '->  -> ->',
  ];
  it.each(garbage)('never throw (%#)', (text) => {
    expect(() => parseIpvsServices(text)).not.toThrow();
    expect(() => parseIpvsConns(text)).not.toThrow();
    expect(() => parseIpvsTimeout(text)).not.toThrow();
    expect(() => parseIpvsStats(text)).not.toThrow();
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  parseSysctl,
  parseSysctlLine,
  SYSCTL_INFO_CODES,
  sysctlKeyFromPath,
} from '../../src/parse/sysctl.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../fixtures/tools/sysctl/${name}`, import.meta.url), 'utf8');
const codes = (issues: { line: number; code: string }[]): string[] =>
  issues.map((i) => `${i.line}:${i.code}`);

describe('parseSysctl', () => {
  it('reads a real sysctl -a from a netns, keeping tabs inside multi-value entries', () => {
    const text = fixture('sysctl-a-netns.txt');
    const { value, issues } = parseSysctl(text);
    expect(issues).toEqual([]);
    expect(Object.keys(value)).toHaveLength(text.trim().split('\n').length);
    expect(value['net.netfilter.nf_conntrack_tcp_timeout_established']).toBe('432000');
    expect(value['net.netfilter.nf_conntrack_max']).toBe('262144');
    expect(value['net.ipv4.tcp_keepalive_time']).toBe('7200');
    expect(value['net.ipv4.tcp_rmem']).toBe('4096\t131072\t33554432');
    expect(value['net.netfilter.nf_log.0']).toBe('NONE');
  });

  it('turns permission-denied lines of a non-root run into info issues', () => {
    const { value, issues } = parseSysctl(fixture('sysctl-a-nonroot.txt'));
    expect(value['net.netfilter.nf_conntrack_tcp_timeout_close_wait']).toBe('60');
    expect(issues.map((i) => i.code)).toEqual(Array(10).fill('sysctl.unreadable'));
    expect(issues[0]).toMatchObject({
      line: 1,
      message: expect.stringContaining('kernel.cad_pid'),
    });
    expect(issues.map((i) => i.line)).toEqual([1, 2, 3, 6, 11, 12, 13, 17, 18, 19]);
    expect(issues.every((i) => SYSCTL_INFO_CODES.has(i.code))).toBe(true);
  });

  it('normalizes /proc/sys path forms to dotted keys', () => {
    const { value, issues } = parseSysctl(fixture('proc-sys-paths.txt'));
    expect(issues).toEqual([]);
    expect({ ...value }).toEqual({
      'net.netfilter.nf_conntrack_max': '262144',
      'net.netfilter.nf_conntrack_tcp_timeout_established': '432000',
      'net.ipv4.conf.eth0/100.rp_filter': '2',
      'net.ipv4.tcp_rmem': '4096\t131072\t33554432',
      'net.ipv4.tcp_keepalive_time': '7200',
    });
    expect(sysctlKeyFromPath('/proc/sys/net/ipv4/vs/conn_reuse_mode')).toBe(
      'net.ipv4.vs.conn_reuse_mode',
    );
  });

  it('reports malformed lines and keeps the rest', () => {
    const { value, issues } = parseSysctl(fixture('sysctl-malformed.txt'));
    expect(codes(issues)).toEqual([
      '2:sysctl.bad-line',
      '3:sysctl.bad-key',
      '4:sysctl.bad-key',
      '5:sysctl.tool-error',
    ]);
    expect(Object.keys(value)).toEqual([
      'net.ipv4.tcp_keepalive_time',
      'net.netfilter.nf_conntrack_tcp_timeout_established',
    ]);
  });

  it('reads a cannot-stat line as unreadable with the dotted key', () => {
    const out = parseSysctlLine(
      'sysctl: cannot stat /proc/sys/net/ipv4/nosuch: No such file or directory',
    );
    expect(out).toMatchObject({
      kind: 'issue',
      code: 'sysctl.unreadable',
      message: expect.stringContaining('net.ipv4.nosuch'),
    });
  });

  it.each([
    '\0',
    '=',
    '==',
    '__proto__ = 1',
    'a'.repeat(10_000) + ' = 1',
    'sysctl:',
    '/proc/sys/:',
  ])('never throws (%#)', (line) => {
    expect(() => parseSysctl(line)).not.toThrow();
  });

  it('does not pollute prototypes with a __proto__ key', () => {
    const { value } = parseSysctl('__proto__ = 1\nconstructor = 2');
    expect(value['__proto__']).toBe('1');
    expect(({} as Record<string, unknown>)['1']).toBeUndefined();
  });
});

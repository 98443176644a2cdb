import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseConntrackStats, parseConntrackStatsLine } from '../../src/parse/conntrack-stats.js';
import { parseProcConntrackStat } from '../../src/parse/proc-conntrack-stat.js';

const dir = fileURLToPath(new URL('../../fixtures/tools/conntrack/', import.meta.url));
const fixture = (name: string): string => readFileSync(dir + name, 'utf8');

const KERNEL_618 = [
  'found',
  'invalid',
  'insert',
  'insert_failed',
  'drop',
  'early_drop',
  'error',
  'search_restart',
  'clash_resolve',
  'chaintoolong',
];

describe('conntrack -S', () => {
  it('reads the real capture: one row per CPU, trailing space tolerated', () => {
    const r = parseConntrackStats(fixture('stats.txt'));
    expect(r.issues).toEqual([]);
    expect(r.value.map((s) => s.cpu)).toEqual([0, 1]);
    expect(Object.keys(r.value[0]!.counters)).toEqual(KERNEL_618);
    expect(r.value[1]!.counters['error']).toBe(2);
    expect(r.value[0]!.entries).toBeUndefined();
  });

  it('keeps names of older kernels and unknownN as printed', () => {
    const r = parseConntrackStats(fixture('constructed-stats-older.txt'));
    expect(r.issues).toEqual([]);
    expect(r.value[0]!.counters).toMatchObject({
      searched: 0,
      found: 12,
      delete_list: 0,
      search_restart: 4,
      unknown15: 2,
    });
    expect(r.value[1]!.counters['early_drop']).toBe(7);
  });

  it('stats-malformed.txt: codes and line numbers', () => {
    const r = parseConntrackStats(fixture('stats-malformed.txt'));
    expect(r.value.map((s) => s.cpu)).toEqual([0]);
    expect(r.issues.map((i) => [i.line, i.code])).toEqual([
      [2, 'conntrack.bad-number'],
      [3, 'conntrack.bad-stats'],
      [4, 'conntrack.bad-number'],
      [5, 'conntrack.bad-stats'],
      [6, 'conntrack.duplicate-field'],
      [7, 'conntrack.bad-stats'],
    ]);
  });

  it('counter names cannot reach Object.prototype, garbage never throws', () => {
    const out = parseConntrackStatsLine('cpu=0   \t__proto__=5 constructor=1 ');
    expect(out.kind).toBe('row');
    if (out.kind === 'row') {
      expect(out.value.counters['__proto__']).toBe(5);
      expect(({} as Record<string, unknown>)['x']).toBeUndefined();
    }
    for (const line of [
      'cpu=',
      'cpu=0\u0000found=1',
      `cpu=0 ${'a=1 '.repeat(300_000)}`,
      'cpu=0 found=NaN',
      'cpu=0 found=1e3',
    ]) {
      expect(parseConntrackStatsLine(line).kind).toBe('issue');
    }
    expect(
      parseConntrackStatsLine(
        'conntrack v1.4.7 (conntrack-tools): Operation failed: Operation not permitted',
      ).kind,
    ).toBe('issue');
  });
});

describe('/proc/net/stat/nf_conntrack', () => {
  it('reads the real capture: hex, renamed to conntrack -S names, entries apart', () => {
    const r = parseProcConntrackStat(fixture('proc-stat-nf_conntrack.txt'));
    expect(r.issues).toEqual([]);
    expect(r.value).toHaveLength(2);
    expect(r.value.map((s) => [s.cpu, s.entries])).toEqual([
      [0, 12],
      [1, 12],
    ]);
    const c = r.value[1]!.counters;
    expect(c['error']).toBe(2);
    expect(c).not.toHaveProperty('icmp_error');
    expect(c).not.toHaveProperty('entries');
    for (const name of KERNEL_618) expect(c).toHaveProperty(name);
    expect(c).toHaveProperty('expect_new');
  });

  it('agrees with conntrack -S taken at the same moment', () => {
    const proc = parseProcConntrackStat(fixture('proc-stat-nf_conntrack.txt')).value;
    const s = parseConntrackStats(fixture('stats.txt')).value;
    for (let cpu = 0; cpu < 2; cpu++) {
      for (const name of KERNEL_618) expect(proc[cpu]!.counters[name]).toBe(s[cpu]!.counters[name]);
    }
  });

  it("reads an older kernel's columns by the header", () => {
    const r = parseProcConntrackStat(fixture('constructed-proc-stat-older.txt'));
    expect(r.issues).toEqual([]);
    expect(r.value[0]).toMatchObject({
      cpu: 0,
      entries: 16,
      counters: {
        searched: 0,
        found: 12,
        invalid: 3,
        insert_failed: 1,
        delete_list: 0,
        search_restart: 4,
      },
    });
    expect(r.value[1]!.counters).toMatchObject({ drop: 2, early_drop: 7, error: 1 });
    expect(r.value[0]!.counters).not.toHaveProperty('clash_resolve');
  });

  it('proc-stat-malformed.txt: bad rows are issues and keep their CPU number', () => {
    const r = parseProcConntrackStat(fixture('proc-stat-malformed.txt'));
    expect(r.issues.map((i) => [i.line, i.code])).toEqual([
      [3, 'conntrack.column-count'],
      [4, 'conntrack.bad-hex'],
    ]);
    expect(r.value.map((s) => s.cpu)).toEqual([0, 3]);
    expect(r.value[1]!.counters).toMatchObject({ clash_resolve: 1, invalid: 16 });
  });

  it('garbage: no header, NUL bytes, a 1 MB line, empty text', () => {
    expect(
      parseProcConntrackStat(fixture('proc-stat-garbage.txt')).issues.map((i) => i.code),
    ).toEqual(['conntrack.bad-stat-header']);
    expect(parseProcConntrackStat('')).toEqual({ value: [], issues: [] });
    const big = parseProcConntrackStat(
      `entries found\n${'0'.repeat(1 << 20)} 1\n00000001 00000002\n`,
    );
    expect(big.issues.map((i) => i.code)).toEqual(['conntrack.line-too-long']);
    expect(big.value).toEqual([{ cpu: 1, entries: 1, counters: { found: 2 } }]);
    expect(parseProcConntrackStat('entries entries\n1 1\n').issues[0]!.code).toBe(
      'conntrack.bad-stat-header',
    );
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSs, parseSsEndpoint, parseSsTimer, parseSsTimerTime } from '../../src/parse/ss.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../fixtures/tools/ss/${name}`, import.meta.url), 'utf8');
const codes = (issues: { line: number; code: string }[]): string[] =>
  issues.map((i) => `${i.line}:${i.code}`);

describe('parseSsTimerTime (iproute2 print_ms_timer forms)', () => {
  it.each([
    ['119min', 119 * 60_000],
    ['11min', 11 * 60_000],
    ['5min', 5 * 60_000],
    ['4min57sec', 4 * 60_000 + 57_000],
    ['26sec', 26_000],
    ['5sec', 5_000],
    ['1.176ms', 1_176],
    ['9.001ms', 9_001],
    ['620ms', 620],
    ['050ms', 50],
    ['', 0],
  ])('%j → %d ms', (text, ms) => {
    expect(parseSsTimerTime(text)).toBe(ms);
  });

  it.each([
    '1.2ms',
    '1.1760ms',
    '4min57',
    'sec',
    '12.5sec',
    'min',
    '-5ms',
    '10.176ms',
    '1000ms',
    '5s',
  ])('refuses %j', (text) => {
    expect(parseSsTimerTime(text)).toBeUndefined();
  });

  it('reads name and count, refusing unknown names', () => {
    expect(parseSsTimer('keepalive,1.176ms,1')).toEqual({
      ok: true,
      timer: { name: 'keepalive', remainingMs: 1176, count: 1 },
    });
    expect(parseSsTimer('on,,0')).toEqual({
      ok: true,
      timer: { name: 'on', remainingMs: 0, count: 0 },
    });
    expect(parseSsTimer('off,1sec,0')).toMatchObject({ ok: false, code: 'ss.unknown-timer' });
    expect(parseSsTimer('persist,1sec')).toMatchObject({ ok: false, code: 'ss.bad-timer' });
  });
});

describe('parseSsEndpoint', () => {
  it.each([
    ['10.0.0.2:8085', { addr: '10.0.0.2', port: 8085 }],
    ['[::ffff:10.0.0.2]:8081', { addr: '::ffff:10.0.0.2', port: 8081 }],
    ['[fd00::2]:8082', { addr: 'fd00::2', port: 8082 }],
    ['10.0.0.2%lo:8086', { addr: '10.0.0.2', port: 8086 }],
    ['[fe80::1]%eth0:22', { addr: 'fe80::1', port: 22 }],
    ['0.0.0.0:*', { addr: '0.0.0.0', port: 0 }],
    ['[::]:*', { addr: '::', port: 0 }],
    ['*:8081', { addr: '*', port: 8081 }],
    ['*:*', { addr: '*', port: 0 }],
  ])('%s', (text, ep) => {
    expect(parseSsEndpoint(text)).toEqual(ep);
  });

  it.each(['10.0.0.2', '10.0.0.2:80x5', '[fd00::2:80', 'host:80', '10.0.0.2:70000', ':80'])(
    'refuses %s',
    (text) => {
      expect(parseSsEndpoint(text)).toBeUndefined();
    },
  );
});

describe('parseSs on real captures', () => {
  const captures = [
    'tinoe-1.txt',
    'tinoe-2.txt',
    'tinoe-3.txt',
    'tinoe-4.txt',
    'tinoe-5.txt',
    'tinoe-6.txt',
    'tinoeH.txt',
    'tinoep.txt',
    'tinoea.txt',
  ];

  it.each(captures)('%s: one socket per first line, every timer parsed, no issues', (name) => {
    const text = fixture(name);
    const { value, issues } = parseSs(text);
    expect(issues).toEqual([]);
    const firstLines = text.split('\n').filter((l) => /^[A-Z]/.test(l) && !l.startsWith('State'));
    expect(value).toHaveLength(firstLines.length);
    firstLines.forEach((l, i) => {
      const m = /timer:\((\w+),([^,]*),(\d+)\)/.exec(l);
      if (m === null) expect(value[i]!.timer).toBeUndefined();
      else
        expect(value[i]!.timer).toEqual({
          name: m[1],
          remainingMs: parseSsTimerTime(m[2]!),
          count: Number(m[3]),
        });
    });
  });

  it('reads one capture field by field', () => {
    const { value } = parseSs(fixture('tinoe-3.txt'));
    expect(value[0]).toMatchObject({
      state: 'ESTAB',
      recvQ: 0,
      sendQ: 0,
      local: { addr: '10.0.0.2', port: 8080 },
      peer: { addr: '10.0.0.2', port: 45242 },
      ino: 12757,
      sk: '11',
      cgroup: 'unreachable:1',
      rtoMs: 204,
      bytesSent: 5,
      bytesReceived: 4,
      lastsndMs: 4028,
      lastrcvMs: 4028,
      lastackMs: 4028,
    });
    expect(value[3]!.timer).toEqual({ name: 'keepalive', remainingMs: 1152, count: 0 });
    expect(value[4]!.timer).toEqual({ name: 'keepalive', remainingMs: 11 * 60_000, count: 0 });
    expect(value[5]!.timer).toEqual({
      name: 'keepalive',
      remainingMs: 4 * 60_000 + 55_000,
      count: 0,
    });
    expect(value[6]).toMatchObject({ state: 'CLOSE-WAIT', recvQ: 1 });
    expect(value[8]).toMatchObject({
      sendQ: 2173952,
      timer: { name: 'persist', remainingMs: 2768, count: 0 },
    });
    expect(value[9]!.timer).toEqual({ name: 'keepalive', remainingMs: 1152, count: 1 });
    expect(value[10]).toMatchObject({
      sendQ: 4,
      timer: { name: 'on', remainingMs: 816, count: 3 },
      retrans: '1/4',
    });
    expect(value[12]).toMatchObject({
      state: 'FIN-WAIT-2',
      timer: { name: 'timewait', remainingMs: 56_000 },
      ino: 0,
    });
    expect(value[12]!.lastsndMs).toBeUndefined();
    expect(value[13]!.local).toEqual({ addr: '::ffff:10.0.0.2', port: 8081 });
    expect(value[14]).toMatchObject({
      local: { addr: 'fd00::2', port: 47840 },
      timer: { remainingMs: 25_000 },
    });
  });

  it('reads headerless output the same as with header', () => {
    expect(parseSs(fixture('tinoeH.txt')).value).toHaveLength(16);
  });

  it('reads users:((…)) from -p', () => {
    const { value } = parseSs(fixture('tinoep.txt'));
    expect(value[0]!.processes).toEqual([{ name: 'python3', pid: 6824, fd: 14 }]);
    expect(value[3]).toMatchObject({
      processes: [{ fd: 17 }],
      timer: { name: 'keepalive', remainingMs: 224 },
    });
    expect(value[12]!.processes).toBeUndefined();
    const two =
      'ESTAB 0 0 10.0.0.1:80 10.0.0.2:5000 users:(("nginx: worker",pid=12,fd=6),("nginx",pid=1,fd=6)) ino:5';
    expect(parseSs(two).value[0]).toMatchObject({
      processes: [
        { name: 'nginx: worker', pid: 12 },
        { name: 'nginx', pid: 1 },
      ],
      ino: 5,
    });
  });

  it('reads LISTEN and TIME-WAIT sockets from -a', () => {
    const { value } = parseSs(fixture('tinoea.txt'));
    expect(value.find((s) => s.local.port === 8086)).toMatchObject({
      state: 'LISTEN',
      local: { addr: '10.0.0.2' },
      peer: { addr: '0.0.0.0', port: 0 },
    });
    expect(value.find((s) => s.state === 'LISTEN' && s.local.addr === '*')).toMatchObject({
      local: { port: 8081 },
      peer: { addr: '*', port: 0 },
    });
    expect(value.find((s) => s.state === 'TIME-WAIT')).toMatchObject({
      timer: { name: 'timewait', remainingMs: 52_000 },
      ino: 0,
    });
  });
});

describe('parseSs failures', () => {
  it('reports each broken field with its line', () => {
    const { value, issues } = parseSs(fixture('tinoe-malformed.txt'));
    expect(codes(issues)).toEqual([
      '2:ss.orphan-info',
      '3:ss.bad-timer',
      '5:ss.bad-address',
      '6:ss.unknown-timer',
      '7:ss.bad-row',
      '8:ss.bad-timer',
      '9:ss.bad-info',
    ]);
    expect(value.map((s) => s.local.port)).toEqual([51696, 51697, 51699]);
    expect(value[0]).toMatchObject({ lastsndMs: 3988, bytesSent: 4 });
    expect(value[0]!.timer).toBeUndefined();
    expect(value[2]).toMatchObject({ ino: 2, lastsndMs: 12 });
  });

  it.each([
    '\0\0',
    '\t\t\t',
    'ESTAB',
    'ESTAB 0 0 [',
    'ESTAB 0 0 a:1 b:2 timer:(',
    ' users:((',
    'x'.repeat(50_000),
    'ESTAB 0 0 1.1.1.1:1 2.2.2.2:2 users:(("a)) timer:(on,1sec,0)',
  ])('never throws on garbage (%#)', (text) => {
    expect(() => parseSs(text)).not.toThrow();
  });
});

import { describe, expect, it } from 'vitest';
import { emptyProbeContext, type ProbeContext } from '../../src/parse/probes/context.js';
import { parseTcpStateLine } from '../../src/parse/probes/trace-tcp-state.js';

// The one-pass reader of `state.v1` lines must say exactly what the general path says. A leading
// space keeps a line off the one-pass reader (it wants the exact bpftrace shape); the general path
// trims it, so the same line read both ways must agree.
const fields = [
  '2262582391112',
  '7',
  '2',
  '4026532606',
  '4',
  '10.0.0.2',
  '1024',
  '10.244.0.2',
  '8080',
  '0',
  '7200000',
  '75000',
  '9',
];
const values = [
  '0',
  '1',
  '00',
  '01',
  '2',
  '-0',
  '-1',
  '04',
  '4',
  '6',
  '10',
  '255',
  '256',
  '0255',
  '65535',
  '65536',
  '007',
  '',
  'a',
  '1.2.3.4',
  '01.02.03.004',
  '1.2.3.4.',
  '999.1.1.1',
  '1..2.3',
  '4294967295',
  '4294967296',
  '123456789012345',
  '1234567890123456',
  '12345678901234567890',
  '123456789012345678901',
  '99999999999',
  '-99999999999',
  '999999999999',
  '::1',
  'fe80::1',
  '1e3',
  ' 1',
  '1 ',
  '+1',
  '1\\n2',
  '1\\"2',
];
const line = (f: readonly string[], tail = '\\n'): string =>
  `{"type": "printf", "data": "state.v1\\t${f.join('\\t')}${tail}"}`;
const ctxs: ProbeContext[] = [
  emptyProbeContext('trace_tcp_state'),
  {
    ...emptyProbeContext('trace_tcp_state'),
    tcpStates: { '1': 'TCP_ESTABLISHED', '7': 'TCP_CLOSE', '2': 'X' },
  },
];

describe('trace_tcp_state one-pass reader', () => {
  it('reads a good line', () => {
    const out = parseTcpStateLine(line(fields), ctxs[0]!);
    expect(out).toEqual(parseTcpStateLine(` ${line(fields)}`, ctxs[0]!));
    expect(out.kind).toBe('row');
  });
  it('agrees with the general path on every field value', () => {
    let n = 0;
    for (const ctx of ctxs) {
      for (let i = 0; i < fields.length; i++) {
        for (const v of values) {
          const f = [...fields];
          f[i] = v;
          for (const tail of ['\\n', '', '\\n\\n', '\\t\\n']) {
            const l = line(f, tail);
            expect(parseTcpStateLine(l, ctx), l).toEqual(parseTcpStateLine(` ${l}`, ctx));
            n++;
          }
        }
      }
    }
    expect(n).toBeGreaterThan(1000);
  });
  it('agrees on lines cut or grown', () => {
    const l = line(fields);
    for (let i = 0; i <= l.length; i++) {
      expect(parseTcpStateLine(l.slice(0, i), ctxs[1]!)).toEqual(
        parseTcpStateLine(` ${l.slice(0, i)}`, ctxs[1]!),
      );
      const g = `${l.slice(0, i)}5${l.slice(i)}`;
      expect(parseTcpStateLine(g, ctxs[1]!)).toEqual(parseTcpStateLine(` ${g}`, ctxs[1]!));
    }
  });
});

import { describe, expect, it } from 'vitest';
import { parseEnvelope } from '../../src/parse/probes/envelope.js';

// The printf fast path must give what JSON.parse gives; a second space after "type": keeps a line
// off the fast path, so the same envelope through JSON.parse is the reference.
const viaJson = (line: string) => parseEnvelope(line.replace('{"type": "printf"', '{"type":  "printf"'));

describe('bpftrace printf envelope without JSON.parse', () => {
  const datas = [
    'state.v1\t2262583391112\t7\t2\t4026532606\t4\t10.0.0.1\t1024\t10.244.0.2\t8080\t0\t0\t0\t0\n',
    '', '\n', 'tag', 'a\nb\tc\n', 'a\\tb', 'quote"d\t1\n', 'ctl\u0001x', 'é\u2028\t\ud800\n', '\t\t\n',
  ];
  it.each(datas)('%j', (d) => {
    const line = `{"type": "printf", "data": ${JSON.stringify(d)}}`;
    expect(parseEnvelope(line)).toEqual(viaJson(line));
    expect(parseEnvelope(`  ${line} `)).toEqual(viaJson(line));
  });

  it.each([
    '{"type": "printf", "data": "a"b"}',
    '{"type": "printf", "data": "a\\"}',
    '{"type": "printf", "data": "a\\x"}',
    '{"type": "printf", "data": "a\tb"}',
    '{"type": "printf", "data": "}',
    '{"type": "printf", "data": ""}',
  ])('same outcome for the odd line %j', (line) => {
    expect(parseEnvelope(line)).toEqual(viaJson(line));
  });

  it('splits a state line into tag and fields', () => {
    const out = parseEnvelope('{"type": "printf", "data": "state.v1\\t1\\t2\\n"}');
    expect(out).toEqual({ kind: 'row', value: { kind: 'printf', tag: 'state.v1', fields: ['1', '2'] } });
  });
});

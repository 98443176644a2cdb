import { describe, expect, it } from 'vitest';
import { isPrintable, printableDeep } from '../../src/model/printable.js';

describe('printableDeep', () => {
  it('returns a clean tree as it is, without a copy', () => {
    const tree = { flows: [{ id: 'tcp a>b', owner: { pod: 'web-0' } }], n: 3 };
    expect(printableDeep(tree)).toBe(tree);
  });

  it('cleans an escape sequence wherever it hides: value, object key, Map key, Set, deep array', () => {
    const deep: unknown[] = [];
    let at = deep;
    for (let i = 0; i < 1000; i++) {
      const next: unknown[] = [];
      at.push(next);
      at = next;
    }
    at.push('\u001b]52;c;ZWNobyBoaQ==\u0007pod');
    const tree = {
      a: 'ok',
      ['name\u001b[31m']: 1,
      m: new Map([['k\u0007', 'v']]),
      s: new Set(['x\u009b2J']),
      deep,
    };
    const out = printableDeep(tree);
    expect(out).not.toBe(tree);
    expect(
      JSON.stringify(out, (_k, v: unknown) =>
        v instanceof Map ? [...v] : v instanceof Set ? [...v] : v,
      ),
    ).not.toMatch(/[\u0007\u001b\u009b]/);
  });

  it('ends on a cyclic object', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    expect(printableDeep(a)).toBe(a);
    a.bad = '\u001b[2J';
    expect(isPrintable(String((printableDeep(a) as { bad: string }).bad))).toBe(true);
  });
});

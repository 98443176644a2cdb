// Property test over every real input we hold: mutated (byte flips, duplicated, cut and shuffled
// lines, control characters, huge numbers, long lines) and fed to every parser and to the bundle
// reader + analysis. Nothing may throw but a KdiagError, and an error may quote at most a short,
// printable excerpt of the input. Runs and sizes are bounded so the file stays well under 60 s.
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KdiagError } from '../../src/errors.js';
import { analyzeInput } from '../../src/services/analyze-input.js';

const ROOT = new URL('../../fixtures/', import.meta.url).pathname;
const PARSE_DIR = new URL('../../src/parse/', import.meta.url).pathname;
const MAX_SAMPLE = 64 << 10;
const LONG_LINE = 1 << 20;

async function filesUnder(dir: string, depth = 2): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory() && depth > 0) out.push(...(await filesUnder(p, depth - 1)));
    else if (
      e.isFile() &&
      !e.name.endsWith('.md') &&
      !e.name.endsWith('.json') &&
      !e.name.endsWith('.py') &&
      !e.name.endsWith('.gz')
    )
      out.push(p);
  }
  return out;
}

type Mutation = (text: string) => string;

/** Mutations that keep the text near real tool output, so parsers get past their first check. */
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc
    .record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) })
    .map(({ at, byte }) => (t: string) => {
      const i = t.length === 0 ? 0 : at % t.length;
      return t.slice(0, i) + String.fromCharCode(byte) + t.slice(i + 1);
    }),
  fc.nat().map((at) => (t: string) => {
    const l = t.split('\n');
    const i = l.length === 0 ? 0 : at % l.length;
    return [...l.slice(0, i + 1), ...l.slice(i)].join('\n');
  }),
  fc.nat().map((at) => (t: string) => t.slice(0, t.length === 0 ? 0 : at % t.length)),
  fc.array(fc.nat(), { minLength: 1, maxLength: 20 }).map((swaps) => (t: string) => {
    const l = t.split('\n');
    for (const s of swaps) {
      const i = s % l.length;
      const j = (s * 7919) % l.length;
      [l[i], l[j]] = [l[j]!, l[i]!];
    }
    return l.join('\n');
  }),
  fc
    .constantFrom('\u001b[31m', '\u001b]52;c;AAAA\u0007', '\u0000', '\r', '\u007f', '\u202e')
    .map((c) => (t: string) => t.replace(/ /, ` ${c}`)),
  fc
    .constantFrom('99999999999999999999999', '-1', '1e308', 'NaN', '0x41', '18446744073709551616')
    .map((n) => (t: string) => t.replace(/\d+/g, (m, off: number) => (off % 3 === 0 ? n : m))),
  fc.nat().map((at) => (t: string) => {
    const l = t.split('\n');
    l.splice(l.length === 0 ? 0 : at % l.length, 0, 'a'.repeat(LONG_LINE - 16) + ' x=1');
    return l.join('\n');
  }),
);

function expectGoodError(err: unknown): void {
  expect(err, String((err as Error)?.stack ?? err)).toBeInstanceOf(KdiagError);
  const m = (err as KdiagError).message;
  expect(m.length, m.slice(0, 200)).toBeLessThan(1000);
}

describe('fuzzed inputs', () => {
  let samples: { name: string; text: string }[] = [];
  let parsers: { name: string; fn: (text: string) => unknown }[] = [];
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kdiag-fuzz-'));
    const files = [
      ...(await filesUnder(join(ROOT, 'tools'))),
      ...(await filesUnder(join(ROOT, 'pastes'))),
      ...(await filesUnder(join(ROOT, 'bundles'))),
    ];
    for (const f of files) {
      if ((await stat(f)).size > MAX_SAMPLE) continue;
      samples.push({ name: f.slice(ROOT.length), text: await readFile(f, 'utf8') });
    }
    for (const f of (await readdir(PARSE_DIR)).filter((n) => n.endsWith('.ts'))) {
      const mod = (await import(join(PARSE_DIR, f))) as Record<string, unknown>;
      for (const [name, fn] of Object.entries(mod)) {
        // Document parsers take the whole text; line parsers take one line (fed every line).
        if (typeof fn === 'function' && /^parse[A-Z]/.test(name) && fn.length === 1)
          parsers.push({ name: `${f}:${name}`, fn: fn as (t: string) => unknown });
      }
    }
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('finds the inputs and the parsers', () => {
    expect(samples.length).toBeGreaterThan(30);
    expect(parsers.length).toBeGreaterThan(10);
  });

  it('no parser throws on a mutated input', () => {
    fc.assert(
      fc.property(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 3 }), (pick, ms) => {
        const s = samples[pick % samples.length]!;
        const text = ms.reduce((t, m) => m(t), s.text);
        for (const p of parsers) {
          try {
            if (/Line$/.test(p.name)) for (const l of text.split('\n').slice(0, 200)) p.fn(l);
            else p.fn(text);
          } catch (err) {
            throw new Error(
              `${p.name} threw on a mutation of ${s.name}: ${String((err as Error).stack ?? err).slice(0, 500)}`,
            );
          }
        }
      }),
      { numRuns: 300, seed: 20_251_205 },
    );
  }, 60_000);

  it('a mutated bundle is analysed or refused with a short KdiagError', async () => {
    const bundles = (await readdir(join(ROOT, 'bundles'), { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.nat(), mutation, async (pickB, pickF, m) => {
        const b = join(dir, `b${n++}`);
        await cp(join(ROOT, 'bundles', bundles[pickB % bundles.length]!), b, { recursive: true });
        await rm(join(b, 'expected.json'), { force: true });
        const files = (await readdir(b)).filter((f) => !f.endsWith('.json'));
        const f = join(b, files[pickF % files.length]!);
        await writeFile(f, m(await readFile(f, 'utf8')));
        try {
          await analyzeInput(b, {});
        } catch (err) {
          expectGoodError(err);
        } finally {
          await rm(b, { recursive: true, force: true });
        }
      }),
      { numRuns: 80, seed: 20_251_205 },
    );
  }, 60_000);
});

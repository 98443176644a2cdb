// kdiag check's reading: every snapshot source at once, fed to the pipeline source after source as read.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { LocatedRecord } from '../../src/engine/raw-record.js';
import { sourceBatches } from '../../src/services/check.js';
import type { RawRecord } from '../../src/engine/raw-record.js';
import { commandSource } from '../../src/sources/snapshot-source.js';
import type { Source } from '../../src/sources/source.js';

function plain(id: string, lines: string[]): Source {
  return {
    id,
    argv: [id],
    async *records() {
      yield { t: 1, src: id, line: id, k: 'begin' } as RawRecord;
      for (const line of lines) yield { t: 1, src: id, line };
      yield { t: 1, src: id, line: 'exit 0', k: 'end' } as RawRecord;
    },
  };
}

async function all(it: AsyncIterable<readonly LocatedRecord[]>): Promise<LocatedRecord[]> {
  const out: LocatedRecord[] = [];
  for await (const b of it) out.push(...b);
  return out;
}

describe('sourceBatches', () => {
  it('keeps the sources in the given order, numbers records across all of them, and counts lines per source', async () => {
    // The slow one first: its records still come first, the fast one waits.
    const slow = commandSource(
      'test:slow',
      ['sh', '-c', 'sleep 0.2; echo s1; echo s2; echo oops >&2'],
      { clock: () => 3 },
    );
    const fast = plain('test:plain', ['p1']);
    const big = commandSource('test:seq', ['seq', '1', '100000'], { clock: () => 4 });
    const done: string[] = [];
    const got = await all(
      sourceBatches([slow, fast, big], new AbortController().signal, (s, n) =>
        done.push(`${s.id}:${n}`),
      ),
    );
    expect(got.slice(0, 8).map((l) => [l.file, l.line, l.rec.k ?? '', l.rec.line])).toEqual([
      ['test:slow', 1, 'begin', 'sh -c sleep 0.2; echo s1; echo s2; echo oops >&2'],
      ['test:slow', 2, '', 's1'],
      ['test:slow', 3, '', 's2'],
      ['test:slow', 4, 'err', 'oops'],
      ['test:slow', 5, 'end', 'exit 0'],
      ['test:plain', 6, 'begin', 'test:plain'],
      ['test:plain', 7, '', 'p1'],
      ['test:plain', 8, 'end', 'exit 0'],
    ]);
    expect(got).toHaveLength(8 + 100_002);
    expect(got.at(-1)).toMatchObject({
      file: 'test:seq',
      line: 8 + 100_002,
      rec: { line: 'exit 0', k: 'end', t: 4 },
    });
    expect(done).toEqual(['test:slow:2', 'test:plain:1', 'test:seq:100000']);
  });

  it('stops every child when the reader leaves early', async () => {
    const first = commandSource('test:yes', ['yes'], { clock: () => 0 });
    const second = commandSource('test:yes2', ['yes', 'two'], { clock: () => 0 });
    let n = 0;
    for await (const b of sourceBatches([first, second], new AbortController().signal)) {
      n += b.length;
      if (n > 5000) break;
    }
    await new Promise((r) => setTimeout(r, 200));
    const left = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], {
      encoding: 'utf8',
    })
      .split('\n')
      .filter((l) => /\byes$/.test(l.trim()));
    expect(left).toEqual([]);
  });
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { FIXTURE_FORMAT } from '../../src/record/fixture-header.js';
import type { LocatedRecord } from '../../src/engine/raw-record.js';
import { openFixture, type RecordColumns } from '../../src/record/fixture-reader.js';
import { readLineBatches, readLines } from '../../src/record/line-reader.js';

const headerLine = JSON.stringify({
  format: FIXTURE_FORMAT,
  version: '1.0',
  recordedAt: '2026-11-23T05:00:00.000Z',
  kdiag: '0.1.0',
  host: { hostname: 'node-a', kernel: '6.18.44' },
  tools: {},
  probes: [],
  sources: [],
  options: {},
  redacted: false,
});

// Enough records to span several read chunks (64 KiB each).
function body(n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++)
    out.push(
      JSON.stringify({
        t: i,
        src: 'conntrack:events',
        line: `[NEW] tcp 6 120 SYN_SENT src=10.0.0.${i % 250} dport=${i}`,
        extra: i,
      }),
    );
  return out.join('\n');
}

async function drain<T>(it: AsyncIterable<T>): Promise<{ items: T[]; error?: unknown }> {
  const items: T[] = [];
  try {
    for await (const x of it) items.push(x);
  } catch (error) {
    return { items, error };
  }
  return { items };
}

async function flatColumns(
  it: AsyncIterable<RecordColumns>,
): Promise<{ items: LocatedRecord[]; error?: unknown }> {
  const items: LocatedRecord[] = [];
  try {
    for await (const c of it) {
      expect(c.count).toBeGreaterThan(0);
      for (let i = 0; i < c.count; i++) {
        const k = c.k[i];
        items.push({
          rec:
            k === undefined
              ? { t: c.t[i]!, src: c.src[i]!, line: c.line[i]! }
              : { t: c.t[i]!, src: c.src[i]!, line: c.line[i]!, k },
          file: c.file,
          line: c.no[i]!,
        });
      }
    }
  } catch (error) {
    return { items, error };
  }
  return { items };
}

// Records as fixture-writer writes them, with the escapes and kinds the scanner reads itself.
function written(n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const line =
      i % 3 === 0
        ? `[1795400000.${i}]\t    [NEW] ipv4 2 tcp 6 120 "q" \\ / \u0001 é ${i}`
        : `{"type": "printf", "data": "state.v1\t${i}\n"}`;
    const k = i % 50 === 0 ? (['begin', 'end', 'err'] as const)[i % 3] : undefined;
    const src = i % 2 ? 'bpftrace:trace_tcp_state' : `conntrack:events@node-${i % 5}`;
    out.push(
      k === undefined
        ? `{"t":${i * 7},"src":${JSON.stringify(src)},"line":${JSON.stringify(line)}}`
        : `{"t":${i * 7},"src":${JSON.stringify(src)},"line":${JSON.stringify(line)},"k":"${k}"}`,
    );
  }
  return out.join('\n');
}

async function flatBatches(
  it: AsyncIterable<readonly LocatedRecord[]>,
): Promise<{ items: LocatedRecord[]; error?: unknown; sizes: number[] }> {
  const items: LocatedRecord[] = [];
  const sizes: number[] = [];
  try {
    for await (const b of it) {
      sizes.push(b.length);
      items.push(...b);
    }
  } catch (error) {
    return { items, error, sizes };
  }
  return { items, sizes };
}

describe('batched reading gives the same records as one by one', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kdiag-batch-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const cases: [string, string][] = [
    ['complete', `${headerLine}\n${body(5000)}\n`],
    ['blank lines and CRLF', `${headerLine}\r\n\n${body(3000).replace(/\n/g, '\r\n')}\r\n\n`],
    ['truncated last line', `${headerLine}\n${body(4000)}\n{"t":1,"src":"x","li`],
    [
      'bad record in the middle',
      `${headerLine}\n${body(2000)}\n{"t":-1,"src":"x","line":"y"}\n${body(10)}\n`,
    ],
    ['not JSON in the middle', `${headerLine}\n${body(2000)}\nnope\n${body(10)}\n`],
    ['several 1 MiB chunks, writer form', `${headerLine}\n${written(30000)}\n${body(20000)}\n`],
    [
      'writer form, bad record late',
      `${headerLine}\n${written(30000)}\n{"t":1,"src":"x","line":"\\u0000\\x"}\n${written(10)}\n`,
    ],
    ['writer form, truncated', `${headerLine}\n${written(30000)}\n{"t":1,"src":"x","line":"abc"`],
  ];

  it.each(cases)('%s (plain and gzip)', async (_name, text) => {
    for (const gz of [false, true]) {
      const path = join(dir, gz ? 'r.ndjson.gz' : 'r.ndjson');
      await writeFile(path, gz ? gzipSync(text) : text);
      const one = await openFixture(path);
      const a = await drain(one.records);
      const many = await openFixture(path);
      const b = await flatBatches(many.batches);
      expect(b.items).toEqual(a.items);
      expect(b.sizes.every((n) => n > 0)).toBe(true);
      const cols = await openFixture(path);
      const c = await flatColumns(cols.columns);
      expect(c.items).toEqual(a.items);
      expect(cols.notices).toEqual(one.notices);
      expect(String(c.error)).toBe(String(a.error));
      expect(many.notices).toEqual(one.notices);
      expect(String(b.error)).toBe(String(a.error));
      if (a.error !== undefined) expect(b.error).toBeInstanceOf(InputError);
      const lines = await drain(readLines(path));
      const lineBatches = await drain(readLineBatches(path));
      expect(lineBatches.items.flat()).toEqual(lines.items);
    }
  });

  it('hands over the lines before an over-long line, then the same error', async () => {
    const path = join(dir, 'long.ndjson');
    await writeFile(path, `${headerLine}\n${body(100)}\n${'x'.repeat((1 << 20) + 10)}\n`);
    const a = await drain(readLines(path));
    const b = await drain(readLineBatches(path));
    expect(a.items.length).toBe(101);
    expect(b.items.flat()).toEqual(a.items);
    expect(String(b.error)).toBe(String(a.error));
  });

  it('reads the writer form from bytes as JSON.parse reads it', async () => {
    const text = written(3000);
    const path = join(dir, 'w.ndjson');
    await writeFile(path, `${headerLine}\n${text}\n`);
    const c = await flatColumns((await openFixture(path)).columns);
    expect(c.error).toBeUndefined();
    const want = text
      .split('\n')
      .map((l, i) => ({ rec: JSON.parse(l) as LocatedRecord['rec'], file: path, line: i + 2 }));
    expect(c.items).toEqual(want);
  });
});

import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { FIXTURE_FORMAT, type FixtureHeader } from '../../src/record/fixture-header.js';
import { openFixture } from '../../src/record/fixture-reader.js';
import { createFixtureWriter } from '../../src/record/fixture-writer.js';
import { readLines } from '../../src/record/line-reader.js';

const header: FixtureHeader = {
  format: FIXTURE_FORMAT,
  version: '1.0',
  recordedAt: '2026-11-23T05:00:00.000Z',
  kdiag: '0.1.0',
  host: { hostname: 'node-a', kernel: '6.18.44' },
  tools: { conntrack: 'v1.4.7' },
  probes: [],
  sources: [{ id: 'conntrack:events', argv: ['conntrack', '-E'] }],
  options: {},
  redacted: false,
};

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const r of it) out.push(r);
  return out;
}

async function errorOf(p: Promise<unknown>): Promise<InputError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error('expected an InputError');
}

describe('recordings', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kdiag-fx-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each(['rec.ndjson', 'rec.ndjson.gz'])(
    'writes and reads back %s, records in order with line numbers',
    async (name) => {
      const path = join(dir, name);
      const w = await createFixtureWriter(path, header);
      w.write({ t: 1000, src: 'conntrack:list', line: 'conntrack -L', k: 'begin' });
      w.write({
        t: 1000,
        src: 'conntrack:list',
        line: 'tcp      6 431997 ESTABLISHED src="quoted"',
      });
      w.write({ t: 1001, src: 'conntrack:list', line: 'exit 0', k: 'end' });
      await w.close();
      expect(w.count).toBe(3);
      const fx = await openFixture(path);
      expect(fx.header.host.hostname).toBe('node-a');
      const recs = await collect(fx.records);
      expect(recs.map((r) => r.line)).toEqual([2, 3, 4]);
      expect(recs[1]!.rec.line).toBe('tcp      6 431997 ESTABLISHED src="quoted"');
      expect(recs[0]!.rec.k).toBe('begin');
      expect(fx.notices).toEqual([]);
    },
  );

  it('refuses to overwrite an existing recording', async () => {
    const path = join(dir, 'exists.ndjson');
    await writeFile(path, 'precious');
    const err = await errorOf(createFixtureWriter(path, header));
    expect(err.message).toMatch(/already exists/);
    expect(await readFile(path, 'utf8')).toBe('precious');
  });

  it('tolerates and reports a truncated last line', async () => {
    const path = join(dir, 'cut.ndjson');
    await writeFile(
      path,
      `${JSON.stringify(header)}\n{"t":1,"src":"a:b","line":"x"}\n{"t":2,"src":"a:b","li`,
    );
    const fx = await openFixture(path);
    const recs = await collect(fx.records);
    expect(recs).toHaveLength(1);
    expect(fx.notices[0]).toMatch(/cut\.ndjson:3: last line is truncated/);
  });

  it('names the file and line of a bad record in the middle', async () => {
    const path = join(dir, 'bad.ndjson');
    await writeFile(
      path,
      `${JSON.stringify(header)}\n{"t":1,"src":"a:b","line":"x"}\n{"t":"soon","src":"a:b","line":"x"}\n{"t":3,"src":"a:b","line":"x"}\n`,
    );
    const fx = await openFixture(path);
    const err = await errorOf(collect(fx.records));
    expect(err.message).toMatch(/bad\.ndjson:3: bad record: t:/);
    expect(err.exitCode).toBe(2);
  });

  it('refuses a header from a newer major version, with a hint', async () => {
    const path = join(dir, 'new.ndjson');
    await writeFile(path, `${JSON.stringify({ ...header, version: '2.0' })}\n`);
    const err = await errorOf(openFixture(path));
    expect(err.code).toBe('KDIAG_UNSUPPORTED_VERSION');
    expect(err.message).toMatch(/new\.ndjson:1: recording format 2\.0 is newer/);
    expect(err.hint).toMatch(/upgrade/);
  });

  it('rejects binary garbage on line 1', async () => {
    const path = join(dir, 'garbage.bin');
    await writeFile(path, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3, 0x0a, 0xff]));
    const err = await errorOf(openFixture(path));
    expect(err.message).toMatch(/garbage\.bin:1: binary data/);
  });

  it('rejects a valid JSON first line that is not a header', async () => {
    const path = join(dir, 'other.json');
    await writeFile(path, '{"hello":"world"}\n');
    const err = await errorOf(openFixture(path));
    expect(err.message).toMatch(/other\.json:1: not a kdiag recording/);
  });

  it('reports a truncated gzip stream with the line it reached', async () => {
    const path = join(dir, 'cut.ndjson.gz');
    const body = `${JSON.stringify(header)}\n${Array.from({ length: 2000 }, (_, i) => `{"t":${i},"src":"a:b","line":"entry ${i} ${'x'.repeat(40)}"}`).join('\n')}\n`;
    const gz = gzipSync(body);
    await writeFile(path, gz.subarray(0, Math.floor(gz.length / 2)));
    const fx = await openFixture(path);
    const err = await errorOf(collect(fx.records));
    expect(err.message).toMatch(/cut\.ndjson\.gz:\d+: gzip data is truncated or corrupt/);
  });

  it('stops at an over-long line instead of buffering it', async () => {
    const path = join(dir, 'long.txt');
    await writeFile(path, `ok\n${'a'.repeat(3 << 20)}\n`);
    const err = await errorOf(collect(readLines(path)));
    expect(err.message).toMatch(/long\.txt:2: line longer than/);
  });

  it('names a missing file', async () => {
    const err = await errorOf(openFixture(join(dir, 'nope.ndjson')));
    expect(err.message).toMatch(/nope\.ndjson: can't read: no such file/);
    expect((await stat(dir)).isDirectory()).toBe(true);
  });
});

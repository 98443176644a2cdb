// Streamed snapshots (SnapshotSource.batches, streamLineBatches): the same framing as snapshot(),
// delivered in arrays as the output arrives.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LineCutter, streamLineBatches } from '../../src/host/exec.js';
import type { RawRecord } from '../../src/engine/raw-record.js';
import {
  commandSource,
  fileSource,
  SnapshotSource,
  type SnapshotSource as Snap,
} from '../../src/sources/snapshot-source.js';

async function viaBatches(
  source: Snap,
  signal = new AbortController().signal,
): Promise<{ records: RawRecord[]; arrays: number }> {
  const records: RawRecord[] = [];
  let arrays = 0;
  for await (const b of source.batches(signal)) {
    arrays++;
    records.push(...b);
  }
  return { records, arrays };
}

async function viaRecords(source: Snap): Promise<RawRecord[]> {
  const out: RawRecord[] = [];
  for await (const r of source.records(new AbortController().signal)) out.push(r);
  return out;
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'kdiag-stream-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('LineCutter', () => {
  it('cuts lines across chunks, keeps empty lines, drops CRs and the final newline', () => {
    const c = new LineCutter();
    expect(c.push('a\nb')).toEqual(['a']);
    expect(c.push('c\r')).toEqual([]);
    expect(c.push('\n\nd\r\n')).toEqual(['bc', '', 'd']);
    expect(c.end()).toEqual([]);
    expect(c.push('tail\r')).toEqual([]);
    expect(c.end()).toEqual(['tail']);
  });
});

describe('streamLineBatches', () => {
  it('streams a big output in order, pausing the pipe while the consumer lags', async () => {
    const s = streamLineBatches(['seq', '1', '300000'], { highWaterChars: 10_000 });
    let next = 1;
    let arrays = 0;
    let wrong = 0;
    for await (const lines of s.lines) {
      arrays++;
      for (const l of lines) if (l !== String(next++)) wrong++;
      // A slow consumer: the child must wait, not the memory grow.
      if (arrays % 50 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    expect(next).toBe(300_001);
    expect(wrong).toBe(0);
    expect(arrays).toBeGreaterThan(1);
    expect(await s.result()).toEqual({ exitCode: 0, stderr: '' });
  });

  it('reports 124 when the timeout kills the child', async () => {
    const s = streamLineBatches(['sleep', '5'], { timeoutMs: 100 });
    for await (const _ of s.lines) {
      // nothing printed
    }
    expect((await s.result()).exitCode).toBe(124);
  });

  it('stop() kills a child still writing', async () => {
    const s = streamLineBatches(['yes'], {});
    for await (const _ of s.lines) break;
    expect(alive(s.pid)).toBe(true);
    s.stop();
    await new Promise((r) => setTimeout(r, 200));
    expect(alive(s.pid)).toBe(false);
  });

  it('throws the missing-tool error for a tool that is not there', async () => {
    const s = streamLineBatches(['kdiag-no-such-tool-y'], {});
    await expect(
      (async () => {
        for await (const _ of s.lines) {
          // none
        }
      })(),
    ).rejects.toThrow(/can't run kdiag-no-such-tool-y: not found on PATH/);
  });
});

describe('SnapshotSource.batches', () => {
  it('frames a command as snapshot() does: begin, stdout lines, stderr lines as err, end', async () => {
    const argv = ['sh', '-c', 'echo one; echo warn >&2; printf "two\\r\\nthree"; exit 3'];
    const a = await viaBatches(commandSource('test:sh', argv, { clock: () => 5 }));
    const src = commandSource('test:sh', argv, { clock: () => 5 });
    expect(a.records).toEqual(await viaRecords(src));
    expect(a.records).toEqual([
      { t: 5, src: 'test:sh', line: argv.join(' '), k: 'begin' },
      { t: 5, src: 'test:sh', line: 'one' },
      { t: 5, src: 'test:sh', line: 'two' },
      { t: 5, src: 'test:sh', line: 'three' },
      { t: 5, src: 'test:sh', line: 'warn', k: 'err' },
      { t: 5, src: 'test:sh', line: 'exit 3', k: 'end' },
    ]);
  });

  it('sets the same status as snapshot()', async () => {
    const ok = commandSource('test:printf', ['printf', 'x\\n'], { clock: () => 1 });
    await viaBatches(ok);
    expect(ok.status).toMatchObject({ state: 'ok', runs: 1, exitCode: 0 });
    const bad = commandSource('test:ls', ['ls', '/nonexistent-kdiag-path'], { clock: () => 1 });
    const r = await viaBatches(bad);
    expect(r.records.at(-1)).toEqual({ t: 1, src: 'test:ls', line: 'exit 2', k: 'end' });
    expect(bad.status.state).toBe('failed');
    expect(bad.status.message).toMatch(
      /^ls \/nonexistent-kdiag-path exited 2: .*nonexistent-kdiag-path/,
    );
  });

  it('streams a big output in several arrays with one time for all', async () => {
    let now = 100;
    const src = commandSource('test:seq', ['seq', '1', '200000'], { clock: () => now++ });
    const { records, arrays } = await viaBatches(src);
    expect(arrays).toBeGreaterThan(3);
    expect(records).toHaveLength(200_002);
    expect(new Set(records.map((r) => r.t))).toEqual(new Set([100]));
    expect(records[1]?.line).toBe('1');
    expect(records.at(-2)?.line).toBe('200000');
  });

  it('ends with one err record and exit 127 when the tool is missing', async () => {
    const src = commandSource('test:missing', ['kdiag-no-such-tool-x', '-L'], { clock: () => 3 });
    expect((await viaBatches(src)).records).toEqual([
      { t: 3, src: 'test:missing', line: 'kdiag-no-such-tool-x -L', k: 'begin' },
      {
        t: 3,
        src: 'test:missing',
        line: "can't run kdiag-no-such-tool-x: not found on PATH",
        k: 'err',
      },
      { t: 3, src: 'test:missing', line: 'exit 127', k: 'end' },
    ]);
    expect(src.status).toMatchObject({ state: 'unavailable', exitCode: 127 });
  });

  it('streams a host file (bigger than one read), the same as snapshot()', async () => {
    const file = join(dir, 'big.txt');
    const text = Array.from({ length: 50_000 }, (_, i) => `line ${i} ${'é'.repeat(i % 7)}`).join(
      '\n',
    );
    writeFileSync(file, text); // no final newline
    const streamed = await viaBatches(fileSource('test:file', file, { clock: () => 7 }));
    expect(streamed.arrays).toBeGreaterThan(2);
    expect(streamed.records).toEqual(
      await viaRecords(fileSource('test:file', file, { clock: () => 7 })),
    );
    expect(streamed.records.at(-2)?.line).toBe(`line 49999 ${'é'.repeat(49_999 % 7)}`);
  });

  it('reports a missing file as unavailable, as snapshot() does', async () => {
    const src = fileSource('procfs:nothing', '/proc/net/kdiag-nothing', { clock: () => 9 });
    const { records } = await viaBatches(src);
    expect(records.map((r) => r.k)).toEqual(['begin', 'err', 'end']);
    expect(records.at(-1)?.line).toBe('exit 127');
    expect(src.status.state).toBe('unavailable');
  });

  it('gives custom readers and unavailable sources as one array', async () => {
    const custom = new SnapshotSource({
      kind: 'test:custom',
      argv: ['x'],
      clock: () => 2,
      read: async () => ({ stdout: 'a\nb\n', stderr: '', exitCode: 0 }),
    });
    const r = await viaBatches(custom);
    expect(r.arrays).toBe(1);
    expect(r.records.map((x) => x.line)).toEqual(['x', 'a', 'b', 'exit 0']);
    expect(custom.lastOutput?.stdout).toBe('a\nb\n');
    const gone = new SnapshotSource({
      kind: 'test:gone',
      argv: ['x'],
      intervalMs: 1,
      unavailable: 'x is not here',
      clock: () => 0,
    });
    expect((await viaBatches(gone)).records.map((x) => x.line)).toEqual([
      'x',
      'x is not here',
      'exit 127',
    ]);
  });

  it('stops the child when the consumer leaves early', async () => {
    const src = commandSource('test:yes', ['yes'], { clock: () => 0 });
    let seen = 0;
    for await (const b of src.batches(new AbortController().signal)) {
      seen += b.length;
      if (seen > 10_000) break;
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

import { describe, expect, it } from 'vitest';
import type { RawRecord } from '../../src/engine/raw-record.js';
import { dutyCycleDelay } from '../../src/sources/sleep.js';
import {
  commandSource,
  fileSource,
  frameSnapshot,
  SNAPSHOT_TIME_SHARE,
  SnapshotSource,
  sourceIdOf,
  splitLines,
} from '../../src/sources/snapshot-source.js';

async function collect(
  source: { records(s: AbortSignal): AsyncIterable<RawRecord> },
  signal = new AbortController().signal,
): Promise<RawRecord[]> {
  const out: RawRecord[] = [];
  for await (const r of source.records(signal)) out.push(r);
  return out;
}

describe('framing (pure)', () => {
  it('frames begin, stdout lines, stderr lines as err, end', () => {
    expect(
      frameSnapshot('conntrack:stats@ns1', 7, ['conntrack', '-S'], {
        stdout: 'a\nb\n',
        stderr: 'warn\n',
        exitCode: 0,
      }),
    ).toEqual([
      { t: 7, src: 'conntrack:stats@ns1', line: 'conntrack -S', k: 'begin' },
      { t: 7, src: 'conntrack:stats@ns1', line: 'a' },
      { t: 7, src: 'conntrack:stats@ns1', line: 'b' },
      { t: 7, src: 'conntrack:stats@ns1', line: 'warn', k: 'err' },
      { t: 7, src: 'conntrack:stats@ns1', line: 'exit 0', k: 'end' },
    ]);
  });
  it('keeps empty lines inside the output, drops only the final newline and CRs', () => {
    expect(splitLines('a\n\nb\r\n')).toEqual(['a', '', 'b']);
    expect(splitLines('')).toEqual([]);
    expect(splitLines('no-newline')).toEqual(['no-newline']);
  });
  it('scopes source ids', () => {
    expect(sourceIdOf('ss:sockets', undefined)).toBe('ss:sockets');
    expect(sourceIdOf('ss:sockets', 'kdiag-a')).toBe('ss:sockets@kdiag-a');
  });
});

describe('SnapshotSource with real commands', () => {
  it('runs a command and stamps every record with the injected clock', async () => {
    let now = 1000;
    const src = commandSource('test:printf', ['printf', 'one\\ntwo\\n'], { clock: () => now++ });
    const recs = await collect(src);
    expect(recs).toEqual([
      { t: 1000, src: 'test:printf', line: 'printf one\\ntwo\\n', k: 'begin' },
      { t: 1000, src: 'test:printf', line: 'one' },
      { t: 1000, src: 'test:printf', line: 'two' },
      { t: 1000, src: 'test:printf', line: 'exit 0', k: 'end' },
    ]);
    expect(src.status).toMatchObject({ state: 'ok', runs: 1, exitCode: 0 });
    // The byte-exact output (for a bundle) is kept by snapshot().
    expect(src.lastOutput).toBeUndefined();
    expect(await src.snapshot()).toEqual(recs.map((r) => ({ ...r, t: 1001 })));
    expect(src.lastOutput?.stdout).toBe('one\ntwo\n');
    expect(src.status).toMatchObject({ state: 'ok', runs: 2, exitCode: 0 });
  });

  it('keeps stderr and the exit status of a failing command, and says it failed', async () => {
    const src = commandSource('test:ls', ['ls', '/nonexistent-kdiag-path'], { clock: () => 1 });
    const recs = await collect(src);
    expect(recs[0]).toMatchObject({ k: 'begin', line: 'ls /nonexistent-kdiag-path' });
    expect(
      recs
        .filter((r) => r.k === 'err')
        .map((r) => r.line)
        .join('\n'),
    ).toMatch(/nonexistent-kdiag-path/);
    expect(recs.at(-1)).toEqual({ t: 1, src: 'test:ls', line: 'exit 2', k: 'end' });
    expect(src.status.state).toBe('failed');
    expect(src.status.message).toMatch(/exited 2/);
  });

  it('ends with one err record and exit 127 when the tool is missing, and reports it unavailable', async () => {
    const src = commandSource('test:missing', ['kdiag-no-such-tool-x', '-L'], { clock: () => 3 });
    const recs = await collect(src);
    expect(recs).toEqual([
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
    expect(src.lastOutput).toBeUndefined();
  });

  it('reads a file directly on the host, recorded as cat FILE', async () => {
    const src = fileSource('procfs:osrelease', '/proc/sys/kernel/osrelease', { clock: () => 9 });
    const recs = await collect(src);
    expect(recs[0]).toMatchObject({ line: 'cat /proc/sys/kernel/osrelease', k: 'begin' });
    expect(recs[1]?.line).toMatch(/^\d+\.\d+/);
    expect(recs.at(-1)?.line).toBe('exit 0');
  });

  it('reports a missing file as unavailable', async () => {
    const src = fileSource('procfs:nothing', '/proc/net/kdiag-nothing', { clock: () => 9 });
    const recs = await collect(src);
    expect(recs.map((r) => r.k)).toEqual(['begin', 'err', 'end']);
    expect(src.status.state).toBe('unavailable');
  });

  it('repeats every intervalMs until aborted', async () => {
    let n = 0;
    const src = new SnapshotSource({
      kind: 'test:poll',
      argv: ['poll'],
      intervalMs: 1,
      clock: () => n,
      read: async () => ({ stdout: `run ${++n}\n`, stderr: '', exitCode: 0 }),
    });
    const ac = new AbortController();
    const recs: RawRecord[] = [];
    for await (const r of src.records(ac.signal)) {
      recs.push(r);
      if (r.k === 'end' && recs.filter((x) => x.k === 'end').length === 3) ac.abort();
    }
    expect(recs.filter((r) => r.k === 'begin')).toHaveLength(3);
    expect(recs.filter((r) => !r.k).map((r) => r.line)).toEqual(['run 1', 'run 2', 'run 3']);
    expect(src.status.runs).toBe(3);
  });

  it('spaces out runs that take long, so reading stays within its share of the time', async () => {
    let n = 0;
    const slow = async () => {
      await new Promise((r) => setTimeout(r, 60));
      return { stdout: `run ${++n}\n`, stderr: '', exitCode: 0 };
    };
    const src = new SnapshotSource({
      kind: 'test:slow',
      argv: ['slow'],
      intervalMs: 1,
      clock: () => n,
      read: slow,
    });
    const ac = new AbortController();
    const ends: number[] = [];
    const begins: number[] = [];
    for await (const r of src.records(ac.signal)) {
      if (r.k === 'begin') begins.push(performance.now());
      if (r.k === 'end') ends.push(performance.now());
      if (ends.length === 2) ac.abort();
    }
    // 60 ms of reading at most SNAPSHOT_TIME_SHARE of the time: the next run ≥ 240 ms later, not 1 ms
    // (less 5 ms: Node's timers may fire a millisecond early)
    expect(begins[1]! - ends[0]!).toBeGreaterThanOrEqual(
      dutyCycleDelay(1, 60, SNAPSHOT_TIME_SHARE) - 5,
    );
  });

  it('does not poll a source that is unavailable', async () => {
    const src = new SnapshotSource({
      kind: 'test:gone',
      argv: ['x'],
      intervalMs: 1,
      unavailable: 'x is not here',
      clock: () => 0,
    });
    const recs = await collect(src);
    expect(recs.map((r) => r.line)).toEqual(['x', 'x is not here', 'exit 127']);
  });
});

describe('status helpers', () => {
  it('reads end records and source problems', async () => {
    const { endExitCode, sourceProblem } = await import('../../src/sources/snapshot-source.js');
    expect(endExitCode('exit 127')).toBe(127);
    expect(endExitCode('exit x')).toBeUndefined();
    const gone = new SnapshotSource({
      kind: 'k',
      argv: ['x'],
      unavailable: 'x is not here',
      clock: () => 0,
    });
    expect(sourceProblem(gone)).toBeUndefined();
    await gone.snapshot();
    expect(sourceProblem(gone)).toEqual({ state: 'unavailable', message: 'x is not here' });
    expect(sourceProblem({ id: 'plain' })).toBeUndefined();
  });
});

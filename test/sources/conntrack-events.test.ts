import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConntrackEventsSource,
  isLostEventsLine,
  nextRestart,
  ENOBUFS_WARNING,
  type RestartPolicy,
} from '../../src/sources/conntrack-source.js';
import type { RawRecord } from '../../src/engine/raw-record.js';

const POLICY: RestartPolicy = {
  initialMs: 1000,
  maxMs: 8000,
  healthyAfterMs: 60_000,
  maxShortRuns: 5,
};

describe('restart policy (pure)', () => {
  it('backs off exponentially on short runs, capped', () => {
    expect(nextRestart(100, 0, POLICY)).toEqual({ delayMs: 1000, shortRuns: 1 });
    expect(nextRestart(100, 1, POLICY)).toEqual({ delayMs: 2000, shortRuns: 2 });
    expect(nextRestart(100, 3, POLICY)).toEqual({ delayMs: 8000, shortRuns: 4 });
  });
  it('gives up after maxShortRuns short runs in a row', () => {
    expect(nextRestart(100, 4, POLICY)).toEqual({ delayMs: undefined, shortRuns: 5 });
  });
  it('resets after a healthy run', () => {
    expect(nextRestart(60_000, 4, POLICY)).toEqual({ delayMs: 1000, shortRuns: 0 });
  });
  it('recognises the ENOBUFS warning', () => {
    expect(isLostEventsLine(ENOBUFS_WARNING)).toBe(true);
    expect(
      isLostEventsLine('conntrack v1.4.7 (conntrack-tools): 3 flow events have been shown.'),
    ).toBe(false);
  });
});

describe('ConntrackEventsSource with a fake conntrack on PATH', () => {
  let dir: string;
  let savedPath: string | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kdiag-fakebin-'));
    savedPath = process.env.PATH;
  });
  afterEach(() => {
    process.env.PATH = savedPath;
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes the exact argv, keeps ENOBUFS as err, counts it, restarts with backoff and gives up', async () => {
    // What conntrack 1.4.7 prints when its netlink buffer overflows, then an exit as if the socket died.
    writeFileSync(
      join(dir, 'conntrack'),
      [
        '#!/bin/sh',
        'echo "args $*"',
        'printf "[1795407289.366289]\\t    [NEW] ipv4     2 tcp      6 120 SYN_SENT src=127.0.0.1 dst=127.0.0.1 sport=54124 dport=8080 [UNREPLIED] src=127.0.0.1 dst=127.0.0.1 sport=8080 dport=54124 id=1\\n"',
        'echo "WARNING: We have hit ENOBUFS! We are losing events." >&2',
        'echo "This message means that the current netlink socket buffer size is too small." >&2',
        'exit 1',
        '',
      ].join('\n'),
    );
    chmodSync(join(dir, 'conntrack'), 0o755);
    process.env.PATH = `${dir}:${savedPath ?? '/usr/bin:/bin'}`;
    let now = 0;
    const src = new ConntrackEventsSource({
      clock: () => (now += 1),
      restart: { initialMs: 1, maxMs: 2, healthyAfterMs: 1e9, maxShortRuns: 3 },
      dieWithParent: false,
    });
    const recs: RawRecord[] = [];
    for await (const r of src.records(new AbortController().signal)) recs.push(r);
    expect(recs.every((r) => r.src === 'conntrack:events')).toBe(true);
    expect(recs.filter((r) => r.k === 'begin').map((r) => r.line)).toEqual(
      Array(3).fill('conntrack -E -o timestamp,extended,id -b 8388608'),
    );
    expect(recs.filter((r) => r.k === 'end').map((r) => r.line)).toEqual([
      'exit 1',
      'exit 1',
      'exit 1',
    ]);
    expect(recs.filter((r) => !r.k && r.line.startsWith('args '))[0]?.line).toBe(
      'args -E -o timestamp,extended,id -b 8388608',
    );
    expect(recs.filter((r) => !r.k && r.line.includes('[NEW]'))).toHaveLength(3);
    expect(
      recs.filter(
        (r) => r.k === 'err' && r.line === 'WARNING: We have hit ENOBUFS! We are losing events.',
      ),
    ).toHaveLength(3);
    expect(src.status).toMatchObject({ state: 'failed', starts: 3, lost: 3, exitCode: 1 });
    expect(src.status.message).toMatch(/gave up after 3 short runs/);
    // Each line has its own time from the clock.
    const times = recs.map((r) => r.t);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('passes a long burst on whole and in order, with the warning inside it counted once', async () => {
    // 30,000 lines in a few pipe writes: the reading loop drains them in batches.
    writeFileSync(
      join(dir, 'conntrack'),
      [
        '#!/bin/sh',
        'i=0',
        'while [ $i -lt 30000 ]; do',
        '  printf "[1795407289.366289]\\t    [NEW] ipv4     2 tcp      6 120 SYN_SENT src=127.0.0.1 dst=127.0.0.1 sport=54124 dport=8080 [UNREPLIED] src=127.0.0.1 dst=127.0.0.1 sport=8080 dport=54124 id=%d\\n" $i',
        '  [ $i -eq 15000 ] && echo "WARNING: We have hit ENOBUFS! We are losing events." >&2',
        '  i=$((i + 1))',
        'done',
        'exit 1',
        '',
      ].join('\n'),
    );
    chmodSync(join(dir, 'conntrack'), 0o755);
    process.env.PATH = `${dir}:${savedPath ?? '/usr/bin:/bin'}`;
    const src = new ConntrackEventsSource({
      restart: { initialMs: 1, maxMs: 2, healthyAfterMs: 1e9, maxShortRuns: 1 },
      dieWithParent: false,
      enlargeBuffer: false,
    });
    const ids: number[] = [];
    let warnings = 0;
    for await (const r of src.records(new AbortController().signal)) {
      if (!r.k) ids.push(Number(/id=(\d+)$/.exec(r.line)?.[1]));
      else if (r.k === 'err' && r.line.startsWith('WARNING: We have hit ENOBUFS')) warnings++;
    }
    expect(ids).toHaveLength(30_000);
    expect(ids.every((id, i) => id === i)).toBe(true);
    expect(warnings).toBe(1);
    expect(src.status).toMatchObject({ state: 'failed', starts: 1, lost: 1 });
  }, 60_000);

  it('ends with one err and exit 127 when conntrack is not on PATH', async () => {
    process.env.PATH = dir;
    const src = new ConntrackEventsSource({ clock: () => 4, netns: 'kdiag-x' });
    const recs: RawRecord[] = [];
    for await (const r of src.records(new AbortController().signal)) recs.push(r);
    expect(recs).toEqual([
      {
        t: 4,
        src: 'conntrack:events@kdiag-x',
        line: 'conntrack -E -o timestamp,extended,id -b 8388608',
        k: 'begin',
      },
      {
        t: 4,
        src: 'conntrack:events@kdiag-x',
        line: "can't run conntrack: not found on PATH",
        k: 'err',
      },
      { t: 4, src: 'conntrack:events@kdiag-x', line: 'exit 127', k: 'end' },
    ]);
    expect(src.status.state).toBe('unavailable');
  });
});

// The event stream under a burst bigger than conntrack's event socket holds: every event is either
// seen or counted lost, never missing silently. conntrack -R inserts a batch of entries (one NEW
// each) and conntrack -F flushes them (one DESTROY each) faster than conntrack -E can print them.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConntrackEventsSource } from '../../src/sources/conntrack-source.js';
import type { RawRecord } from '../../src/engine/raw-record.js';
import { labSkipReason } from '../helpers/lab-guard.js';

const reason = labSkipReason('root', 'netns', 'conntrack');
const ENTRIES = 4000;

describe.skipIf(reason)('conntrack events past the socket buffer', () => {
  const name = `kdiag-perf-src-${randomBytes(4).toString('hex')}`;
  // Made in beforeAll: vitest runs this body to collect even a skipped suite, whose afterAll never runs.
  let dir = '';
  const inNs = (...argv: string[]): string =>
    execFileSync('nsenter', [`--net=/run/netns/${name}`, '--', ...argv], {
      encoding: 'utf8',
      timeout: 60_000,
    });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kdiag-burst-'));
    execFileSync('ip', ['netns', 'add', name]);
    execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    const lines: string[] = [];
    for (let i = 0; i < ENTRIES; i++) {
      lines.push(
        `-I -p tcp -s 10.1.${i >> 8}.${i & 255} -d 10.96.0.10 --sport ${1024 + i} --dport 80 -r 10.0.0.2 -q 10.1.${i >> 8}.${i & 255} --reply-port-src 8080 --reply-port-dst ${1024 + i} --state ESTABLISHED -u SEEN_REPLY,ASSURED -t 3600`,
      );
    }
    writeFileSync(join(dir, 'fill.txt'), `${lines.join('\n')}\n`);
  });
  afterAll(() => {
    execFileSync('ip', ['netns', 'del', name]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** conntrack -E in the namespace, read into `seen` until `stop()`; resolves once it listens. */
  async function watchEvents(enlargeBuffer = false): Promise<{
    events: ConntrackEventsSource;
    seen: RawRecord[];
    stop: () => Promise<void>;
  }> {
    // The loss tests keep the default buffer (rmem_default) so that the burst overflows it.
    const events = new ConntrackEventsSource({ netns: name, enlargeBuffer });
    const ac = new AbortController();
    const seen: RawRecord[] = [];
    const reader = (async () => {
      for await (const r of events.records(ac.signal)) seen.push(r);
    })();
    // conntrack -E prints its NOTICE once its socket is set up: only then do the events reach it.
    for (let i = 0; i < 100 && !seen.some((r) => r.line.startsWith('NOTICE')); i++)
      await new Promise((r) => setTimeout(r, 50));
    // and, when kdiag enlarges the event socket, once it says how that went
    for (let i = 0; enlargeBuffer && i < 100 && !seen.some((r) => r.line.startsWith('kdiag:')); i++)
      await new Promise((r) => setTimeout(r, 50));
    return {
      events,
      seen,
      stop: async () => {
        ac.abort();
        await reader;
      },
    };
  }

  it('sees or counts every NEW and DESTROY of the burst', async () => {
    const { events, seen, stop } = await watchEvents();
    try {
      inNs('conntrack', '-R', join(dir, 'fill.txt'));
      inNs('conntrack', '-F');
      // Until every event is seen or counted (the drop counter is read once a second), bounded.
      const accounted = (): number =>
        seen.filter((r) => r.k === undefined).length + events.status.lost;
      for (let i = 0; i < 100 && accounted() < 2 * ENTRIES; i++)
        await new Promise((r) => setTimeout(r, 100));
    } finally {
      await stop();
    }
    const shown = seen.filter((r) => r.k === undefined);
    const news = shown.filter((r) => r.line.includes('[NEW]')).length;
    const destroys = shown.filter((r) => r.line.includes('[DESTROY]')).length;
    const errs = seen.filter((r) => r.k === 'err').map((r) => r.line);
    const warnings = errs.filter((l) => l.startsWith('WARNING: We have hit ENOBUFS')).length;
    const counted = errs
      .map((l) => /^kdiag: conntrack -E lost (\d+) events/.exec(l))
      .reduce((a, m) => a + (m ? Number(m[1]) : 0), 0);
    process.stderr.write(
      `burst: ${news} NEW, ${destroys} DESTROY shown, ${warnings} ENOBUFS warnings, ${counted} more counted, lost ${events.status.lost}\n`,
    );
    expect(news + destroys).toBe(shown.length);
    // lost = one per warning + what the drop counter added, and with it nothing is unaccounted for
    expect(events.status.lost).toBe(warnings + counted);
    expect(news + destroys + events.status.lost).toBe(2 * ENTRIES);
  });

  it('counts the drops of the last second when stopped right after a burst', async () => {
    const { events, seen, stop } = await watchEvents();
    let quietAfter = 0;
    try {
      // Two bursts: the first starts the once-a-second reads of the drop counter (at its ENOBUFS
      // warning); the second's drops come after that read, and kdiag is stopped before the next.
      inNs('conntrack', '-R', join(dir, 'fill.txt'));
      for (
        let i = 0;
        i < 100 &&
        !seen.some((r) => r.k === 'err' && r.line.startsWith('WARNING: We have hit ENOBUFS'));
        i++
      )
        await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 100));
      inNs('conntrack', '-F');
      // Stopped as soon as conntrack has printed what it will (50 ms without a line, bounded).
      const t0 = Date.now();
      for (let n = -1; n !== seen.length && Date.now() - t0 < 10_000;) {
        n = seen.length;
        await new Promise((r) => setTimeout(r, 50));
      }
      quietAfter = Date.now() - t0;
    } finally {
      await stop();
    }
    const shown = seen.filter(
      (r) => r.k === undefined && (r.line.includes('[NEW]') || r.line.includes('[DESTROY]')),
    ).length;
    process.stderr.write(
      `stopped ${quietAfter} ms after the burst: ${shown} shown, lost ${events.status.lost}\n`,
    );
    expect(
      events.status.lost,
      'the burst overflowed the socket (else this test shows nothing)',
    ).toBeGreaterThan(0);
    expect(shown + events.status.lost).toBe(2 * ENTRIES);
    expect(seen.at(-1)?.k).toBe('end');
  });

  it('loses nothing of the same burst once kdiag has enlarged the event socket, even stopped at once', async () => {
    const { events, seen, stop } = await watchEvents(true);
    try {
      inNs('conntrack', '-R', join(dir, 'fill.txt'));
      inNs('conntrack', '-F');
    } finally {
      // stopped right away: what is queued in the socket is read out before conntrack goes
      await stop();
    }
    const said = seen.find((r) => r.k === 'err' && r.line.startsWith('kdiag:'))?.line ?? '';
    expect(said).toMatch(/receive buffer set to \d+ bytes/);
    const shown = seen.filter(
      (r) => r.k === undefined && (r.line.includes('[NEW]') || r.line.includes('[DESTROY]')),
    ).length;
    process.stderr.write(`enlarged: ${shown} shown, lost ${events.status.lost}\n`);
    expect(events.status.lost).toBe(0);
    expect(shown).toBe(2 * ENTRIES);
  });
});

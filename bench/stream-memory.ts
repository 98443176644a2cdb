// Streaming a large recording keeps memory flat: kdiag replay of 1,000,000 conntrack events over
// 200 flows (~190 MB of text) must never hold the file. Moved here from the vitest suite, where it
// took most of a unit run; the bound is still a pass/fail, now in BENCHMARKS.md.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURE_FORMAT, FIXTURE_VERSION } from '../src/record/fixture-header.js';
import { createFixtureWriter } from '../src/record/fixture-writer.js';
import { analyzeInput } from '../src/services/analyze-input.js';
import { fmt, fullGc, mb, progress, type FigureResult } from './lib.js';

const LIMIT_MB = 250;

/** Writes `events` NEW/DESTROY pairs' lines over `flows` ports, flushing as it goes (no big buffer). */
async function writeEvents(path: string, events: number, flows: number): Promise<void> {
  const t0 = 1_795_410_000_000;
  const w = await createFixtureWriter(path, {
    format: FIXTURE_FORMAT,
    version: FIXTURE_VERSION,
    recordedAt: new Date(t0).toISOString(),
    kdiag: '0.1.0',
    host: { hostname: 'bench', kernel: '6.18' },
    tools: {},
    probes: [],
    sources: [{ id: 'conntrack:events', argv: ['conntrack', '-E', '-o', 'timestamp,extended'] }],
    options: {},
    redacted: false,
  });
  for (let i = 0; i < events; i++) {
    const port = 40000 + (i % flows);
    const type = i % 2 === 0 ? '    [NEW] tcp      6 120 SYN_SENT' : '[DESTROY] tcp      6 CLOSE';
    const stamp = `${1_795_410_000 + Math.floor(i / 1000)}.000001`;
    w.write({
      t: t0 + i,
      src: 'conntrack:events',
      line: `[${stamp}]\t${type} src=10.0.0.1 dst=10.96.0.10 sport=${port} dport=80 src=10.0.0.2 dst=10.0.0.1 sport=8080 dport=${port}`,
    });
    if (i % 50_000 === 49_999) await w.flush();
  }
  await w.close();
}

/** Peak RSS of analyzeInput over a 1,000,000-event gzip recording, in this (fresh) process. */
export async function figStreamMemory(events = 1_000_000, flows = 200): Promise<FigureResult> {
  const dir = await mkdtemp(join(tmpdir(), 'kdiag-bench-stream-'));
  try {
    const file = join(dir, 'big.ndjson.gz');
    await writeEvents(file, events, flows);
    fullGc();
    const base = process.memoryUsage().rss;
    progress(`wrote ${events.toLocaleString('en-US')} events; RSS before replay ${mb(base)}`);
    let peak = base;
    const started = performance.now();
    const r = await analyzeInput(file, {
      onProgress: () => {
        peak = Math.max(peak, process.memoryUsage().rss);
      },
      progressEvery: 50_000,
    });
    const secs = (performance.now() - started) / 1000;
    peak = Math.max(peak, process.memoryUsage().rss);
    const peakMb = peak / 1024 ** 2;
    const complete = r.records === events && r.issueCount === 0;
    return {
      figure: 'Streaming memory, 1,000,000 events (RSS)',
      kdiag: `${mb(peak)} peak`,
      baseline: `${mb(base)} before the replay`,
      ratio: `${fmt(peakMb / LIMIT_MB)} of ${LIMIT_MB} MB`,
      target: `≤ ${LIMIT_MB} MB, every record read`,
      pass: complete && peakMb < LIMIT_MB,
      how: `analyzeInput over a gzip recording of ${events.toLocaleString('en-US')} conntrack NEW/DESTROY events on ${flows} flows (~190 MB of text), RSS sampled every 50,000 records; own process, 1 run (deterministic input)`,
      details: [
        `records read ${r.records.toLocaleString('en-US')} (expected ${events.toLocaleString('en-US')}), issues ${r.issueCount}; ${secs.toFixed(1)} s`,
      ],
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

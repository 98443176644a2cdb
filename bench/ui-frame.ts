// Time per TUI frame with 100,000 flows (target: under 30 ms): the real app via renderApp, fed by an
// in-memory store; each measured frame brings a new Diagnosis of new flow objects (re-index, re-sort) and a feed event.
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { Diagnosis, FlowView } from '../src/model/diagnosis.js';
import type {
  FeedItem,
  SessionCommand,
  SessionSnapshot,
  SessionStore,
} from '../src/model/session.js';
import { renderApp } from '../src/ui/render-app.js';

export interface UiFrameBenchResult {
  readonly flows: number;
  /** Median CPU ms from a store update with a new Diagnosis to the frame written. */
  readonly msPerFrame: number;
  readonly frames: number;
  /** Median ms for a frame where only the feed changed (the diagnosis kept its identity). */
  readonly msPerFeedFrame: number;
  /** Median ms for a key press (move down) to its frame. */
  readonly msPerKeyFrame: number;
  /** Median CPU ms from the new Diagnosis until the frame showing it re-sorted (all time slices, two frames). */
  readonly msToSorted: number;
  /** Median wall-clock ms of the same frames as msPerFrame (inflated when other processes share the CPU). */
  readonly wallMsPerFrame: number;
}

/** Synthetic flows (benchmark data, not a recording): DNAT'ed clients with four layers each. */
export function syntheticFlows(n: number, tick = 0): FlowView[] {
  const flows: FlowView[] = new Array<FlowView>(n);
  for (let i = 0; i < n; i++) {
    const client = {
      addr: `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`,
      port: 1024 + (i % 60000),
    };
    const idle = ((i * 7919) % 900) + tick;
    const pathLeft = 350 - idle;
    flows[i] = {
      id: `tcp ${client.addr}:${client.port}>10.96.0.10:5432`,
      proto: 'tcp',
      client,
      target: { addr: '10.96.0.10', port: 5432 },
      backend: { addr: `10.244.${(i >>> 4) & 255}.${(i % 14) + 2}`, port: 5432 },
      owner: { pod: { namespace: 'shop', name: `api-${i % 500}` } },
      state: 'ESTABLISHED',
      idleSec: idle,
      layers: [
        { layer: 'keepalive', timeoutSec: null, source: 'ss', leftSec: null },
        { layer: 'conntrack', timeoutSec: 600, source: 'sysctl', leftSec: Math.max(0, 600 - idle) },
        { layer: 'ipvs', timeoutSec: 900, source: 'ipvsadm', leftSec: Math.max(0, 900 - idle) },
        { layer: 'path', timeoutSec: 350, source: 'flag', leftSec: Math.max(0, pathLeft) },
      ],
      ...(i % 3 === 0 ? {} : { firstToForget: 'path' as const }),
      seenBy: ['conntrack', 'ss'],
    };
  }
  return flows;
}

class NullStdout extends EventEmitter {
  readonly isTTY = true;
  columns = 120;
  rows = 40;
  onWrite: (() => void) | undefined;
  onSettled: (() => void) | undefined;
  write = (data: string): boolean => {
    const w = this.onWrite;
    this.onWrite = undefined;
    w?.();
    if (this.onSettled && !data.includes('updating…')) {
      const s = this.onSettled;
      this.onSettled = undefined;
      s();
    }
    return true;
  };
}

class QuietStdin extends EventEmitter {
  readonly isTTY = true;
  private queue: string[] = [];
  push(data: string): void {
    this.queue.push(data);
    this.emit('readable');
  }
  read = (): string | null => this.queue.shift() ?? null;
  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : Math.round(s[Math.floor(s.length / 2)]! * 100) / 100;
}

/** Renders the app on a synthetic `flows`-flow diagnosis and measures the median time per frame. */
export async function benchUiFrame(flows = 100_000): Promise<UiFrameBenchResult> {
  // Every diagnosis is a new array in which one flow in ten is a new object (as a re-run analysis would
  // update the active ones); making all 100,000 anew per frame would measure the garbage collector instead.
  const base = syntheticFlows(flows);
  const diagnosisAt = (k: number): Diagnosis => {
    const next = base.slice();
    for (let i = k % 10; i < next.length; i += 10)
      next[i] = { ...next[i]!, idleSec: (next[i]!.idleSec ?? 0) + k };
    return {
      at: 1_700_000_000_000 + k * 1000,
      findings: [],
      predictions: [],
      suggestions: [],
      flows: next,
    };
  };
  const feed: FeedItem[] = [];
  const snapshot = (k: number, d: Diagnosis): SessionSnapshot => {
    feed.push({ t: 1_700_000_000_000 + k, kind: 'reset', text: `RST ${k}`, src: 'bench' });
    return {
      mode: 'live',
      diagnosis: d,
      feed: feed.slice(-2000),
      sources: [{ id: 'bench', state: 'running', records: k, rate: 10_000, lost: 0 }],
      missing: [],
      paused: false,
      applied: [],
      issues: 0,
    };
  };
  let current = snapshot(0, diagnosisAt(0));
  const listeners = new Set<() => void>();
  const store: SessionStore = {
    getSnapshot: () => current,
    subscribe: (l) => (listeners.add(l), () => listeners.delete(l)),
    dispatch: (_c: SessionCommand) => {},
  };
  const stdout = new NullStdout();
  const stdin = new QuietStdin();
  const firstFrame = new Promise<void>((r) => (stdout.onWrite = r));
  const done = renderApp(store, {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    throttleMs: 0,
    debug: true,
  });
  await firstFrame;

  const wall: number[] = [];
  // CPU time of this process, not wall time: on a shared, loaded machine wall time measures the neighbours.
  const frame = async (change: () => void): Promise<number> => {
    const written = new Promise<void>((r) => (stdout.onWrite = r));
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    change();
    await written;
    const c = process.cpuUsage(c0);
    wall.push(performance.now() - t0);
    return (c.user + c.system) / 1000;
  };
  const FRAMES = 20;
  const diag: number[] = [];
  const settle: number[] = [];
  const feedOnly: number[] = [];
  const keys: number[] = [];
  for (let k = 1; k <= FRAMES + 3; k++) {
    // The new diagnosis is built before the clock starts: making it is analysis work, not UI work.
    const next = snapshot(k, diagnosisAt(k));
    const settled = new Promise<void>((r) => (stdout.onSettled = r));
    const c0 = process.cpuUsage();
    const t = await frame(() => {
      current = next;
      for (const l of listeners) l();
    });
    await settled;
    const c = process.cpuUsage(c0);
    if (k > 3) {
      diag.push(t);
      settle.push((c.user + c.system) / 1000);
    }
  }
  for (let k = 0; k < FRAMES; k++) {
    const next = snapshot(1000 + k, current.diagnosis);
    feedOnly.push(
      await frame(() => {
        current = next;
        for (const l of listeners) l();
      }),
    );
    keys.push(await frame(() => stdin.push('\u001B[B')));
  }
  stdin.push('q');
  await done;
  return {
    flows,
    msPerFrame: median(diag),
    frames: diag.length,
    msPerFeedFrame: median(feedOnly),
    msPerKeyFrame: median(keys),
    msToSorted: median(settle),
    wallMsPerFrame: median(wall.slice(3, 3 + diag.length)),
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const n = Number(process.argv[2] ?? 100_000);
  const result = await benchUiFrame(Number.isFinite(n) && n > 0 ? n : 100_000);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

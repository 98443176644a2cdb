// Runs one benchmark figure in this (fresh) process and prints its `RESULT {json}` line:
//   node [--expose-gc] dist/bench/worker.js NAME
import { pathToFileURL } from 'node:url';
import { emitResult, type FigureResult } from './lib.js';

/** The figures by name, in the order bench/run.ts runs them; `root` ones need root and namespaces. */
export const FIGURES: ReadonlyArray<{
  name: string;
  root: boolean;
  timeoutMs: number;
  nodeArgs: readonly string[];
  title: string;
}> = [
  {
    name: 'startup',
    root: false,
    timeoutMs: 180_000,
    nodeArgs: [],
    title: 'Start-up (`--version`, `--help`)',
  },
  {
    name: 'parse',
    root: false,
    timeoutMs: 300_000,
    nodeArgs: ['--expose-gc'],
    title: 'Parsing alone (conntrack entries/s)',
  },
  {
    name: 'replay',
    root: false,
    timeoutMs: 600_000,
    nodeArgs: ['--expose-gc'],
    title: 'Replay (records/s)',
  },
  {
    name: 'memory',
    root: false,
    timeoutMs: 600_000,
    nodeArgs: ['--expose-gc', '--max-old-space-size=4096'],
    title: 'Memory, 1,000,000 flows (RSS)',
  },
  {
    name: 'stream',
    root: false,
    timeoutMs: 300_000,
    nodeArgs: ['--expose-gc'],
    title: 'Streaming memory, 1,000,000 events (RSS)',
  },
  { name: 'ui', root: false, timeoutMs: 300_000, nodeArgs: [], title: 'TUI frame, 100,000 flows' },
  {
    name: 'snapshot',
    root: true,
    timeoutMs: 900_000,
    nodeArgs: [],
    title: 'Conntrack snapshot (≥100,000 entries)',
  },
  {
    name: 'overhead',
    root: true,
    timeoutMs: 900_000,
    nodeArgs: [],
    title: 'Probe overhead (throughput with/without trace)',
  },
  {
    name: 'events',
    root: true,
    timeoutMs: 900_000,
    nodeArgs: [],
    title: 'Event rate without loss',
  },
  { name: 'ready', root: true, timeoutMs: 600_000, nodeArgs: [], title: 'Trace ready' },
  { name: 'tracemem', root: true, timeoutMs: 600_000, nodeArgs: [], title: 'Trace memory' },
  {
    name: 'metrics',
    root: false,
    timeoutMs: 300_000,
    nodeArgs: ['--expose-gc'],
    title: 'Metrics exporter scrape, 100,000 flows',
  },
  {
    name: 'checkbig',
    root: true,
    timeoutMs: 1_800_000,
    nodeArgs: [],
    title: 'kdiag check, 1,000,000-entry table',
  },
  { name: 'uifirst', root: true, timeoutMs: 600_000, nodeArgs: [], title: 'TUI first frame' },
  { name: 'tracecost', root: true, timeoutMs: 600_000, nodeArgs: [], title: 'Trace cost (CPU)' },
];

async function runFigure(name: string): Promise<FigureResult> {
  switch (name) {
    case 'parse':
      return (await import('./offline.js')).figParse();
    case 'memory':
      return (await import('./offline.js')).figMemory();
    case 'stream':
      return (await import('./stream-memory.js')).figStreamMemory();
    case 'replay':
      return (await import('./offline.js')).figReplay();
    case 'startup':
      return (await import('./offline.js')).figStartup();
    case 'ui':
      return (await import('./offline.js')).figUi();
    case 'snapshot':
      return (await import('./live.js')).figSnapshot();
    case 'overhead':
      return (await import('./live.js')).figOverhead();
    case 'events':
      return (await import('./live.js')).figEvents();
    case 'ready':
      return (await import('./trace-ready.js')).figReady();
    case 'tracemem':
      return (await import('./trace-ready.js')).figTraceMemory();
    case 'metrics':
      return (await import('./metrics-exporter.js')).figMetricsExporter();
    case 'checkbig':
      return (await import('./check-big.js')).figCheckBig();
    case 'uifirst':
      return (await import('./ui-first-frame.js')).figUiFirstFrame();
    case 'tracecost':
      return (await import('./trace-cost.js')).figTraceCost();
    default:
      throw new Error(`unknown figure ${name}`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const name = process.argv[2] ?? '';
  runFigure(name).then(
    (r) => {
      emitResult(r);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(
        `figure ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      process.exit(1);
    },
  );
}

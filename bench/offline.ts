// The figures that need no root: parsing, memory, replay, start-up and the TUI frame. Each returns
// one FigureResult; bench/worker.ts runs one per child process.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { diagnose } from '../src/engine/diagnose.js';
import { FlowTable } from '../src/model/flow-table.js';
import { parseConntrackEntryLine, parseConntrackList } from '../src/parse/conntrack-entry.js';
import { openFixture } from '../src/record/fixture-reader.js';
import { analyzeInput } from '../src/services/analyze-input.js';
import { Decoder } from '../src/engine/decoder.js';
import { fmt, fullGc, loadNow, mb, median, progress, type FigureResult } from './lib.js';
import { generateConntrackExtendedLines } from './parse-conntrack.js';
import { writeRecording } from './recording.js';
import { replayFloor } from './replay-floor.js';
import { benchUiFrame } from './ui-frame.js';

/** Parsing alone: parseConntrackEntryLine over 1,000,000 generated `-o extended,id` lines, N runs. */
export async function figParse(runs = 5, entries = 1_000_000): Promise<FigureResult> {
  progress(`generating ${entries.toLocaleString('en-US')} lines (not timed)`);
  const lines = generateConntrackExtendedLines(entries);
  const procLines = lines.map((l) =>
    l.replace(/ id=\d+$/, '').replace(' mark=0 ', ' mark=0 zone=0 '),
  );
  for (let i = 0; i < 50_000; i++) parseConntrackEntryLine(lines[i % entries]!);
  // Generating the input leaves ~1 GB of garbage; without a full GC first the timed loop pays for
  // the generator's leftovers in every minor GC (~20% of the figure), not for parsing.
  fullGc();
  const wall: number[] = [];
  const cpu: number[] = [];
  const loop = (ls: string[]): { s: number; c: number } => {
    let rows = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < ls.length; i++) if (parseConntrackEntryLine(ls[i]!).kind === 'row') rows++;
    const s = (performance.now() - t0) / 1000;
    const cu = process.cpuUsage(c0);
    if (rows !== ls.length) throw new Error(`parse bench: ${ls.length - rows} lines did not parse`);
    return { s, c: (cu.user + cu.system) / 1e6 };
  };
  for (let r = 0; r < runs; r++) {
    const { s, c } = loop(lines);
    wall.push(entries / s);
    cpu.push(entries / c);
    progress(
      `run ${r + 1}/${runs}: ${fmt(entries / s)} entries/s wall, ${fmt(entries / c)}/s CPU (load ${loadNow()})`,
    );
  }
  const procRates: number[] = [];
  for (let r = 0; r < 3; r++) procRates.push(entries / loop(procLines).s);
  const text = lines.join('\n');
  const t1 = performance.now();
  const list = parseConntrackList(text);
  const listRate = entries / ((performance.now() - t1) / 1000);
  if (list.value.length !== entries) throw new Error('parseConntrackList lost rows');
  const m = median(wall);
  return {
    figure: 'Parsing alone (conntrack entries/s)',
    kdiag: `${fmt(m)} entries/s`,
    baseline: '—',
    ratio: `${fmt(m / 1e6)}× of target`,
    target: '≥ 1,000,000/s',
    pass: m >= 1_000_000,
    how: `parseConntrackEntryLine over ${entries.toLocaleString('en-US')} generated, distinct \`conntrack -L -o extended,id\` lines (60% tcp ESTABLISHED, 20% TIME_WAIT, 20% udp), one core, after warm-up and a full GC of the generator's garbage; median of ${runs} runs, wall clock`,
    details: [
      `per run, wall entries/s: ${wall.map(fmt).join(', ')}`,
      `per run, CPU-time entries/s (what one core does whatever the neighbours): ${cpu.map(fmt).join(', ')}; median ${fmt(median(cpu))}`,
      `/proc/net/nf_conntrack format (what kdiag reads when present), median of 3: ${fmt(median(procRates))} entries/s`,
      `parseConntrackList on the joined text (split + parse + issues), 1 run: ${fmt(listRate)} entries/s`,
    ],
  };
}

/** Memory: RSS with 1,000,000 flows in the FlowTable (fed through the Decoder), then after analyze(). */
export async function figMemory(flows = 1_000_000): Promise<FigureResult> {
  const collect = (): void => {
    fullGc();
    fullGc();
  };
  collect();
  const base = process.memoryUsage();
  const table = new FlowTable();
  const pipeline = new Decoder((o) => table.apply(o));
  const src = 'procfs:nf_conntrack@bench';
  const t = 1_795_400_000_000;
  pipeline.push({
    rec: { t, src, line: 'cat /proc/net/nf_conntrack', k: 'begin' },
    file: 'bench',
    line: 0,
  });
  const CHUNK = 50_000;
  const t0 = performance.now();
  for (let start = 0; start < flows; start += CHUNK) {
    // Generated in chunks so the input text is not part of the figure; the lines are what /proc prints.
    const lines = generateLinesFrom(start, Math.min(CHUNK, flows - start));
    for (let i = 0; i < lines.length; i++)
      pipeline.push({ rec: { t, src, line: lines[i]! }, file: 'bench', line: start + i + 1 });
  }
  pipeline.push({ rec: { t, src, line: 'exit 0', k: 'end' }, file: 'bench', line: flows + 1 });
  const feedS = (performance.now() - t0) / 1000;
  // table.size, not a walk over flows(): the walk would make a Flow object per row, which nothing
  // in a real run asks for all at once.
  const count = table.size;
  collect();
  const afterFeed = process.memoryUsage();
  progress(
    `table holds ${count.toLocaleString('en-US')} flows: RSS ${mb(afterFeed.rss)}, heap ${mb(afterFeed.heapUsed)}`,
  );
  const peakBefore = process.resourceUsage().maxRSS * 1024;
  const t1 = performance.now();
  const d = diagnose(table, {});
  const analyzeS = (performance.now() - t1) / 1000;
  const peak = process.resourceUsage().maxRSS * 1024;
  const rssAfterAnalyze = process.memoryUsage().rss;
  collect();
  const settled = process.memoryUsage();
  progress(
    `analyze(): ${analyzeS.toFixed(1)} s, peak RSS ${mb(peak)}, RSS after ${mb(rssAfterAnalyze)}`,
  );
  const ok = afterFeed.rss <= 600 * 1024 ** 2 && peak <= 600 * 1024 ** 2;
  return {
    figure: 'Memory, 1,000,000 flows (RSS)',
    kdiag: `${mb(afterFeed.rss)} model; ${mb(peak)} peak (feed + analyze)`,
    baseline: `${mb(base.rss)} (empty process)`,
    ratio: `${fmt(afterFeed.rss / (600 * 1024 ** 2))} / ${fmt(peak / (600 * 1024 ** 2))} of 600 MB`,
    target: '≤ 600 MB',
    pass: ok,
    how: `FlowTable fed ${flows.toLocaleString('en-US')} conntrack-entry observations through the Decoder (one /proc/net/nf_conntrack snapshot, distinct DNAT'ed flows), RSS after two forced GCs; then analyze(table): peak RSS from getrusage maxRSS; own process (--expose-gc), 1 run (deterministic input)`,
    details: [
      `flows in the table: ${count.toLocaleString('en-US')}; feeding took ${feedS.toFixed(1)} s (${fmt(flows / feedS)} entries/s incl. line generation)`,
      `after feeding: RSS ${mb(afterFeed.rss)}, heapUsed ${mb(afterFeed.heapUsed)}, external ${mb(afterFeed.external)}; per flow ≈ ${fmt((afterFeed.heapUsed - base.heapUsed) / flows)} B of heap`,
      `peak RSS before analyze(): ${mb(peakBefore)}; analyze(): ${analyzeS.toFixed(1)} s, peak RSS ${mb(peak)}, RSS right after ${mb(rssAfterAnalyze)}, after GC ${mb(settled.rss)} (heapUsed ${mb(settled.heapUsed)})`,
      `diagnosis: ${d.findings.length} findings, ${d.predictions.length} predictions, ${d.flows.length} flow views`,
    ],
  };
}

function generateLinesFrom(start: number, n: number): string[] {
  const out = new Array<string>(n);
  for (let j = 0; j < n; j++) {
    const i = start + j;
    const client = `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
    const sport = 1024 + (i % 60000);
    const backend = `10.244.${(i >>> 4) & 255}.${(i % 14) + 2}`;
    const vip = `10.96.${(i >>> 10) & 255}.${(i % 200) + 10}`;
    out[j] =
      `ipv4     2 tcp      6 ${431000 + (i % 999)} ESTABLISHED src=${client} dst=${vip} sport=${sport} dport=80 packets=${(i % 97) + 3} bytes=${(i % 9973) + 180} src=${backend} dst=${client} sport=8080 dport=${sport} packets=${(i % 89) + 2} bytes=${(i % 8779) + 120} [ASSURED] mark=0 zone=0 use=2`;
  }
  return out.join('\n').split('\n');
}

interface StageCost {
  readonly wall: number;
  readonly cpu: number;
  /** Main-thread GC pauses (s). */
  readonly gc: number;
}

/** Wall, CPU and GC-pause seconds of one call. */
async function costOf(f: () => Promise<unknown>): Promise<StageCost> {
  // Each measured call starts from a collected heap: what an earlier one left is not its cost.
  fullGc();
  let gc = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gc += e.duration;
  });
  obs.observe({ entryTypes: ['gc'] });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await f();
  const wall = (performance.now() - t0) / 1000;
  const cu = process.cpuUsage(c0);
  // Entries are delivered asynchronously, after a call that never yielded only on the second turn
  // of the loop (one turn delivered none of them: a synchronous stage read as 0 s of GC).
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  obs.disconnect();
  return { wall, cpu: (cu.user + cu.system) / 1e6, gc: gc / 1000 };
}

/**
 * Where a replay's time goes: the same recording read only, read and parsed (observations made and
 * dropped), read, parsed and modelled. What analyzeInput adds beyond the last is summary and analyze().
 */
async function replayStages(
  path: string,
): Promise<Record<'read' | 'parse' | 'model' | 'modelAlone' | 'analyze', StageCost>> {
  const feed = async (
    sink: ((o: Parameters<FlowTable['apply']>[0]) => void) | undefined,
  ): Promise<void> => {
    const fx = await openFixture(path);
    const pipeline = sink ? new Decoder(sink) : undefined;
    for await (const c of fx.columns) {
      if (!pipeline) continue;
      for (let i = 0; i < c.count; i++)
        pipeline.pushRecord(c.t[i]!, c.src[i]!, c.line[i]!, c.k[i], c.file, c.no[i]!);
    }
    pipeline?.finish();
  };
  const read = await costOf(() => feed(undefined));
  const parse = await costOf(() => feed(() => {}));
  const table = new FlowTable();
  const model = await costOf(() => feed((o) => table.apply(o)));
  // analyze() and suggestions on the table just built: the share of a replay after its last record.
  const analyze = await costOf(async () => diagnose(table, {}));
  // The model on its own: every observation parsed beforehand (not timed) and held in memory, as it
  // would arrive on a core of its own if reading and parsing ran on the other one for free.
  const observations: Parameters<FlowTable['apply']>[0][] = [];
  await feed((o) => observations.push(o));
  const alone = new FlowTable();
  const modelAlone = await costOf(async () => {
    for (let i = 0; i < observations.length; i++) alone.apply(observations[i]!);
  });
  observations.length = 0;
  return { read, parse, model, modelAlone, analyze };
}

/** Replay: analyzeInput on a 1,000,000-record recording made with the fixture writer, N runs. */
export async function figReplay(runs = 3, records = 1_000_000): Promise<FigureResult> {
  const dir = await mkdtemp(join(tmpdir(), 'kdiag-bench-replay-'));
  try {
    const path = join(dir, 'replay.ndjson');
    progress(`writing a ${records.toLocaleString('en-US')}-record recording (not timed)`);
    const stats = await writeRecording(path, records);
    const rates: number[] = [];
    const costs: StageCost[] = [];
    let last: Awaited<ReturnType<typeof analyzeInput>> | undefined;
    for (let r = 0; r < runs; r++) {
      const cost = await costOf(async () => {
        last = await analyzeInput(path);
      });
      const n = last!.records;
      costs.push(cost);
      rates.push(n / cost.wall);
      progress(
        `run ${r + 1}/${runs}: ${n.toLocaleString('en-US')} records in ${cost.wall.toFixed(2)} s = ${fmt(n / cost.wall)}/s (load ${loadNow()})`,
      );
    }
    const found = `${last?.issueCount ?? 0} parse issues, ${last?.diagnosis.findings.length ?? 0} findings, ${last?.summary.conntrackEvents.NEW ?? 0} NEW events`;
    last = undefined;
    progress(
      'the same recording by stages: read only, read + parse, read + parse + model (one run each)',
    );
    const st = await replayStages(path);
    progress(
      'the limits on this machine: cutting the file into lines, and one JS read of every byte (5 runs each)',
    );
    const fl = await replayFloor(path);
    // The run in the middle by wall time (for an odd count, the one the median rate is from).
    const full = [...costs].sort((a, b) => a.wall - b.wall)[Math.floor(costs.length / 2)]!;
    const sec = (c: StageCost): string =>
      `${c.wall.toFixed(2)} s (CPU ${c.cpu.toFixed(2)} s, GC pauses ${c.gc.toFixed(2)} s)`;
    const m = median(rates);
    const mix = Object.entries(stats.bySource)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${((v / stats.records) * 100).toFixed(1)}%`)
      .join(', ');
    return {
      figure: 'Replay (records/s)',
      kdiag: `${fmt(m)} records/s`,
      baseline: '—',
      ratio: `${fmt(m / 500_000)}× of target`,
      target: '≥ 500,000/s',
      pass: m >= 500_000,
      how: `analyzeInput(recording) — read, validate, pipeline, FlowTable, summary, analyze() — on ${stats.records.toLocaleString('en-US')} records written by createFixtureWriter; median of ${runs} runs, wall clock`,
      details: [
        `per run records/s: ${rates.map(fmt).join(', ')}`,
        `recording mix: ${mix}`,
        `last run: ${found}`,
        `by stages, wall (CPU counts both cores; GC = main-thread pauses): read + envelope ${sec(st.read)}; + parse ${sec(st.parse)}; + model ${sec(st.model)}; whole analyzeInput ${sec(full)}; of which diagnose() (analysis and suggestions) on the modelled table ${sec(st.analyze)}`,
        `the model alone, every observation parsed beforehand and in memory: ${sec(st.modelAlone)}. Reading and parsing on one core while the model runs on the other, with a hand-over that costs nothing, would still take at least ${Math.max(st.parse.wall, st.modelAlone.wall).toFixed(2)} s = ${fmt(stats.records / Math.max(st.parse.wall, st.modelAlone.wall))} records/s before summary and analyze()`,
        `limits of this machine for this file (${fl.lines.toLocaleString('en-US')} lines, ${mb(fl.bytes)}), median of 5: reading it and cutting it into lines (kdiag's line reader) ${fl.cutSec.toFixed(2)} s = ${fmt(fl.lines / fl.cutSec)} lines/s; the same plus one JS read of every byte (a digit fold, the least any parser does) ${fl.touchSec.toFixed(2)} s = ${fmt(fl.lines / fl.touchSec)} lines/s. The whole replay takes ${fmt(full.wall / fl.touchSec, 2)}× that one pass; the target allows ${fmt(fl.lines / 500_000 / fl.touchSec, 2)}×`,
      ],
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function repoRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return here.includes(join('dist', 'bench')) ? join(here, '..', '..') : join(here, '..');
}

/** Start-up: `kdiag --version` and `--help` against `node -e 0`, N wall-clock runs each, interleaved. */
export async function figStartup(runs = 20): Promise<FigureResult> {
  const bin = join(repoRoot(), 'bin', 'kdiag.js');
  const cmds: Record<string, string[]> = {
    node: ['-e', '0'],
    version: [bin, '--version'],
    help: [bin, '--help'],
  };
  const times: Record<string, number[]> = { node: [], version: [], help: [] };
  for (let r = 0; r < runs + 2; r++) {
    for (const [k, args] of Object.entries(cmds)) {
      const t0 = performance.now();
      const res = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      const ms = performance.now() - t0;
      if (res.status !== 0)
        throw new Error(`${k} exited ${res.status}: ${String(res.stderr).slice(0, 200)}`);
      if (r >= 2) times[k]!.push(ms);
    }
  }
  const n = median(times.node!);
  const v = median(times.version!);
  const h = median(times.help!);
  // ink or react loaded for --help would mean the TUI is imported by a command that draws nothing.
  const heavy = inkLoaded(bin);
  const worst = Math.max(v, h) / n;
  return {
    figure: 'Start-up (`--version`, `--help`)',
    kdiag: `--version ${fmt(v)} ms, --help ${fmt(h)} ms`,
    baseline: `node -e 0: ${fmt(n)} ms`,
    ratio: `${fmt(v / n)}× / ${fmt(h / n)}×`,
    target: '≤ 2×',
    pass: worst <= 2 && !heavy,
    how: `wall clock of spawnSync(node, …) per run, the three commands interleaved, 2 warm-up rounds then median of ${runs}`,
    details: [
      `node -e 0 ms: ${times.node!.map((x) => x.toFixed(1)).join(' ')}`,
      `kdiag --version ms: ${times.version!.map((x) => x.toFixed(1)).join(' ')}`,
      `kdiag --help ms: ${times.help!.map((x) => x.toFixed(1)).join(' ')}`,
      `ink/react loaded by --help: ${heavy ? 'YES' : 'no'} (checked with a module-load hook)`,
    ],
  };
}

/**
 * True when running `kdiag --help` loads ink or react: their modules, or the bundle's ui.js that
 * holds them (scripts/bundle.mjs); checked through a loader hook that logs resolutions.
 */
function inkLoaded(bin: string): boolean {
  const hook = `data:text/javascript,${encodeURIComponent(
    `export async function resolve(s, c, next) { const r = await next(s, c); if (/node_modules\\/(ink|react)\\/|\\/dist\\/src\\/bundle\\/ui\\.js$/.test(r.url)) process.stderr.write('HEAVY ' + r.url + '\\n'); return r; }`,
  )}`;
  const reg = `data:text/javascript,${encodeURIComponent(`import { register } from 'node:module'; register(${JSON.stringify(hook)});`)}`;
  const r = spawnSync(process.execPath, ['--import', reg, bin, '--help'], { encoding: 'utf8' });
  return r.stderr.includes('HEAVY ');
}

/** TUI frame time with 100,000 flows (bench/ui-frame.ts: median of 20 frames). */
export async function figUi(flows = 100_000, runs = 3): Promise<FigureResult> {
  const rs = [];
  for (let r = 0; r < runs; r++) {
    const x = await benchUiFrame(flows);
    rs.push(x);
    progress(
      `run ${r + 1}/${runs}: ${x.msPerFrame} ms CPU per frame, ${x.wallMsPerFrame} ms wall (load ${loadNow()})`,
    );
  }
  const m = median(rs.map((x) => x.msPerFrame));
  return {
    figure: 'TUI frame, 100,000 flows',
    kdiag: `${fmt(m)} ms/frame`,
    baseline: '—',
    ratio: `${fmt(m / 30)} of budget`,
    target: '< 30 ms',
    pass: m < 30,
    how: `bench/ui-frame.ts: the real app (renderApp) on an in-memory store, a new Diagnosis per frame (1 flow in 10 new); CPU ms from store update to frame written, median of 20 frames per run; median of ${runs} runs`,
    details: [
      `per run CPU ms/frame: ${rs.map((x) => x.msPerFrame).join(', ')}; wall ms/frame: ${rs.map((x) => x.wallMsPerFrame).join(', ')}`,
      `feed-only frame ${median(rs.map((x) => x.msPerFeedFrame))} ms, key-press frame ${median(rs.map((x) => x.msPerKeyFrame))} ms, until re-sorted ${median(rs.map((x) => x.msToSorted))} ms (CPU, medians)`,
    ],
  };
}

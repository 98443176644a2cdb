// kdiag trace's start and weight: how long until its probes are attached, beside bpftrace alone on
// the same program and on empty probes of the same tracepoints; and the memory of kdiag and its
// children while tracing a 100,000-entry conntrack table.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { spawn } from 'node:child_process';
import { mergeProbePrograms } from '../src/parse/probes/program-merge.js';
import { templateProbe } from '../src/sources/bpftrace-source.js';
import { DEFAULT_PROBES, probesDir } from '../src/services/trace-command.js';
import { run } from '../src/host/exec.js';
import { ctNamespace } from './bench-net.js';
import { childrenOf, fillTable, startTrace } from './live.js';
import { fmt, loadNow, median, procStat, progress, type FigureResult } from './lib.js';

/** CPU ms (user + system) a process has used so far, from /proc/<pid>/stat; undefined once gone. */
function cpuMsOf(pid: number | undefined): number | undefined {
  return procStat(pid)?.ownMs;
}

/** The first bpftrace among pid's descendants. */
function bpftraceUnder(pid: number): number | undefined {
  for (const kid of childrenOf(pid)) {
    try {
      if (readFileSync(`/proc/${kid}/comm`, 'utf8').trim() === 'bpftrace') return kid;
    } catch {
      continue;
    }
    const deeper = bpftraceUnder(kid);
    if (deeper !== undefined) return deeper;
  }
  return undefined;
}

/** One start: wall ms to attached, and the CPU ms bpftrace had used by then (load-proof). */
interface ReadyRun {
  readonly ms: number;
  readonly bpftraceCpuMs: number | undefined;
}

/** From spawning `bpftrace -f json -` with `program` on stdin to its attached_probes line. */
function bpftraceReady(program: string): Promise<ReadyRun> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const c = spawn('bpftrace', ['-B', 'line', '-f', 'json', '-'], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    let out = '';
    let ready: ReadyRun | undefined;
    c.stdout.setEncoding('utf8');
    c.stdout.on('data', (d: string) => {
      out += d;
      if (ready === undefined && out.includes('"attached_probes"')) {
        ready = { ms: performance.now() - t0, bpftraceCpuMs: cpuMsOf(c.pid) };
        c.kill('SIGINT');
        setTimeout(() => c.kill('SIGKILL'), 3000).unref();
      }
    });
    c.on('close', () =>
      ready === undefined ? reject(new Error('bpftrace exited before attaching')) : resolve(ready),
    );
    c.stdin.end(program);
  });
}

/** From spawning `kdiag trace --json` (default probes, host) to its "Tracing" status line. */
async function kdiagReady(netns: string): Promise<ReadyRun> {
  const t0 = performance.now();
  const tr = startTrace(netns);
  const ok = await tr.ready;
  const ms = performance.now() - t0;
  const bt = tr.pid === undefined ? undefined : bpftraceUnder(tr.pid);
  const bpftraceCpuMs = cpuMsOf(bt);
  await tr.stop();
  if (!ok) throw new Error('kdiag trace did not report Tracing');
  return { ms, bpftraceCpuMs };
}

/** The attach lines of a program with empty bodies: what attaching alone costs bpftrace. */
function emptyProbes(program: string): string {
  const heads = program.match(/^tracepoint:\S+/gm) ?? [];
  return heads.map((h) => `${h} {}`).join('\n') + '\n';
}

export async function figReady(rounds = 3): Promise<FigureResult> {
  const parts = [];
  for (const id of DEFAULT_PROBES)
    parts.push({ id, program: (await templateProbe(id, { probesDir: probesDir() })).program });
  const merged = mergeProbePrograms(parts).program;
  const empty = emptyProbes(merged);
  const ns = await ctNamespace();
  const kd: ReadyRun[] = [];
  const bt: ReadyRun[] = [];
  const bare: ReadyRun[] = [];
  const loads: string[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      // side by side: the three in turn, order rotating, so the machine's load hits them alike
      const order = [0, 1, 2].map((i) => (i + r) % 3);
      for (const which of order) {
        loads.push(loadNow());
        if (which === 0) kd.push(await kdiagReady(ns.name));
        else if (which === 1) bt.push(await bpftraceReady(merged));
        else bare.push(await bpftraceReady(empty));
      }
      progress(
        `round ${r + 1}: kdiag ${fmt(kd.at(-1)!.ms)} ms, bpftrace ${fmt(bt.at(-1)!.ms)} ms, empty ${fmt(bare.at(-1)!.ms)} ms`,
      );
    }
  } finally {
    await ns.down();
  }
  const k = median(kd.map((x) => x.ms));
  const b = median(bt.map((x) => x.ms));
  const e = median(bare.map((x) => x.ms));
  const r1 = k / b;
  const r2 = k / e;
  const cpu = (runs: readonly ReadyRun[]): string =>
    runs.map((x) => (x.bpftraceCpuMs === undefined ? '?' : fmt(x.bpftraceCpuMs))).join(', ');
  const cpuMedian = (runs: readonly ReadyRun[]): number | undefined => {
    const xs = runs.flatMap((x) => (x.bpftraceCpuMs === undefined ? [] : [x.bpftraceCpuMs]));
    return xs.length === 0 ? undefined : median(xs);
  };
  const kc = cpuMedian(kd);
  const ec = cpuMedian(bare);
  // CPU time does not grow with the machine's load the way wall time does: the ratio of the
  // compile's CPU to the empty probes' CPU says what the probe bodies cost on an idle machine.
  const cpuRatio =
    kc !== undefined && ec !== undefined && ec > 0
      ? `; bpftrace CPU inside kdiag / empty probes: ${fmt(kc / ec)}×`
      : '';
  return {
    figure: 'Trace ready (probes attached)',
    kdiag: `${fmt(k)} ms`,
    baseline: `bpftrace, same program: ${fmt(b)} ms; empty probes: ${fmt(e)} ms`,
    ratio: `${fmt(r1)}× / ${fmt(r2)}×`,
    target: '≤ 1.5× / ≤ 5×',
    pass: r1 <= 1.5 && r2 <= 5,
    how: `kdiag = spawn of \`node bin/kdiag.js trace --json --netns NS\` (default probes ${DEFAULT_PROBES.join(', ')}; NS an empty netns) to its "Tracing" status (all probes attached; includes node start-up, the snapshot sources' set-up and templating); bpftrace = \`bpftrace -B line -f json -\` given the same templated merged program (${merged.length} bytes, ${argsReads(merged)} tracepoint field reads), to its attached_probes line; empty = the same ${empty.split('\n').length - 1} tracepoints with empty bodies; ${rounds} rounds, the three in rotating order, medians; bpftrace CPU = its user + system time at attach (/proc/<pid>/stat)`,
    details: [
      `kdiag ms: ${kd.map((x) => fmt(x.ms)).join(', ')}`,
      `bpftrace same program ms: ${bt.map((x) => fmt(x.ms)).join(', ')}`,
      `bpftrace empty probes ms: ${bare.map((x) => fmt(x.ms)).join(', ')}`,
      `bpftrace CPU ms at attach — inside kdiag: ${cpu(kd)}; same program alone: ${cpu(bt)}; empty probes: ${cpu(bare)}${cpuRatio}`,
      `1-min load average before each run: ${loads.join(', ')}`,
    ],
  };
}

/**
 * How many `args->` the program holds: bpftrace 0.17 re-reads the kernel's available_events list
 * about 20 times for each while compiling, the largest part of its compile time here.
 */
function argsReads(program: string): number {
  return (
    program
      .split('\n')
      .filter((l) => !l.trimStart().startsWith('//'))
      .join('\n')
      .split('args->').length - 1
  );
}

/** RSS (kB) of pid and every descendant. */
function treeRssKb(pid: number): { kb: number; procs: string[] } {
  let kb = 0;
  const procs: string[] = [];
  const visit = (p: number): void => {
    try {
      const st = readFileSync(`/proc/${p}/status`, 'utf8');
      const rss = Number(/VmRSS:\s+(\d+)/.exec(st)?.[1] ?? 0);
      const name = /Name:\s+(\S+)/.exec(st)?.[1] ?? '?';
      kb += rss;
      procs.push(`${name} ${fmt(rss / 1024)} MB`);
    } catch {
      return;
    }
    for (const c of childrenOf(p)) visit(c);
  };
  visit(pid);
  return { kb, procs };
}

export async function figTraceMemory(entries = 100_000, watchMs = 20_000): Promise<FigureResult> {
  const ns = await ctNamespace();
  const dir = await mkdtemp(join(tmpdir(), 'kdiag-bench-mem-'));
  try {
    const max = Number(
      (
        await run(['sysctl', '-n', 'net.netfilter.nf_conntrack_max'], { netns: ns.name })
      ).stdout.trim(),
    );
    const count = await fillTable(ns.name, Math.min(entries, max - 1000), dir, max);
    progress(`table holds ${count.toLocaleString('en-US')} entries; starting kdiag trace`);
    const tr = startTrace(ns.name);
    let peak = { kb: 0, procs: [] as string[] };
    try {
      if (!(await tr.ready)) throw new Error('kdiag trace did not report Tracing');
      // several snapshot rounds (2 s interval) of the table, sampled every 500 ms
      for (let waited = 0; waited < watchMs; waited += 500) {
        const now = treeRssKb(tr.pid!);
        if (now.kb > peak.kb) peak = now;
        await new Promise((r) => setTimeout(r, 500));
      }
    } finally {
      await tr.stop();
    }
    const mbPeak = peak.kb / 1024;
    return {
      figure: 'Trace memory, kdiag + children (100,000-entry table)',
      kdiag: `${fmt(mbPeak)} MB`,
      baseline: '—',
      ratio: `${fmt(mbPeak / 250)} of 250 MB`,
      target: '≤ 250 MB',
      pass: mbPeak <= 250,
      how: `\`node bin/kdiag.js trace --json --netns NS\` (default probes, one bpftrace program, conntrack -E, 2 s snapshots) on a netns whose conntrack table holds ${count.toLocaleString('en-US')} real entries (conntrack -R); peak over ${watchMs / 1000} s after attach of the summed VmRSS of kdiag and all its descendants, sampled every 500 ms`,
      details: [
        `at the peak: ${peak.procs.join('; ')}`,
        `1-min load average at the end: ${loadNow()}`,
      ],
    };
  } finally {
    await ns.down();
    await rm(dir, { recursive: true, force: true });
  }
}

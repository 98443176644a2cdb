// The root figures: a real conntrack table snapshot, probe overhead on lab traffic, and the event rate
// kdiag trace keeps up with. Everything runs in private kdiag-bench-* namespaces, removed in finally.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { FlowTable } from '../src/model/flow-table.js';
import { sourceBatches } from '../src/services/check.js';
import { Decoder } from '../src/engine/decoder.js';
import { SummaryCollector } from '../src/engine/summary.js';
import { conntrackListSource, conntrackTableSource } from '../src/sources/conntrack-source.js';
import { run, spawnLines } from '../src/host/exec.js';
import type { SnapshotSource } from '../src/sources/snapshot-source.js';
import { benchLab, ctNamespace, splitPin, type BenchLab } from './bench-net.js';
import { fmt, loadNow, median, procStat, progress, runToNull, type FigureResult } from './lib.js';

function repoRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return here.includes(join('dist', 'bench')) ? join(here, '..', '..') : join(here, '..');
}

// ---------------------------------------------------------------------------------------------
// Conntrack snapshot

/**
 * One `kdiag check --netns` worth of the conntrack table: the table source read through check's own
 * sourceBatches() (the child streamed, parsed while it writes) → Decoder → FlowTable + SummaryCollector,
 * with the batch loop analyzeRecords() runs on check's `batches`.
 */
async function kdiagSnapshot(
  source: SnapshotSource,
): Promise<{ ms: number; flows: number; lines: number }> {
  const t0 = performance.now();
  const table = new FlowTable();
  const summary = new SummaryCollector();
  const pipeline = new Decoder((o) => {
    table.apply(o);
    summary.observe(o);
  });
  let lines = 0;
  for await (const batch of sourceBatches(
    [source],
    new AbortController().signal,
    (_s, n) => (lines = n),
  )) {
    for (let i = 0; i < batch.length; i++) pipeline.push(batch[i]!);
  }
  pipeline.finish();
  const t1 = performance.now();
  let flows = 0;
  for (const _f of table.flows()) flows++;
  if (pipeline.issueCount > 0)
    throw new Error(
      `snapshot bench: ${pipeline.issueCount} parse issues, first: ${JSON.stringify(pipeline.issues[0])}`,
    );
  return { ms: t1 - t0, flows, lines };
}

/** The same read with the records dropped: what reading alone (child + pipe + records) costs. */
async function kdiagReadOnly(source: SnapshotSource): Promise<number> {
  const t0 = performance.now();
  let n = 0;
  for await (const batch of sourceBatches([source], new AbortController().signal))
    n += batch.length;
  if (n < 3) throw new Error('snapshot bench: nothing read');
  return performance.now() - t0;
}

/**
 * Fills the conntrack table of netns `ns` with n DNAT'ed-looking entries (conntrack -R from a file
 * in dir); returns nf_conntrack_count after, and throws below 100,000.
 */
export async function fillTable(ns: string, n: number, dir: string, max: number): Promise<number> {
  // DNAT'ed-looking entries (reply from a backend), as kube-proxy leaves them: 80% tcp ESTABLISHED,
  // 10% TIME_WAIT, 10% udp; ASSURED so early_drop leaves them alone while we read.
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = `10.${1 + ((i >>> 16) & 127)}.${(i >>> 8) & 255}.${i & 255 || 1}`;
    const sp = 1024 + (i % 60000);
    const vip = `10.96.${(i >>> 10) & 63}.${(i % 200) + 10}`;
    const be = `10.244.${(i >>> 4) & 255}.${(i % 14) + 2}`;
    const k = i % 10;
    if (k < 8) {
      lines.push(
        `-I -p tcp -s ${c} -d ${vip} --sport ${sp} --dport 80 -r ${be} -q ${c} --reply-port-src 8080 --reply-port-dst ${sp} --state ${k < 7 ? 'ESTABLISHED' : 'TIME_WAIT'} -u SEEN_REPLY,ASSURED -t 3600`,
      );
    } else {
      lines.push(
        `-I -p udp -s ${c} -d ${vip} --sport ${sp} --dport 53 -r ${be} -q ${c} --reply-port-src 5353 --reply-port-dst ${sp} -u SEEN_REPLY,ASSURED -t 3600`,
      );
    }
  }
  const file = join(dir, 'fill.txt');
  await writeFile(file, `${lines.join('\n')}\n`);
  progress(
    `loading ${n.toLocaleString('en-US')} entries into ${ns} with conntrack -R (nf_conntrack_max=${max}, read-only in a netns)`,
  );
  const fill = await run(['conntrack', '-R', file], {
    netns: ns,
    reject: false,
    timeoutMs: 600_000,
  });
  const count = Number(
    (await run(['sysctl', '-n', 'net.netfilter.nf_conntrack_count'], { netns: ns })).stdout.trim(),
  );
  if (!(count >= 100_000))
    throw new Error(
      `table has ${count} entries after the fill (conntrack -R exit ${fill.exitCode}: ${fill.stderr.slice(-200)})`,
    );
  return count;
}

/** Conntrack snapshot of a real ≥100,000-entry table: kdiag versus `conntrack -L -o extended > /dev/null`. */
export async function figSnapshot(runs = 5, wanted = 120_000): Promise<FigureResult> {
  const ns = await ctNamespace();
  const dir = await mkdtemp(join(tmpdir(), 'kdiag-bench-ct-'));
  try {
    const max = Number(
      (
        await run(['sysctl', '-n', 'net.netfilter.nf_conntrack_max'], { netns: ns.name })
      ).stdout.trim(),
    );
    const n = Math.min(wanted, Number.isFinite(max) && max > 0 ? max - 1000 : wanted);
    const count = await fillTable(ns.name, n, dir, max);
    progress(`table holds ${count.toLocaleString('en-US')} entries`);

    const source = await conntrackTableSource({ netns: ns.name });
    const viaList = conntrackListSource({ netns: ns.name });
    const baseArgv = ['ip', 'netns', 'exec', ns.name, 'conntrack', '-L', '-o', 'extended'];
    const catArgv = ['ip', 'netns', 'exec', ns.name, 'cat', '/proc/net/nf_conntrack'];
    // warm-up: page cache, JIT, the kernel's table walk
    await runToNull(baseArgv);
    await kdiagSnapshot(source);
    const base: number[] = [];
    const kd: number[] = [];
    const kdRead: number[] = [];
    const kdList: number[] = [];
    const cat: number[] = [];
    let flows = 0;
    for (let r = 0; r < runs; r++) {
      const b = await runToNull(baseArgv);
      if (b.code !== 0) throw new Error(`conntrack -L exited ${b.code}`);
      base.push(b.ms);
      const k = await kdiagSnapshot(source);
      kd.push(k.ms);
      kdRead.push(await kdiagReadOnly(source));
      flows = k.flows;
      cat.push((await runToNull(catArgv)).ms);
      kdList.push((await kdiagSnapshot(viaList)).ms);
      progress(
        `run ${r + 1}/${runs}: conntrack -L ${b.ms.toFixed(0)} ms, kdiag ${k.ms.toFixed(0)} ms (reading alone ${kdRead[kdRead.length - 1]!.toFixed(0)}), ${k.flows} flows (load ${loadNow()})`,
      );
    }
    const mb = median(base);
    const mk = median(kd);
    return {
      figure: `Conntrack snapshot (${count.toLocaleString('en-US')} entries)`,
      kdiag: `${fmt(mk)} ms`,
      baseline: `${fmt(mb)} ms`,
      ratio: `${fmt(mk / mb)}`,
      target: '≤ 1.3',
      pass: mk / mb <= 1.3,
      how: `real table in a loopback-only netns (${ns.name}), filled with conntrack -R; kdiag = conntrackTableSource({netns}) read through check's sourceBatches() (streamed: parsed while the child writes) → Decoder → FlowTable + SummaryCollector, as kdiag check --netns does for the table (no other sources, no analyze()); kdiag read it with \`${source.argv.join(' ')}\` inside the netns (source ${source.kind}); baseline = \`ip netns exec NS conntrack -L -o extended > /dev/null\`; alternating, median of ${runs} after one warm-up each`,
      details: [
        `baseline ms: ${base.map((x) => x.toFixed(0)).join(', ')}`,
        `kdiag ms: ${kd.map((x) => x.toFixed(0)).join(', ')} — parsed while read; reading alone (child + pipe + records, nothing parsed) median ${fmt(median(kdRead))} ms; ${flows.toLocaleString('en-US')} flows in the table`,
        `for reference: \`cat /proc/net/nf_conntrack > /dev/null\` in the netns ${fmt(median(cat))} ms; kdiag through \`conntrack -L -o extended,id\` (no procfs) ${fmt(median(kdList))} ms = ${fmt(median(kdList) / mb)}× the baseline`,
      ],
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
    await ns.down();
  }
}

// ---------------------------------------------------------------------------------------------
// kdiag trace as a child

export interface TraceRun {
  readonly pid: number | undefined;
  readonly objects: Record<string, unknown>[];
  readonly ready: Promise<boolean>;
  cpuMs(): number | undefined;
  /** cpuMs() plus the children that still run (bpftrace, conntrack -E). */
  treeCpuMs(): number | undefined;
  stop(): Promise<{
    summary: Record<string, unknown> | undefined;
    stderr: string;
    leftover: number[];
  }>;
}

/** Children of a pid (from /proc), for checking that bpftrace went away with kdiag. */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** CPU ms of pid (user + system) and of its children already waited for. */
function procCpuMs(pid: number | undefined): number | undefined {
  const s = procStat(pid);
  return s === undefined ? undefined : s.ownMs + s.reapedMs;
}

/** CPU ms of pid and of every descendant, living (bpftrace, conntrack -E) or already waited for. */
function treeCpuMs(pid: number | undefined): number | undefined {
  const own = procCpuMs(pid);
  if (pid === undefined || own === undefined) return undefined;
  let sum = own;
  for (const kid of childrenOf(pid)) sum += treeCpuMs(kid) ?? 0;
  return sum;
}

/** Starts `node bin/kdiag.js trace --json --netns NS` (default probes) and waits for nothing; see `ready`. */
export function startTrace(netns: string): TraceRun {
  const abort = new AbortController();
  const bin = join(repoRoot(), 'bin', 'kdiag.js');
  const prof = process.env.KDIAG_BENCH_TRACE_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const sp = spawnLines(['node', ...prof, bin, 'trace', '--json', '--netns', netns], {
    signal: abort.signal,
    killSignal: 'SIGINT',
    forceKillAfterMs: 20_000,
    dieWithParent: true,
  });
  const objects: Record<string, unknown>[] = [];
  let stderr = '';
  let onReady: (ok: boolean) => void = () => {};
  const ready = new Promise<boolean>((resolve) => (onReady = resolve));
  const readyTimer = setTimeout(() => onReady(false), 90_000);
  const pump = (async () => {
    for await (const l of sp.lines) {
      if (l.stream === 'stderr') {
        stderr = (stderr + l.line + '\n').slice(-4000);
        continue;
      }
      // Event lines are most of the output under churn and no figure reads them: parsing each
      // here would take CPU from kdiag itself on a 2-core VM, and keep every object in memory.
      if (l.line.startsWith('{"type":"event"')) continue;
      try {
        const o = JSON.parse(l.line) as Record<string, unknown>;
        objects.push(o);
        if (o.type === 'status' && typeof o.message === 'string' && o.message.startsWith('Tracing'))
          onReady(true);
      } catch {
        // not JSON: ignore
      }
    }
    onReady(false);
  })();
  // setpriv execs node, so the child pid is kdiag's own
  const pid = sp.pid;
  return {
    pid,
    objects,
    ready,
    cpuMs: () => procCpuMs(pid),
    treeCpuMs: () => treeCpuMs(pid),
    async stop() {
      clearTimeout(readyTimer);
      const kids = pid === undefined ? [] : childrenOf(pid);
      abort.abort();
      await sp.exited;
      await pump;
      const leftover = kids.filter((k) => {
        try {
          process.kill(k, 0);
          return true;
        } catch {
          return false;
        }
      });
      for (const k of leftover) {
        try {
          process.kill(k, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
      return { summary: objects.find((o) => o.type === 'summary'), stderr, leftover };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Probe overhead

/**
 * Lab throughput (bulk and ping-pong) with kdiag trace attached versus without. Each round measures
 * off and on back to back (order alternating), and the verdict is the median of the rounds' own
 * on ÷ off ratios: this VM's throughput drifts by ±10% over minutes, which a ratio of two medians
 * taken over the whole run folds into the result, and a pair of runs seconds apart mostly cancels.
 */
const SETTLE_MS = 3000;

export async function figOverhead(rounds = 20, ms = 2000): Promise<FigureResult> {
  const pin = splitPin();
  const lab = await benchLab({ pin });
  let server: Awaited<ReturnType<BenchLab['startServer']>> | undefined;
  try {
    server = await lab.startServer(30 * 60_000);
    await lab.client('bulk', ['--ms', '1000'], 30_000);
    await lab.client('pingpong', ['--ms', '1000'], 30_000);
    const bulk: Record<'off' | 'on', number[]> = { off: [], on: [] };
    const pp: Record<'off' | 'on', number[]> = { off: [], on: [] };
    const cpu: number[] = [];
    const treeCpu: number[] = [];
    const notes: string[] = [];
    for (let r = 0; r < rounds; r++) {
      for (const mode of r % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
        let tr: TraceRun | undefined;
        if (mode === 'on') {
          tr = startTrace(lab.ns.node);
          if (!(await tr.ready)) {
            const s = await tr.stop();
            throw new Error(`kdiag trace did not attach: ${s.stderr.slice(-400)}`);
          }
          // "Tracing" is printed once the probes attach; the first snapshot reads (iptables-save,
          // owners, the conntrack table) are still running then. Measure the attached steady state.
          await new Promise((r) => setTimeout(r, SETTLE_MS));
        }
        const c0 = tr?.cpuMs();
        const k0 = tr?.treeCpuMs();
        const t0 = performance.now();
        const b = await lab.client('bulk', ['--ms', String(ms)], ms + 60_000);
        const p = await lab.client('pingpong', ['--ms', String(ms), '--size', '64'], ms + 60_000);
        const wall = performance.now() - t0;
        bulk[mode].push(Number(b.bytesPerSec));
        pp[mode].push(Number(p.perSec));
        if (tr) {
          const c1 = tr.cpuMs();
          const k1 = tr.treeCpuMs();
          if (c0 !== undefined && c1 !== undefined) cpu.push(((c1 - c0) / wall) * 100);
          if (k0 !== undefined && k1 !== undefined) treeCpu.push(((k1 - k0) / wall) * 100);
          const s = await tr.stop();
          const srcs = (s.summary?.sources ?? []) as Array<{
            id: string;
            records: number;
            lost: number;
          }>;
          const lost = srcs.reduce((a, x) => a + (x.lost ?? 0), 0);
          notes.push(
            `round ${r + 1}: trace saw ${srcs.reduce((a, x) => a + x.records, 0)} records, lost ${lost}${s.leftover.length ? `, ${s.leftover.length} child(ren) left and killed` : ''}`,
          );
        }
        progress(
          `round ${r + 1} ${mode === 'on' ? 'with trace   ' : 'without trace'}: bulk ${fmt(Number(b.bytesPerSec) / 1e6)} MB/s, ping-pong ${fmt(Number(p.perSec))} rt/s (load ${loadNow()})`,
        );
      }
    }
    // on ÷ off of each round, sorted
    const ratios = (x: Record<'off' | 'on', number[]>): number[] =>
      x.on.map((v, i) => v / x.off[i]!).sort((a, b) => a - b);
    const bulkRatios = ratios(bulk);
    const ppRatios = ratios(pp);
    const spread = (rs: readonly number[]): string => `${fmt(rs[0]!)}–${fmt(rs[rs.length - 1]!)}`;
    const rb = median(bulkRatios);
    const rp = median(ppRatios);
    return {
      figure: 'Probe overhead (throughput with/without trace)',
      kdiag: `bulk ${fmt(median(bulk.on) / 1e6)} MB/s; ping-pong ${fmt(median(pp.on))} rt/s`,
      baseline: `bulk ${fmt(median(bulk.off) / 1e6)} MB/s; ping-pong ${fmt(median(pp.off))} rt/s`,
      ratio: `bulk ${fmt(rb)}, ping-pong ${fmt(rp)}`,
      target: '≥ 0.95',
      pass: rb >= 0.95 && rp >= 0.95,
      how: `private lab (client → node with the lab's kube-proxy DNAT ruleset, VIP ${lab.vip}:${lab.vipPort} → be1:8080, namespaces ${lab.ns.client}/${lab.ns.node}/${lab.ns.be1}); bench/traffic.ts: ${ms / 1000} s bulk send (128 KiB writes, bytes/s counted by the server) then ${ms / 1000} s ping-pong of 64-byte messages (TCP_NODELAY, round trips/s)${pin ? `, client pinned to CPU ${pin.client} and server to CPU ${pin.server} (taskset), kdiag free` : ''}; \`node bin/kdiag.js trace --json --netns ${lab.ns.node}\` (default probes, 2 s snapshots) attached, then ${SETTLE_MS / 1000} s for its first reads to finish, before the "on" runs and stopped after them; ${rounds} rounds of off and on back to back, order alternating; ratio = median of the ${rounds} per-round on ÷ off ratios (the VM's throughput drifts between rounds more than within one)`,
      details: [
        `bulk MB/s off: ${bulk.off.map((x) => fmt(x / 1e6)).join(', ')}; on: ${bulk.on.map((x) => fmt(x / 1e6)).join(', ')}`,
        `ping-pong rt/s off: ${pp.off.map(fmt).join(', ')}; on: ${pp.on.map(fmt).join(', ')}`,
        `per-round ratios range: bulk ${spread(bulkRatios)}, ping-pong ${spread(ppRatios)}; ratio of the medians over all rounds: bulk ${fmt(median(bulk.on) / median(bulk.off))}, ping-pong ${fmt(median(pp.on) / median(pp.off))}`,
        `kdiag trace CPU while traffic ran, % of one core: the node process with its finished snapshot children ${cpu.map((x) => `${fmt(x)}%`).join(', ')}; with bpftrace and conntrack -E too ${treeCpu.map((x) => `${fmt(x)}%`).join(', ')} (medians ${fmt(median(cpu))}% and ${fmt(median(treeCpu))}%)`,
        ...notes,
      ],
    };
  } finally {
    server?.stop();
    await lab.down();
  }
}

// ---------------------------------------------------------------------------------------------
// Event rate: bench/event-rate.ts (the figure and its anchor, conntrack -E alone)

export { figEvents } from './event-rate.js';

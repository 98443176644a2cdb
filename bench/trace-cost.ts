// What a running `kdiag trace` costs the node: CPU time of kdiag and of its children (bpftrace,
// conntrack -E, the periodic snapshot tools) over a fixed window on the churn lab at ~1,000 events/s.
import { performance } from 'node:perf_hooks';
import { run } from '../src/host/exec.js';
import { benchLab, type BenchLab } from './bench-net.js';
import { childrenOf, startTrace } from './live.js';
import { fmt, loadNow, procStat, progress, type FigureResult } from './lib.js';

/** One reading of the tree: kdiag's own CPU, what its finished children took, and each living descendant's. */
interface TreeSample {
  readonly kdiag: number;
  readonly reaped: number;
  readonly living: ReadonlyMap<number, { name: string; ms: number }>;
}

function sampleTree(pid: number): TreeSample | undefined {
  const root = procStat(pid);
  if (root === undefined) return undefined;
  const living = new Map<number, { name: string; ms: number }>();
  const visit = (p: number): void => {
    for (const c of childrenOf(p)) {
      const t = procStat(c);
      if (t === undefined) continue;
      living.set(c, { name: t.name, ms: t.ownMs + t.reapedMs });
      visit(c);
    }
  };
  visit(pid);
  return { kdiag: root.ownMs, reaped: root.reapedMs, living };
}

/** CPU ms in the window by part: kdiag itself, bpftrace, conntrack -E, and the snapshot tools. */
function splitWindow(a: TreeSample, b: TreeSample) {
  // A process alive at both ends is a long-lived child (bpftrace, conntrack -E); everything else ran
  // and ended (or started) inside the window: a snapshot tool. Summing reaped + living at each end
  // counts a child that was alive at the start and reaped by the end exactly once.
  const total = (s: TreeSample): number => {
    let x = s.reaped;
    for (const v of s.living.values()) x += v.ms;
    return x;
  };
  const byName = new Map<string, number>();
  let longLived = 0;
  for (const [pid, v] of b.living) {
    const before = a.living.get(pid);
    if (before === undefined || before.name !== v.name) continue;
    const d = v.ms - before.ms;
    longLived += d;
    byName.set(v.name, (byName.get(v.name) ?? 0) + d);
  }
  const children = total(b) - total(a);
  return {
    kdiag: b.kdiag - a.kdiag,
    children,
    bpftrace: byName.get('bpftrace') ?? 0,
    conntrack: byName.get('conntrack') ?? 0,
    longLived: [...byName].map(([n, ms]) => `${n} ${fmt(ms)} ms`).join(', '),
    snapshots: children - longLived,
  };
}

export async function figTraceCost(
  connPerSec = 90,
  settleMs = 6_000,
  windowMs = 30_000,
): Promise<FigureResult> {
  const lab = await benchLab();
  let server: Awaited<ReturnType<BenchLab['startServer']>> | undefined;
  try {
    // CLOSE entries go in 1 s: the table stays at the churn's steady state rather than growing
    await run(['sysctl', '-q', '-w', 'net.netfilter.nf_conntrack_tcp_timeout_close=1'], {
      netns: lab.ns.node,
    });
    server = await lab.startServer(30 * 60_000);
    const load0 = loadNow();
    const tr = startTrace(lab.ns.node);
    if (!(await tr.ready)) {
      const s = await tr.stop();
      throw new Error(`kdiag trace did not attach: ${s.stderr.slice(-400)}`);
    }
    const churnMs = settleMs + windowMs + 2_000;
    const churn = lab.client(
      'churn',
      ['--ms', String(churnMs), '--rate', String(connPerSec), '--max-open', '256'],
      churnMs + 60_000,
    );
    // past the first snapshot rounds after attach (their first full reads), into the steady state
    await new Promise((r) => setTimeout(r, settleMs));
    const a = sampleTree(tr.pid!);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, windowMs));
    const b = sampleTree(tr.pid!);
    const wall = performance.now() - t0;
    const load1 = loadNow();
    const ch = await churn;
    const s = await tr.stop();
    if (a === undefined || b === undefined) throw new Error('kdiag trace ended inside the window');
    const srcs = (s.summary?.sources ?? []) as Array<{ id: string; records: number }>;
    const events = srcs
      .filter(
        (x) =>
          x.id.startsWith('conntrack:events') ||
          x.id === 'bpftrace' ||
          x.id.startsWith('bpftrace:'),
      )
      .reduce((acc, x) => acc + x.records, 0);
    const eventsPerSec = (events / Number(ch.ms)) * 1000;
    const w = splitWindow(a, b);
    const pct = (ms: number): number => (ms / wall) * 100;
    const all = pct(w.kdiag + w.children);
    return {
      figure: 'Trace cost, kdiag + children (CPU, churn at ~1,000 events/s)',
      kdiag: `${fmt(all)}% of one core`,
      baseline: `kdiag ${fmt(pct(w.kdiag))}%, bpftrace ${fmt(pct(w.bpftrace))}%, conntrack -E ${fmt(pct(w.conntrack))}%, snapshot tools ${fmt(pct(w.snapshots))}%`,
      ratio: `${fmt(all / 5)} of 5%`,
      target: '≤ 5% of one core',
      pass: all <= 5,
      how: `private lab as for the overhead figure; \`node bin/kdiag.js trace --json --netns NODE\` (default probes, conntrack -E, 2 s snapshots); bench/traffic.ts churn at ${connPerSec} conn/s (each reset once connected, ~5 events each); CPU time (utime+stime from /proc/PID/stat) of kdiag and of its descendants, living (bpftrace, conntrack -E: alive at both ends) or waited for (cutime+cstime: the snapshot tools), over ${windowMs / 1000} s starting ${settleMs / 1000} s after attach, as a share of that window's wall time`,
      details: [
        `churn: ${fmt(Number(ch.perSec))} conn/s, ${events} event records in the trace = ${fmt(eventsPerSec)} events/s`,
        `CPU ms in the ${fmt(wall / 1000)} s window: kdiag ${fmt(w.kdiag)}, children ${fmt(w.children)} (long-lived: ${w.longLived || 'none'}; snapshot tools ${fmt(w.snapshots)})`,
        `1-min load average at attach ${load0}, at the window's end ${load1}`,
      ],
    };
  } finally {
    server?.stop();
    await lab.down();
  }
}

// The event-rate figure: the conntrack event rate `kdiag trace` takes without losing one, beside
// its anchor, `conntrack -E` alone at the same rate. Runs in a private kdiag-bench-* lab.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { run, withNetns } from '../src/host/exec.js';
import { CONNTRACK_EVENTS_ARGV, CONNTRACK_EVENTS_BUFFER } from '../src/sources/conntrack-source.js';
import { enlargeEventSocket } from '../src/sources/event-socket-buffer.js';
import { readEventSocketDrops } from '../src/sources/netlink-drops.js';
import { benchLab, type BenchLab } from './bench-net.js';
import { fmt, loadNow, procStat, progress, type FigureResult } from './lib.js';
import { startTrace } from './live.js';
import { SYN_CHURN_EVENTS_PER_CONN } from './syn-churn.js';

/** conntrack events of each type in a `conntrack -E` output. */
interface TypeCounts {
  NEW: number;
  UPDATE: number;
  DESTROY: number;
}

interface AnchorRun {
  readonly conns: number;
  readonly connPerSec: number;
  readonly counts: TypeCounts;
  readonly received: number;
  /** ENOBUFS warnings on stderr. */
  readonly warnings: number;
  /** The kernel's drop counter of its event socket, read before it was stopped. */
  readonly drops: number;
  readonly cpuMs: number;
}

interface KdiagRun {
  readonly conns: number;
  readonly connPerSec: number;
  readonly ctRecords: number;
  readonly probeRecords: number;
  readonly lost: number;
  readonly lostBy: string;
  readonly statusLost: number;
  readonly cpuMs: number | undefined;
  readonly treeCpuMs: number | undefined;
}

interface Step {
  readonly rate: number;
  readonly anchor: AnchorRun;
  readonly kdiag: KdiagRun;
}

/** Counts the `[NEW]` / `[UPDATE]` / `[DESTROY]` lines of a conntrack -E output file. */
function countTypes(file: string): TypeCounts {
  const text = readFileSync(file, 'latin1');
  const c: TypeCounts = { NEW: 0, UPDATE: 0, DESTROY: 0 };
  let p = 0;
  while (p < text.length) {
    let e = text.indexOf('\n', p);
    if (e === -1) e = text.length;
    const open = text.indexOf('[', text.charCodeAt(p) === 91 ? text.indexOf(']', p) + 1 : p);
    if (open !== -1 && open < e) {
      const k = text.charCodeAt(open + 1);
      if (k === 78) c.NEW++;
      else if (k === 85) c.UPDATE++;
      else if (k === 68) c.DESTROY++;
    }
    p = e + 1;
  }
  return c;
}

/**
 * After the churn: CLOSE entries expire 1 s after their RST, but the kernel's gc worker reaps them
 * (and sends DESTROY) on a schedule of its own, sometimes many seconds later. A read of
 * /proc/net/nf_conntrack kills expired entries as it walks them (nf_conntrack_standalone.c,
 * ct_seq_show), so the bench reads it twice, in both the anchor's run and kdiag's: every DESTROY
 * then falls inside the run.
 */
async function drainAndReap(ns: string): Promise<void> {
  const reap = (): Promise<unknown> =>
    run(['sh', '-c', 'cat /proc/net/nf_conntrack > /dev/null'], { netns: ns, reject: false });
  await new Promise((r) => setTimeout(r, 1500));
  await reap();
  await new Promise((r) => setTimeout(r, 1500));
  await reap();
  await new Promise((r) => setTimeout(r, 1500));
}

/** CPU ms (user + system) of a live pid. */
function pidCpuMs(pid: number | undefined): number {
  return procStat(pid)?.ownMs ?? 0;
}

/**
 * `conntrack -E` alone, with kdiag's arguments and the same event-socket buffer kdiag gives it
 * (enlargeEventSocket), its stdout to a file (nothing reads it while it runs), through one churn.
 */
async function anchorRun(
  lab: BenchLab,
  dir: string,
  churn: () => Promise<Record<string, unknown>>,
): Promise<AnchorRun> {
  const out = join(dir, 'anchor.txt');
  const fd = openSync(out, 'w');
  const argv = withNetns([...CONNTRACK_EVENTS_ARGV], lab.ns.node);
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', fd, 'pipe'] });
  closeSync(fd);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('latin1')));
  const closed = new Promise<void>((r) => child.on('close', () => r()));
  const pid = child.pid;
  if (pid === undefined) throw new Error('conntrack -E did not start');
  const buf = await enlargeEventSocket(pid, CONNTRACK_EVENTS_BUFFER, new AbortController().signal);
  if (!buf.ok) throw new Error(`anchor: could not set the event socket buffer: ${buf.why}`);
  const c0 = pidCpuMs(pid);
  const ch = await churn();
  await drainAndReap(lab.ns.node);
  const drops = (await readEventSocketDrops(pid)) ?? 0;
  const cpuMs = pidCpuMs(pid) - c0;
  child.kill('SIGINT');
  await closed;
  const counts = countTypes(out);
  return {
    conns: Number(ch.sent ?? ch.connected),
    connPerSec: Number(ch.perSec),
    counts,
    received: counts.NEW + counts.UPDATE + counts.DESTROY,
    warnings: stderr.split('\n').filter((l) => l.startsWith('WARNING: We have hit ENOBUFS')).length,
    drops,
    cpuMs,
  };
}

/** One fresh `kdiag trace --json --netns NODE` through one churn; counts from its summary line. */
async function kdiagRun(
  lab: BenchLab,
  churn: () => Promise<Record<string, unknown>>,
): Promise<KdiagRun> {
  const tr = startTrace(lab.ns.node);
  if (!(await tr.ready)) {
    const s = await tr.stop();
    throw new Error(`kdiag trace did not attach: ${s.stderr.slice(-400)}`);
  }
  // its first snapshot reads run right after attach: measure the steady state
  await new Promise((r) => setTimeout(r, 2000));
  const c0 = tr.cpuMs();
  const k0 = tr.treeCpuMs();
  const ch = await churn();
  await drainAndReap(lab.ns.node);
  const c1 = tr.cpuMs();
  const k1 = tr.treeCpuMs();
  const s = await tr.stop();
  if (s.leftover.length) progress(`killed ${s.leftover.length} leftover child(ren) of kdiag trace`);
  const srcs = (s.summary?.sources ?? []) as Array<{ id: string; records: number; lost: number }>;
  // records of the event source less its framing: `begin`, `end` and the buffer line
  const ct = srcs
    .filter((x) => x.id.startsWith('conntrack:events'))
    .reduce((a, x) => a + Math.max(0, x.records - 3), 0);
  const probe = srcs
    .filter((x) => x.id === 'bpftrace' || x.id.startsWith('bpftrace:'))
    .reduce((a, x) => a + x.records, 0);
  const lostSrc = srcs.filter((x) => x.lost > 0);
  return {
    conns: Number(ch.sent ?? ch.connected),
    connPerSec: Number(ch.perSec),
    ctRecords: ct,
    probeRecords: probe,
    lost: lostSrc.reduce((a, x) => a + x.lost, 0),
    lostBy: lostSrc.map((x) => `${x.id}:${x.lost}`).join(' '),
    statusLost: tr.objects.filter(
      (o) => o.type !== 'summary' && /lost|ENOBUFS/i.test(JSON.stringify(o)),
    ).length,
    cpuMs: c0 !== undefined && c1 !== undefined ? c1 - c0 : undefined,
    treeCpuMs: k0 !== undefined && k1 !== undefined ? k1 - k0 : undefined,
  };
}

const anchorLost = (a: AnchorRun): number => Math.max(a.drops, a.warnings);
const kdiagPerConn = (k: KdiagRun): number => (k.conns > 0 ? k.ctRecords / k.conns : 0);
const anchorPerConn = (a: AnchorRun): number => (a.conns > 0 ? a.received / a.conns : 0);
/** kdiag lossless: nothing reported and no fewer events per connection than the anchor's lossless run. */
const kdiagClean = (s: Step): boolean =>
  s.kdiag.lost === 0 &&
  s.kdiag.statusLost === 0 &&
  kdiagPerConn(s.kdiag) >= anchorPerConn(s.anchor) * 0.995;

/** conntrack events/s the kernel emitted for a run's churn (SYN_CHURN_EVENTS_PER_CONN each). */
function eventsPerSec(connPerSec: number): number {
  return connPerSec * SYN_CHURN_EVENTS_PER_CONN;
}

/**
 * The highest conntrack event rate kdiag trace takes without losses, beside `conntrack -E` alone at
 * the same rate, and what each says past its limit. `rates` are SYNs/s (0 = as fast as perl goes).
 */
export async function figEvents(
  rates: readonly number[] = [250, 1000, 2500, 3750, 5000, 6250, 0],
  ms = 5000,
): Promise<FigureResult> {
  const lab = await benchLab();
  const dir = await mkdtemp(join(tmpdir(), 'kdiag-bench-ev-'));
  let server: Awaited<ReturnType<BenchLab['startServer']>> | undefined;
  try {
    // CLOSE entries (after the RST) expire in 1 s, so each run's DESTROY events fall inside it
    await run(['sysctl', '-q', '-w', 'net.netfilter.nf_conntrack_tcp_timeout_close=1'], {
      netns: lab.ns.node,
    });
    server = await lab.startServer(30 * 60_000);
    await lab.synChurn(200, 500);
    const steps: Step[] = [];
    for (const rate of rates) {
      const churn = (): Promise<Record<string, unknown>> => lab.synChurn(rate, ms);
      await run(['conntrack', '-F'], { netns: lab.ns.node, reject: false });
      await new Promise((r) => setTimeout(r, 500));
      const anchor = await anchorRun(lab, dir, churn);
      await run(['conntrack', '-F'], { netns: lab.ns.node, reject: false });
      const t0 = performance.now();
      const kdiag = await kdiagRun(lab, churn);
      const step: Step = { rate, anchor, kdiag };
      steps.push(step);
      progress(
        `target ${rate === 0 ? 'max' : rate} SYN/s: anchor ${fmt(anchor.connPerSec)} conn/s = ${fmt(eventsPerSec(anchor.connPerSec))} events/s, got ${anchor.received} (${anchor.counts.NEW}/${anchor.counts.UPDATE}/${anchor.counts.DESTROY}), lost ${anchorLost(anchor)}; kdiag ${fmt(kdiag.connPerSec)} conn/s, ${kdiag.ctRecords} ct + ${kdiag.probeRecords} probe records, lost ${kdiag.lost}${kdiag.lostBy ? ` (${kdiag.lostBy})` : ''}, CPU ${kdiag.cpuMs === undefined ? '?' : fmt(kdiag.cpuMs)} ms in ${fmt((performance.now() - t0) / 1000)} s (load ${loadNow()})`,
      );
    }
    const clean = steps.filter(kdiagClean);
    const best = clean.reduce<Step | undefined>(
      (a, s) => (!a || s.kdiag.connPerSec > a.kdiag.connPerSec ? s : a),
      undefined,
    );
    const anchorClean = steps.filter((s) => anchorLost(s.anchor) === 0);
    const anchorBest = anchorClean.reduce<Step | undefined>(
      (a, s) => (!a || s.anchor.connPerSec > a.anchor.connPerSec ? s : a),
      undefined,
    );
    const firstLoss = steps.find((s) => !kdiagClean(s));
    const silent = steps.filter(
      (s) => !kdiagClean(s) && s.kdiag.lost === 0 && s.kdiag.statusLost === 0,
    );
    const top = Math.max(...steps.map((s) => eventsPerSec(s.kdiag.connPerSec)));
    const kdiagBest = best ? eventsPerSec(best.kdiag.connPerSec) : 0;
    const anchorTop = anchorBest ? eventsPerSec(anchorBest.anchor.connPerSec) : 0;
    return {
      figure: 'Event rate without loss (conntrack events/s)',
      kdiag: best
        ? `${fmt(kdiagBest)} events/s lossless${firstLoss ? `; losses from ${fmt(eventsPerSec(firstLoss.kdiag.connPerSec))} (${firstLoss.kdiag.lost} reported)` : ` (no loss up to ${fmt(top)})`}`
        : 'none lossless',
      baseline: anchorBest
        ? `conntrack -E alone: ${fmt(anchorTop)} events/s lossless`
        : 'conntrack -E alone: none lossless',
      ratio: `${fmt(kdiagBest / 1000)}k vs 20k target${silent.length ? `; ${silent.length} step(s) lost silently` : '; every loss reported'}`,
      target: '≥ 20,000 events/s lossless; losses past it reported',
      pass: kdiagBest >= 20_000 && silent.length === 0,
      how: `private lab (client → node with the lab's kube-proxy DNAT ruleset → be1); churn = bench/syn-churn.ts: crafted SYNs to the VIP from a raw socket (perl) at the target rate for ${ms / 1000} s, be1 answers SYN-ACK, the client's kernel RST; events/s = connections/s × ${SYN_CHURN_EVENTS_PER_CONN} (NEW, UPDATE SYN_RECV, UPDATE CLOSE, DESTROY: what the node's kernel emits per connection, checked by the anchor's own count); each step runs the anchor, \`${CONNTRACK_EVENTS_ARGV.join(' ')}\` alone in the node netns with stdout to a file and its event socket given kdiag's buffer (${CONNTRACK_EVENTS_BUFFER * 2} bytes, SO_RCVBUFFORCE through pidfd_getfd), its loss = the kernel's drop counter of that socket (and its ENOBUFS warnings); then a fresh \`kdiag trace --json --netns NODE\` (default probes + conntrack -E) through the same churn, its loss from the summary (sources[].lost) and status lines, its events = the conntrack:events records less begin/end/buffer lines; after each churn 1.5 s, a read of /proc/net/nf_conntrack (reaps the expired CLOSE entries: their DESTROY), 1.5 s, again, 1.5 s; lossless for kdiag = nothing reported and events per connection within 0.5% of the anchor's; table flushed between runs; nf_conntrack_tcp_timeout_close=1 in the node netns`,
      details: steps.map((s) => {
        const a = s.anchor;
        const k = s.kdiag;
        return `target ${s.rate === 0 ? 'max' : s.rate} SYN/s — anchor: ${fmt(a.connPerSec)} conn/s = ${fmt(eventsPerSec(a.connPerSec))} events/s, received ${a.received} (NEW ${a.counts.NEW}, UPDATE ${a.counts.UPDATE}, DESTROY ${a.counts.DESTROY}; ${fmt(anchorPerConn(a))}/conn), lost ${anchorLost(a)} (drop counter ${a.drops}, ENOBUFS warnings ${a.warnings}), CPU ${fmt(a.cpuMs)} ms — kdiag: ${fmt(k.connPerSec)} conn/s = ${fmt(eventsPerSec(k.connPerSec))} events/s, ${k.ctRecords} conntrack events (${fmt(kdiagPerConn(k))}/conn) + ${k.probeRecords} probe records, lost reported ${k.lost}${k.lostBy ? ` (${k.lostBy})` : ''}, loss status lines ${k.statusLost}, CPU ${k.cpuMs === undefined ? '?' : `${fmt(k.cpuMs)} ms (${fmt((k.cpuMs / Math.max(1, k.ctRecords + k.probeRecords)) * 1000)} ms per 1,000 records)`}, with bpftrace and conntrack ${k.treeCpuMs === undefined ? '?' : `${fmt(k.treeCpuMs)} ms`}`;
      }),
    };
  } finally {
    server?.stop();
    await rm(dir, { recursive: true, force: true });
    await lab.down();
  }
}

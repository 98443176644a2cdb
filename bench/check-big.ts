// `kdiag check --netns` end to end on a real 1,000,000-entry conntrack table, beside
// `conntrack -L -o extended > /dev/null` on the same table (issue: a 1,000,000-entry table).
//
// nf_conntrack_max is one value for the whole host (read-only inside a netns), so the figure raises
// it for its own run and puts it back in `finally` and on SIGINT/SIGTERM. Its namespaces carry their
// own prefix: a parallel `node dist/bench/run.js` of another figure removes every kdiag-bench-*
// namespace when it ends, and would take this table with it half-way.
import { spawn, spawnSync } from 'node:child_process';
import { openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { run } from '../src/host/exec.js';
import { fmt, loadNow, median, progress, runToNull, type FigureResult } from './lib.js';
import { childrenOf } from './live.js';

const PREFIX = 'kdiag-bigct-';
const CT_MAX = '/proc/sys/net/netfilter/nf_conntrack_max';

function repoRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return here.includes(join('dist', 'bench')) ? join(here, '..', '..') : join(here, '..');
}

/** Kills what runs in a namespace of this figure, then deletes it (synchronous: usable from a signal handler). */
function dropNetns(name: string): void {
  if (!name.startsWith(PREFIX)) throw new Error(`refusing to remove ${name}`);
  const pids = spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).stdout ?? '';
  for (const p of pids.split(/\s+/).filter((x) => /^\d{1,10}$/.test(x))) {
    try {
      process.kill(Number(p), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  spawnSync('ip', ['netns', 'del', name]);
}

function memAvailableMb(): number {
  const m = /MemAvailable:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/**
 * n distinct DNAT'ed-looking `conntrack -R` lines, dealt round-robin into k files: 70% tcp
 * ESTABLISHED heard from in the last 10 minutes (timeout = the netns's established timeout `est`
 * less up to 600 s, as on a busy node), 10% TIME_WAIT, 20% udp. The last two keep an hour's timeout
 * so that nothing expires while the figure runs.
 */
function fillFiles(n: number, k: number, est: number): string[][] {
  const files: string[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < n; i++) {
    const c = `10.${1 + ((i >>> 16) & 127)}.${(i >>> 8) & 255}.${i & 255 || 1}`;
    const sp = 1024 + (i % 60000);
    const vip = `10.96.${(i >>> 10) & 63}.${(i % 200) + 10}`;
    const be = `10.244.${(i >>> 4) & 255}.${(i % 14) + 2}`;
    const kind = i % 10;
    files[i % k]!.push(
      kind < 8
        ? `-I -p tcp -s ${c} -d ${vip} --sport ${sp} --dport 80 -r ${be} -q ${c} --reply-port-src 8080 --reply-port-dst ${sp} --state ${kind < 7 ? 'ESTABLISHED' : 'TIME_WAIT'} -u SEEN_REPLY,ASSURED -t ${kind < 7 ? est - (i % 600) : 3600}`
        : `-I -p udp -s ${c} -d ${vip} --sport ${sp} --dport 53 -r ${be} -q ${c} --reply-port-src 5353 --reply-port-dst ${sp} -u SEEN_REPLY,ASSURED -t 3600`,
    );
  }
  return files;
}

async function tableCount(ns: string): Promise<number> {
  const out = await run(['sysctl', '-n', 'net.netfilter.nf_conntrack_count'], { netns: ns });
  return Number(out.stdout.trim());
}

/** kB of VmHWM (own peak) or VmRSS of one process, 0 once it is gone. */
function statusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const st = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(st)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

function descendantsKb(pid: number): number {
  let kb = 0;
  for (const c of childrenOf(pid)) kb += statusKb(c, 'VmRSS') + descendantsKb(c);
  return kb;
}

interface CheckRun {
  readonly ms: number;
  readonly code: number | null;
  /** MB: kdiag's own peak (VmHWM) plus the largest sum of its children's RSS seen in one sample. */
  readonly peakMb: number;
  /** The last 2,000 characters kdiag wrote to stderr. */
  readonly stderr: string;
}

/** Runs `node bin/kdiag.js check --netns NS --json > /dev/null`; wall time and peak memory of its tree. */
function timeCheck(ns: string, timeoutMs = 300_000): Promise<CheckRun> {
  const bin = join(repoRoot(), 'bin', 'kdiag.js');
  const fd = openSync('/dev/null', 'w');
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'check', '--netns', ns, '--json'], {
      stdio: ['ignore', fd, 'pipe'],
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => (stderr = (stderr + d).slice(-2000)));
    let hwm = 0;
    let kids = 0;
    const pid = child.pid!;
    const sample = (): void => {
      hwm = Math.max(hwm, statusKb(pid, 'VmHWM'));
      kids = Math.max(kids, descendantsKb(pid));
    };
    // 20 ms: the children (cat of the table, ss, sysctl, iptables-save) live for a second or less.
    const timer = setInterval(sample, 20);
    const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearInterval(timer);
      clearTimeout(kill);
      closeSync(fd);
      reject(err);
    });
    child.once('exit', (code) => {
      const ms = performance.now() - t0;
      clearInterval(timer);
      clearTimeout(kill);
      closeSync(fd);
      resolve({ ms, code, peakMb: (hwm + kids) / 1024, stderr });
    });
  });
}

/** `kdiag check --netns` on a real 1,000,000-entry table against `conntrack -L -o extended`. */
export async function figCheckBig(runs = 3, entries = 1_000_000): Promise<FigureResult> {
  // ~300 bytes of kernel memory per entry, kdiag's ≤600 MB, conntrack's own: keep 3 GB free.
  const avail = memAvailableMb();
  if (avail < 3 * 1024)
    throw new Error(`only ${fmt(avail)} MB available; a 1,000,000-entry table needs ~3 GB`);
  const tag = randomBytes(3).toString('hex');
  const ns = `${PREFIX}${tag}`;
  const empty = `${PREFIX}${tag}-e`;
  const before = readFileSync(CT_MAX, 'utf8').trim();
  const need = entries + 50_000;
  let raised = false;
  const restore = (): void => {
    dropNetns(ns);
    dropNetns(empty);
    if (raised) writeFileSync(CT_MAX, `${before}\n`);
    raised = false;
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    restore();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const dir = await mkdtemp(join(tmpdir(), 'kdiag-bigct-'));
  try {
    if (Number(before) < need) {
      raised = true;
      writeFileSync(CT_MAX, `${need}\n`);
      progress(`nf_conntrack_max ${before} → ${need} for this figure (put back at its end)`);
    }
    for (const n of [ns, empty]) {
      await run(['ip', 'netns', 'add', n]);
      await run(['ip', '-n', n, 'link', 'set', 'lo', 'up']);
    }
    // conntrack -R is one netlink request per entry, bound by its own parsing and the syscall: four
    // in parallel fill 1,000,000 entries in ~55 s here (one alone: ~2.2 s per 50,000).
    const est = Number(
      (
        await run(['sysctl', '-n', 'net.netfilter.nf_conntrack_tcp_timeout_established'], {
          netns: ns,
        })
      ).stdout.trim(),
    );
    const parts = fillFiles(entries, 4, Number.isFinite(est) && est > 600 ? est : 432_000);
    const paths = await Promise.all(
      parts.map(async (lines, i) => {
        const p = join(dir, `fill-${i}.txt`);
        await writeFile(p, `${lines.join('\n')}\n`);
        return p;
      }),
    );
    parts.length = 0;
    progress(
      `loading ${entries.toLocaleString('en-US')} entries into ${ns}: ${paths.length} conntrack -R in parallel`,
    );
    const tf = performance.now();
    await Promise.all(
      paths.map((p) =>
        run(['conntrack', '-R', p], { netns: ns, reject: false, timeoutMs: 900_000 }),
      ),
    );
    const fillS = (performance.now() - tf) / 1000;
    const count = await tableCount(ns);
    progress(`table holds ${count.toLocaleString('en-US')} entries after ${fillS.toFixed(0)} s`);
    if (count < entries * 0.99)
      throw new Error(`table has ${count} entries after the fill, wanted ${entries}`);

    const baseArgv = ['ip', 'netns', 'exec', ns, 'conntrack', '-L', '-o', 'extended'];
    const catArgv = ['ip', 'netns', 'exec', ns, 'cat', '/proc/net/nf_conntrack'];
    // warm-up: the kernel's table walk, the page cache for node and kdiag's modules
    await runToNull(baseArgv, 300_000);
    await timeCheck(ns);
    const base: number[] = [];
    const kd: CheckRun[] = [];
    const idle: number[] = [];
    const cat: number[] = [];
    for (let r = 0; r < runs; r++) {
      // Alternating order, so neither side always runs right after the other's cache effects.
      const pair: Array<() => Promise<void>> = [
        async () => {
          const b = await runToNull(baseArgv, 300_000);
          if (b.code !== 0) throw new Error(`conntrack -L exited ${b.code}`);
          base.push(b.ms);
        },
        async () => {
          const k = await timeCheck(ns);
          if (k.code !== 0 && k.code !== 1)
            throw new Error(`kdiag check exited ${k.code}: ${k.stderr.slice(-300)}`);
          kd.push(k);
        },
      ];
      if (r % 2 === 1) pair.reverse();
      for (const f of pair) await f();
      idle.push((await timeCheck(empty)).ms);
      cat.push((await runToNull(catArgv, 300_000)).ms);
      progress(
        `run ${r + 1}/${runs}: conntrack -L ${fmt(base[r]!)} ms, kdiag check ${fmt(kd[r]!.ms)} ms (peak ${fmt(kd[r]!.peakMb)} MB), on an empty netns ${fmt(idle[r]!)} ms (load ${loadNow()})`,
      );
    }
    const mb = median(base);
    const mk = median(kd.map((k) => k.ms));
    const peak = Math.max(...kd.map((k) => k.peakMb));
    const mi = median(idle);
    const ratio = mk / mb;
    return {
      figure: `kdiag check, ${count.toLocaleString('en-US')}-entry table`,
      kdiag: `${fmt(mk)} ms; peak ${fmt(peak)} MB`,
      baseline: `${fmt(mb)} ms`,
      ratio: `${fmt(ratio)}; ${fmt(peak / 600)} of 600 MB`,
      target: '≤ 1.3; ≤ 600 MB',
      pass: ratio <= 1.3 && peak <= 600,
      how: `real table in a loopback-only netns filled with ${paths.length} parallel conntrack -R (nf_conntrack_max raised for the run, restored after); kdiag = wall time of \`node bin/kdiag.js check --netns NS --json > /dev/null\` (every check source: the table, ss, sysctls, iptables-save; analysis; JSON); peak = kdiag's VmHWM plus the largest summed RSS of its children, sampled every 20 ms; baseline = \`ip netns exec NS conntrack -L -o extended > /dev/null\`; alternating, median of ${runs} after one warm-up each`,
      details: [
        `baseline ms: ${base.map((x) => fmt(x)).join(', ')}`,
        `kdiag ms: ${kd.map((k) => fmt(k.ms)).join(', ')}; peak MB: ${kd.map((k) => fmt(k.peakMb)).join(', ')}`,
        `the same check on an empty netns (every other source, start-up, empty analysis): median ${fmt(mi)} ms, so the table accounts for ≈ ${fmt(mk - mi)} ms (${fmt(((mk - mi) / mk) * 100)}%) of kdiag's time`,
        `for reference: \`cat /proc/net/nf_conntrack > /dev/null\` in the netns (what kdiag reads) ${fmt(median(cat))} ms; the fill took ${fillS.toFixed(0)} s`,
      ],
    };
  } finally {
    restore();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await rm(dir, { recursive: true, force: true });
  }
}

// Shared helpers for the benchmark figures: medians, wall/CPU timers, machine facts, and the way a
// figure hands its result to bench/run.ts (one `RESULT {json}` line on stdout).
import { spawn, spawnSync } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, release } from 'node:os';
import { performance } from 'node:perf_hooks';

/** One row of BENCHMARKS.md. `pass` is undefined when the figure could not be judged (skipped). */
export interface FigureResult {
  readonly figure: string;
  readonly kdiag: string;
  readonly baseline: string;
  readonly ratio: string;
  readonly target: string;
  readonly pass: boolean | undefined;
  readonly how: string;
  /** Extra lines for the details section (numbers per run, notes). */
  readonly details: readonly string[];
  readonly skipped?: string;
}

/** Median of a list (the middle element after sorting; the lower middle for an even count). */
/** A full GC when node runs with --expose-gc (the figures that need one say so in bench/worker.ts); else nothing. */
export function fullGc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

/** Rounds for display: 3 significant digits for small numbers, integers with separators for big. */
export function fmt(n: number, digits = 3): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  return Number(n.toPrecision(digits)).toString();
}

export function mb(bytes: number): string {
  return `${fmt(bytes / 1024 / 1024)} MB`;
}

/** Wall-clock ms of an async function. */
export async function timeMs(f: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

/** Runs argv (no shell) with stdout and stderr to /dev/null; resolves with wall ms and exit code. */
export function runToNull(
  argv: readonly string[],
  timeoutMs = 120_000,
): Promise<{ ms: number; code: number | null }> {
  const [file, ...args] = argv;
  if (file === undefined) throw new TypeError('runToNull: empty argv');
  const fd = openSync('/dev/null', 'w');
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', fd, fd] });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      closeSync(fd);
      reject(err);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      closeSync(fd);
      resolve({ ms: performance.now() - t0, code });
    });
  });
}

/** Prints the result line run.ts reads. */
export function emitResult(r: FigureResult): void {
  process.stdout.write(`RESULT ${JSON.stringify(r)}\n`);
}

/** A progress line (stderr; run.ts forwards it). */
export function progress(line: string): void {
  process.stderr.write(`  ${line}\n`);
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function firstLine(argv: readonly string[]): string {
  try {
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 5000 });
    return (
      `${r.stdout ?? ''}${r.stderr ?? ''}`
        .split('\n')
        .find((l) => l.trim() !== '')
        ?.trim() ?? 'unavailable'
    );
  } catch {
    return 'unavailable';
  }
}

export interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly memory: string;
  readonly kernel: string;
  readonly node: string;
  readonly tools: Record<string, string>;
  readonly loadAtStart: string;
  readonly otherTracers: string;
}

/** Facts about the machine the numbers come from. */
export function machineInfo(): MachineInfo {
  let cpu = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1]!.trim();
  } catch {
    // not Linux: os.cpus() is good enough
  }
  const bpftraces =
    spawnSync('pgrep', ['-c', '-x', 'bpftrace'], { encoding: 'utf8' }).stdout?.trim() ?? '0';
  return {
    cpu,
    cores: cpus().length,
    memory: `${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    kernel: release(),
    node: process.version,
    tools: {
      conntrack: firstLine(['conntrack', '--version']),
      bpftrace: firstLine(['bpftrace', '--version']),
      iproute2: firstLine(['ip', '-V']),
      iptables: firstLine(['iptables', '--version']),
      python3: firstLine(['python3', '--version']),
    },
    loadAtStart: loadavg()
      .map((x) => x.toFixed(2))
      .join(' '),
    otherTracers: `${bpftraces} bpftrace process(es) of other users running at start`,
  };
}

/**
 * One pass over bytes s..e that any reader of the text must at least make: each byte read once, with
 * the one branch a tokenizer needs per byte (digit or not). The result is returned so that the loop
 * cannot be dropped as dead code.
 */
export function foldDigits(b: Uint8Array, s: number, e: number, acc: number): number {
  for (let i = s; i < e; i++) {
    const d = b[i]! - 48;
    acc = d >= 0 && d <= 9 ? (acc * 10 + d) | 0 : acc ^ b[i]!;
  }
  return acc;
}

/**
 * Milliseconds a fixed JavaScript loop (foldDigits) takes here (reads 128 MB of bytes once, one branch each), the
 * median of 3: how fast this machine is at the moment. The same parser gave 1.48M and 0.86M
 * entries/s in two runs hours apart on VMs of the same kind; compare this before comparing runs.
 */
export function speedReference(): number {
  const buf = new Uint8Array(32 << 20);
  for (let i = 0; i < buf.length; i++) buf[i] = 32 + ((i * 7) % 90);
  const runs: number[] = [];
  let acc = 0;
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    for (let pass = 0; pass < 4; pass++) acc = foldDigits(buf, 0, buf.length, acc);
    runs.push(performance.now() - t0);
  }
  // acc is used so that the loop is not dropped
  return median(runs) + (acc === 0.5 ? 1 : 0);
}

/** The 1-minute load average now, for the per-figure notes. */
export function loadNow(): string {
  return loadavg()[0]!.toFixed(2);
}

/** Clock ticks per second of /proc/PID/stat's times (USER_HZ, 100 on every Linux node kdiag runs on). */
const USER_HZ = 100;

/** A process as /proc/PID/stat shows it: name, start time (a pid may be reused) and CPU in ms. */
export interface ProcStat {
  readonly name: string;
  readonly start: string;
  /** utime + stime. */
  readonly ownMs: number;
  /** cutime + cstime: children already waited for. */
  readonly reapedMs: number;
}

/** Reads /proc/PID/stat; undefined when the pid is unknown or gone. */
export function procStat(pid: number | undefined): ProcStat | undefined {
  if (pid === undefined) return undefined;
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = s.lastIndexOf(')');
    const f = s.slice(close + 2).split(' ');
    const ms = (i: number): number => (Number(f[i]) * 1000) / USER_HZ;
    return {
      name: s.slice(s.indexOf('(') + 1, close),
      start: f[19]!,
      ownMs: ms(11) + ms(12),
      reapedMs: ms(13) + ms(14),
    };
  } catch {
    return undefined;
  }
}

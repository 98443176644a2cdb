// How soon the live TUI shows something (target: its first frame within 1 s of start, saying what is
// still attaching): the real `kdiag ui --netns NS` under a pseudo-terminal, timed from spawn to the
// first output that holds the app's frame; then q, and every process it started must be gone.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { run } from '../src/host/exec.js';
import { ctNamespace } from './bench-net.js';
import { childrenOf } from './live.js';
import { fmt, loadNow, median, procStat, progress, type FigureResult } from './lib.js';

const COLS = 160;
const ROWS = 40;
/** The first line inside the flows pane: present in every frame of the app, in no other output. */
const HEADER = 'Flows at risk';
const LIMIT_MS = 1000;
/** bin/kdiag.js from bench/ (tsx) or dist/bench/ (built). */
const BIN = join(
  dirname(fileURLToPath(import.meta.url)),
  ...(import.meta.url.includes('/dist/bench/') ? ['..', '..'] : ['..']),
  'bin',
  'kdiag.js',
);

// Node has no pty module; python3's pty module (in CI's image) gives the child a real terminal. The
// helper copies the terminal's output to its stdout and its stdin (the q) to the terminal, and exits
// with the child's status. Run with -I so that no file in the working directory can shadow `pty`.
const PTY_HELPER = `
import errno, fcntl, os, pty, select, struct, sys, termios
cols, rows, argv = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
    os.execvp(argv[0], argv)
inp, watch = sys.stdin.fileno(), [fd, sys.stdin.fileno()]
while True:
    r = select.select(watch, [], [])[0]
    if fd in r:
        try:
            data = os.read(fd, 65536)
        except OSError as e:
            if e.errno != errno.EIO:
                raise
            data = b''
        if not data:
            break
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    if inp in r:
        data = os.read(inp, 4096)
        if data:
            os.write(fd, data)
        else:
            watch.remove(inp)
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) & 255)
`;

/** A process by pid and start time (a pid alone may be reused by the time it is checked). */
interface Proc {
  readonly pid: number;
  readonly start: string;
  readonly name: string;
}

function procOf(pid: number): Proc | undefined {
  const s = procStat(pid);
  return s && { pid, start: s.start, name: s.name };
}

/** CPU ms (user + system) of pid so far. */
function cpuMsOf(pid: number | undefined): number {
  return procStat(pid)?.ownMs ?? Number.NaN;
}

function alive(p: Proc): boolean {
  const now = procOf(p.pid);
  return now !== undefined && now.start === p.start;
}

/** pid's descendants now (not pid itself). */
function descendants(pid: number): Proc[] {
  const out: Proc[] = [];
  const visit = (p: number): void => {
    for (const c of childrenOf(p)) {
      const pr = procOf(c);
      if (pr) out.push(pr);
      visit(c);
    }
  };
  visit(pid);
  return out;
}

export interface FirstFrameRun {
  /** ms from spawn to the first output holding the frame's header. */
  readonly ms: number;
  /** CPU ms (user + system) kdiag's node process had used by then: what load does not inflate. */
  readonly cpuMs: number;
  /** The frame's last line: each source and its state. */
  readonly sources: string;
  /** Sources the first frame shows as still starting (bpftrace: "attaching…"). */
  readonly attaching: readonly string[];
  /** Processes kdiag had started, seen just before q, and those still alive after it exited. */
  readonly children: readonly string[];
  readonly leftover: readonly string[];
  readonly exitCode: number | null;
}

/** The status line's sources, each "name state": `… bpftrace attaching…`, `● conntrack:events 3/s`. */
function attachingIn(sources: string): string[] {
  return [...sources.matchAll(/…\s(\S+)\s(?:attaching…|starting)/g)].map((m) => m[1]!);
}

/** One start of `kdiag ui` under a pty: time to the first frame, then q and a check that all exited. */
export async function firstFrameOnce(netns: string): Promise<FirstFrameRun> {
  const t0 = performance.now();
  const child = spawn(
    'python3',
    ['-I', '-c', PTY_HELPER, String(COLS), String(ROWS), 'node', BIN, 'ui', '--netns', netns],
    { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TERM: 'xterm-256color' } },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  const decoder = new StringDecoder('utf8');
  let raw = '';
  let firstAt: number | undefined;
  let cpuMs = Number.NaN;
  let onFrame: () => void = () => {};
  const framed = new Promise<void>((r) => (onFrame = r));
  let err = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => (err = (err + d).slice(-2000)));
  child.stdout.on('data', (b: Buffer) => {
    raw += decoder.write(b);
    if (firstAt === undefined && stripVTControlCharacters(raw).includes(HEADER)) {
      firstAt = performance.now() - t0;
      // The helper's one child is kdiag (pty.fork, then exec of node).
      cpuMs = cpuMsOf(childrenOf(child.pid!)[0]);
      onFrame();
    }
  });
  const timeout = setTimeout(() => onFrame(), 60_000);
  try {
    await Promise.race([framed, exited]);
    if (firstAt === undefined)
      throw new Error(
        `kdiag ui drew no frame (${stripVTControlCharacters(raw + err).slice(-400)})`,
      );
    // Let the frame's write finish (it may span reads) before cutting it out.
    await new Promise((r) => setTimeout(r, 300));
    const children = descendants(child.pid!);
    child.stdin.write('q');
    const code = await Promise.race([
      exited,
      new Promise<null>((r) => setTimeout(() => r(null), 30_000)),
    ]);
    const leftover = children.filter(alive);
    const frame = firstFrame(raw);
    const lines = frame.split('\n').filter((l) => l.trim() !== '');
    const sources = lines.at(-1)?.trim() ?? '';
    return {
      ms: firstAt,
      cpuMs,
      sources,
      attaching: attachingIn(sources),
      children: children.map((p) => `${p.name}(${p.pid})`),
      leftover: leftover.map((p) => `${p.name}(${p.pid})`),
      exitCode: code,
    };
  } finally {
    clearTimeout(timeout);
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  }
}

/** The text of the first frame: ink wraps each frame's write in synchronized-output marks (?2026h … ?2026l). */
function firstFrame(raw: string): string {
  const at = raw.indexOf(HEADER);
  if (at < 0) return '';
  const end = raw.indexOf('\u001b[?2026l', at);
  return stripVTControlCharacters(end < 0 ? raw.slice(at) : raw.slice(at, end));
}

export async function figUiFirstFrame(runs = 5): Promise<FigureResult> {
  const ns = await ctNamespace();
  const results: FirstFrameRun[] = [];
  const loads: string[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      loads.push(loadNow());
      const r = await firstFrameOnce(ns.name);
      results.push(r);
      progress(
        `run ${i + 1}: first frame ${fmt(r.ms)} ms (kdiag CPU ${fmt(r.cpuMs)} ms); attaching: ${r.attaching.join(', ') || 'none'}; ${r.children.length} children, ${r.leftover.length} left`,
      );
      // Processes left in the namespace would be the next run's children: none may be there.
      const pids = (await run(['ip', 'netns', 'pids', ns.name], { reject: false })).stdout.trim();
      if (pids !== '') throw new Error(`processes left in ${ns.name} after q: ${pids}`);
    }
  } finally {
    await ns.down();
  }
  loads.push(loadNow());
  const ms = median(results.map((r) => r.ms));
  const says = results.every((r) => r.sources.includes('bpftrace'));
  const clean = results.every((r) => r.leftover.length === 0 && r.exitCode === 0);
  return {
    figure: 'TUI first frame',
    kdiag: `${fmt(ms)} ms`,
    baseline: '—',
    ratio: `${fmt(ms / LIMIT_MS)} of budget`,
    target: `< ${LIMIT_MS} ms, naming what is attaching`,
    pass: ms < LIMIT_MS && says && clean,
    how: `bench/ui-first-frame.ts: \`node bin/kdiag.js ui --netns NS\` (default probes, NS an empty netns) under a ${COLS}×${ROWS} pseudo-terminal (python3 pty), ms from spawn to the first output holding the app's frame ("${HEADER}"); the frame's status line must name the bpftrace source (attaching… until its probes are attached); then q, and every process kdiag started must have exited (exit code 0); median of ${runs} runs`,
    details: [
      `first frame ms: ${results.map((r) => fmt(r.ms)).join(', ')}`,
      `CPU ms of kdiag's node process at the first frame (load does not inflate it): ${results.map((r) => fmt(r.cpuMs)).join(', ')}; median ${fmt(median(results.map((r) => r.cpuMs)))}`,
      `processes kdiag ran, seen before q (run 1): ${results[0]?.children.join(', ') ?? '—'}`,
      `still attaching in the first frame: ${results.map((r) => r.attaching.join('+') || 'none').join(', ')}`,
      `status line of the first run's first frame: ${results[0]?.sources ?? '—'}`,
      `children before q: ${results.map((r) => r.children.length).join(', ')}; left after exit: ${results.map((r) => r.leftover.join('+') || 0).join(', ')}; exit codes ${results.map((r) => String(r.exitCode)).join(', ')}`,
      `1-min load average before each run and at the end: ${loads.join(', ')}`,
    ],
  };
}

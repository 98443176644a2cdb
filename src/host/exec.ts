// Runs system tools with argument arrays (never a shell string): execa for run/spawnLines (its only importer), node:child_process for the streamed snapshot reader.
import { execa, type ResultPromise } from 'execa';
import { spawn } from 'node:child_process';
import { EnvironmentError, ToolFailedError } from '../errors.js';
import { RUN_NETNS } from './netns.js';

export interface RunOptions {
  /** Run inside this named network namespace (`nsenter --net=/run/netns/NAME …`). */
  readonly netns?: string;
  /**
   * Run inside the network namespace this open descriptor (of /proc/PID/ns/net) refers to: the
   * child gets it as fd 3 (`nsenter --net=/proc/self/fd/3 …`), so the namespace cannot change under it.
   */
  readonly nsFd?: number;
  readonly input?: string;
  readonly timeoutMs?: number;
  /** Throw ToolFailedError on a non-zero exit (default true). */
  readonly reject?: boolean;
  readonly env?: Record<string, string>;
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/** Debian packages that provide each tool, for hints. */
const PACKAGE_OF: Record<string, string> = {
  conntrack: 'conntrack',
  ipvsadm: 'ipvsadm',
  iptables: 'iptables',
  'iptables-save': 'iptables',
  ip: 'iproute2',
  ss: 'iproute2',
  bpftrace: 'bpftrace',
  sysctl: 'procps',
  setpriv: 'util-linux',
  nsenter: 'util-linux',
};

/**
 * argv run inside a named network namespace. nsenter joins only the netns, which is all that
 * /proc/net, /proc/sys/net, netlink and the tools' sockets depend on; `ip netns exec` also makes a
 * mount namespace and remounts /sys for every run, which made each snapshot spawn twice as costly
 * (bench: probe overhead), for nothing these read-only tools use.
 */
export function withNetns(argv: readonly string[], netns: string | undefined): string[] {
  return netns === undefined
    ? [...argv]
    : ['nsenter', `--net=${RUN_NETNS}/${netns}`, '--', ...argv];
}

function missingTool(tool: string): EnvironmentError {
  const pkg = PACKAGE_OF[tool];
  return new EnvironmentError(
    'KDIAG_TOOL_MISSING',
    `can't run ${tool}: not found on PATH`,
    pkg ? `apt-get install ${pkg}` : `install ${tool}`,
  );
}

/** Runs a command to completion and returns its output. */
export async function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const full =
    opts.nsFd === undefined
      ? withNetns(argv, opts.netns)
      : ['nsenter', '--net=/proc/self/fd/3', '--', ...argv];
  const [file, ...args] = full;
  if (file === undefined) throw new TypeError('run: empty argv');
  const stdin = opts.input === undefined ? ('ignore' as const) : ('pipe' as const);
  try {
    const r = await execa(file, args, {
      reject: false,
      // kdiag stops its own children (abort signals, pdeathsig). execa's exit hook (signal-exit)
      // re-raises SIGINT when its callback count equals the listener count, killing kdiag before
      // trace can stop its probes and close the recording.
      cleanup: false,
      stripFinalNewline: false,
      // execa hands extra stdio entries to child_process.spawn, which takes a descriptor; its types list only pipes and streams past fd 2.
      ...(opts.nsFd === undefined
        ? { stdin }
        : { stdio: [stdin, 'pipe', 'pipe', opts.nsFd as unknown as 'pipe'] as const }),
      ...(opts.input === undefined ? {} : { input: opts.input }),
      ...(opts.timeoutMs === undefined ? {} : { timeout: opts.timeoutMs }),
      ...(opts.env === undefined ? {} : { env: opts.env }),
    });
    if (r.failed && (r as { code?: string }).code === 'ENOENT') throw missingTool(argv[0] ?? file);
    const exitCode = r.exitCode ?? (r.timedOut ? 124 : 1);
    const result = { stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), exitCode };
    if ((opts.reject ?? true) && (r.failed || exitCode !== 0)) {
      throw new ToolFailedError(
        full,
        r.exitCode,
        r.timedOut ? `timed out after ${opts.timeoutMs} ms` : result.stderr,
      );
    }
    return result;
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') throw missingTool(argv[0] ?? file);
    throw err;
  }
}

export interface SpawnOptions {
  readonly netns?: string;
  /** Stops the child: SIGINT first (so bpftrace runs END), SIGKILL after `forceKillAfterMs`. */
  readonly signal: AbortSignal;
  readonly killSignal?: NodeJS.Signals;
  readonly forceKillAfterMs?: number;
  /**
   * Have the kernel signal the child when kdiag dies, even by SIGKILL (PR_SET_PDEATHSIG via
   * util-linux setpriv), so no probe outlives kdiag.
   */
  readonly dieWithParent?: boolean;
  /** Written to the child's stdin, which is then closed (otherwise stdin is /dev/null). */
  readonly input?: string;
}

export interface OutputLine {
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
}

export interface Spawned {
  readonly pid: number | undefined;
  /** Lines of stdout and stderr, interleaved in arrival order. */
  readonly lines: AsyncIterable<OutputLine>;
  /** Resolves when the child has exited: its exit code, or the signal; `canceled` when we stopped it. */
  readonly exited: Promise<{
    exitCode: number | undefined;
    signal: string | undefined;
    canceled: boolean;
    stderrTail: string;
  }>;
}

/** Starts a long-running tool and streams its lines. */
export function spawnLines(argv: readonly string[], opts: SpawnOptions): Spawned {
  let full = withNetns(argv, opts.netns);
  // SIGKILL, not SIGTERM: the kernel sends it once, and bpftrace 0.17 loses a signal that lands
  // just after it attaches (it then sleeps in epoll_wait until its next event, maybe never). With
  // kdiag gone nobody reads the child's output, so there is nothing a graceful stop would save.
  if (opts.dieWithParent) full = ['setpriv', '--pdeathsig', 'SIGKILL', '--', ...full];
  const [file, ...args] = full;
  if (file === undefined) throw new TypeError('spawnLines: empty argv');
  const child: ResultPromise = execa(file, args, {
    reject: false,
    cleanup: false,
    ...(opts.input === undefined ? { stdin: 'ignore' as const } : { input: opts.input }),
    buffer: false,
    cancelSignal: opts.signal,
    killSignal: opts.killSignal ?? 'SIGINT',
    forceKillAfterDelay: opts.forceKillAfterMs ?? 3000,
  });
  let stderrTail = '';
  const queue: OutputLine[] = [];
  let wake: (() => void) | undefined;
  let open = 2;
  const feed = (stream: 'stdout' | 'stderr', readable: NodeJS.ReadableStream | null) => {
    if (!readable) {
      open--;
      return;
    }
    let carry = '';
    readable.setEncoding('utf8');
    readable.on('data', (chunk: string) => {
      const parts = (carry + chunk).split('\n');
      carry = parts.pop() ?? '';
      for (const line of parts) {
        if (stream === 'stderr') stderrTail = (stderrTail + line + '\n').slice(-2000);
        queue.push({ stream, line: line.endsWith('\r') ? line.slice(0, -1) : line });
      }
      wake?.();
    });
    readable.on('end', () => {
      if (carry) queue.push({ stream, line: carry });
      open--;
      wake?.();
    });
  };
  feed('stdout', child.stdout);
  feed('stderr', child.stderr);
  const exited = child.then((r) => {
    const code = (r as { code?: string }).code;
    if (code === 'ENOENT') stderrTail += `${argv[0]}: not found on PATH\n`;
    return {
      exitCode: r.exitCode,
      signal: r.signal ?? undefined,
      canceled: Boolean(r.isCanceled),
      stderrTail,
    };
  });
  const lines: AsyncIterable<OutputLine> = {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        while (queue.length > 0) yield queue.shift()!;
        if (open <= 0) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    },
  };
  return { pid: child.pid, lines, exited };
}

// Found tools, per PATH: every snapshot asks again (a few a second in trace), and a walk of PATH is
// ~8 failed access() calls; a tool that was found stays found, a missing one is looked for again.
const whichCache = new Map<string, string>();

/** Resolves a tool on PATH, or undefined. */
export async function which(tool: string): Promise<string | undefined> {
  const path = process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin';
  const key = `${path}\0${tool}`;
  const known = whichCache.get(key);
  if (known !== undefined) return known;
  const { access, constants } = await import('node:fs/promises');
  const { join } = await import('node:path');
  for (const dir of path.split(':')) {
    if (!dir) continue;
    const candidate = join(dir, tool);
    try {
      await access(candidate, constants.X_OK);
      whichCache.set(key, candidate);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export interface StreamOptions {
  /** Run inside this named network namespace (`nsenter --net=/run/netns/NAME …`). */
  readonly netns?: string;
  /** SIGTERM after this long (SIGKILL 5 s later); the exit status is then 124. */
  readonly timeoutMs?: number;
  /** Have the kernel signal the child when kdiag dies (setpriv --pdeathsig), as spawnLines does. */
  readonly dieWithParent?: boolean;
  /** Stops the child (SIGTERM). */
  readonly signal?: AbortSignal;
  /** Stop reading the pipe (the child then blocks) while this many characters wait for the consumer. */
  readonly highWaterChars?: number;
}

export interface StreamResult {
  /** The exit status; 124 on a timeout, 1 when killed by a signal otherwise (as run() reports them). */
  readonly exitCode: number;
  readonly stderr: string;
}

export interface LineBatchStream {
  readonly pid: number | undefined;
  /**
   * stdout as arrays of lines, one array per pipe read (CR of CRLF dropped, no trailing empty line).
   * Iterate once. Throws EnvironmentError when the tool is not found.
   */
  readonly lines: AsyncIterable<string[]>;
  /** After `lines` ended: the exit status and the whole stderr. */
  result(): Promise<StreamResult>;
  /** Kills the child if it still runs (idempotent); call when done reading. */
  stop(): void;
}

/** Cuts decoded text into lines; keeps the unfinished tail for the next chunk. */
export class LineCutter {
  private carry = '';

  /** The complete lines in carry + chunk. */
  push(chunk: string): string[] {
    // Split the chunk itself, then prefix the carry: splitting `carry + chunk` (a cons string) was
    // ~8x slower than splitting the flat chunk (node 20, 64 KiB chunks of conntrack lines).
    const lines = chunk.split('\n');
    if (this.carry !== '') lines[0] = this.carry + lines[0]!;
    this.carry = lines.pop()!;
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i]!;
      if (l.length > 0 && l.charCodeAt(l.length - 1) === 13) lines[i] = l.slice(0, -1);
    }
    return lines;
  }

  /** The last line when the text did not end with a newline. */
  end(): string[] {
    const tail = this.carry;
    this.carry = '';
    if (tail === '') return [];
    return [tail.charCodeAt(tail.length - 1) === 13 ? tail.slice(0, -1) : tail];
  }
}

/**
 * Runs a command and streams its stdout in line batches as the pipe delivers them, so the consumer
 * works while the child still writes; stderr is kept whole for the end. The pipe is paused while
 * `highWaterChars` (default 8 Mi) characters wait, so memory stays bounded however big the output.
 */
export function streamLineBatches(
  argv: readonly string[],
  opts: StreamOptions = {},
): LineBatchStream {
  let full = withNetns(argv, opts.netns);
  if (opts.dieWithParent) full = ['setpriv', '--pdeathsig', 'SIGKILL', '--', ...full];
  const [file, ...args] = full;
  if (file === undefined) throw new TypeError('streamLineBatches: empty argv');
  const high = opts.highWaterChars ?? 8 * 1024 * 1024;
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const queue: string[][] = [];
  const sizes: number[] = [];
  let queued = 0;
  let paused = false;
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  let stderr = '';
  let timedOut = false;
  let running = true;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const cutter = new LineCutter();
  const stdout = child.stdout!;
  stdout.setEncoding('utf8');
  stdout.on('data', (chunk: string) => {
    const lines = cutter.push(chunk);
    if (lines.length === 0) return;
    queue.push(lines);
    sizes.push(chunk.length);
    queued += chunk.length;
    if (queued >= high && !paused) {
      paused = true;
      stdout.pause();
    }
    notify();
  });
  stdout.on('end', () => {
    const tail = cutter.end();
    if (tail.length > 0) {
      queue.push(tail);
      sizes.push(0);
    }
    ended = true;
    notify();
  });
  const stderrStream = child.stderr!;
  stderrStream.setEncoding('utf8');
  stderrStream.on('data', (chunk: string) => {
    stderr += chunk;
  });
  let exit: (code: number | null) => void = () => undefined;
  const exited = new Promise<number | null>((resolve) => {
    exit = resolve;
  });
  child.once('close', (code) => {
    running = false;
    exit(code);
  });
  // A spawn failure (ENOENT …) may come without a 'close'.
  child.once('error', (err) => {
    running = false;
    failure = (err as { code?: string }).code === 'ENOENT' ? missingTool(argv[0] ?? file) : err;
    ended = true;
    notify();
    exit(null);
  });
  let forceTimer: NodeJS.Timeout | undefined;
  const kill = (): void => {
    if (!running) return;
    child.kill('SIGTERM');
    forceTimer ??= setTimeout(() => {
      if (running) child.kill('SIGKILL');
    }, 5000);
    forceTimer.unref();
  };
  const timer =
    opts.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          kill();
        }, opts.timeoutMs);
  const onAbort = (): void => kill();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const cleanup = (): void => {
    if (timer) clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  };
  const lines: AsyncIterable<string[]> = {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (queue.length > 0) {
          const batch = queue.shift()!;
          queued -= sizes.shift()!;
          if (paused && queued < high / 2) {
            paused = false;
            stdout.resume();
          }
          yield batch;
          continue;
        }
        if (failure) throw failure;
        if (ended) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    },
  };
  return {
    pid: child.pid,
    lines,
    async result() {
      if (failure) throw failure;
      const code = await exited;
      cleanup();
      if (failure) throw failure;
      // As run() reports them: the exit code; else 124 when we timed it out, 1 for another signal.
      return { exitCode: code ?? (timedOut ? 124 : 1), stderr };
    },
    stop() {
      cleanup();
      kill();
      // A paused pipe would hold the child's 'close' (and the event loop) forever.
      stdout.destroy();
      stderrStream.destroy();
    },
  };
}

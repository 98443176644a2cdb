// conntrack sources: the table (`conntrack -L -o extended,id` or /proc/net/nf_conntrack), the per-CPU
// statistics (`conntrack -S`, /proc/net/stat/nf_conntrack) and the event stream
// (`conntrack -E -o timestamp,extended,id -b 8388608`, restarted with backoff when it exits).
import { constants as fsConstants } from 'node:fs';
import { access } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { spawnLines, which, type OutputLine } from '../host/exec.js';
import { readEventSocketDrops } from './netlink-drops.js';
import { drainEventSocket, enlargeEventSocket, type BufferOutcome } from './event-socket-buffer.js';
import type { RawRecord, SourceId } from '../engine/raw-record.js';
import {
  commandSource,
  EXIT_UNAVAILABLE,
  fileSource,
  sourceIdOf,
  type SnapshotOptions,
  type SnapshotSource,
} from './snapshot-source.js';
import { systemClock, type Clock, type Source } from './source.js';
import { sleep } from './sleep.js';

export const CONNTRACK_LIST_ARGV = ['conntrack', '-L', '-o', 'extended,id'] as const;
export const CONNTRACK_STATS_ARGV = ['conntrack', '-S'] as const;
export const PROC_NF_CONNTRACK = '/proc/net/nf_conntrack';
export const PROC_STAT_NF_CONNTRACK = '/proc/net/stat/nf_conntrack';
/**
 * 8 MiB netlink receive buffer (the kernel doubles it): the default (~200 KiB) loses events at a few
 * thousand flows/s. conntrack 1.4.7/1.4.8 set -b on a socket of their own that listens to no events,
 * so kdiag sets it on the event socket itself (event-socket-buffer.ts); -b stays for versions that
 * get it right. DropWatch counts what is lost all the same.
 */
export const CONNTRACK_EVENTS_BUFFER = 8_388_608;
export const CONNTRACK_EVENTS_ARGV = [
  'conntrack',
  '-E',
  '-o',
  'timestamp,extended,id',
  '-b',
  String(CONNTRACK_EVENTS_BUFFER),
] as const;

/** Snapshot of the table through ctnetlink: `conntrack -L -o extended,id` (src `conntrack:list`). */
export function conntrackListSource(opts: SnapshotOptions = {}): SnapshotSource {
  return commandSource('conntrack:list', CONNTRACK_LIST_ARGV, opts);
}

/** Snapshot of the table through procfs: /proc/net/nf_conntrack (src `procfs:nf_conntrack`). */
export function procNfConntrackSource(opts: SnapshotOptions = {}): SnapshotSource {
  return fileSource('procfs:nf_conntrack', PROC_NF_CONNTRACK, opts);
}

/** Per-CPU statistics: `conntrack -S` (src `conntrack:stats`). */
export function conntrackStatsSource(opts: SnapshotOptions = {}): SnapshotSource {
  return commandSource('conntrack:stats', CONNTRACK_STATS_ARGV, opts);
}

/** Per-CPU statistics in hex: /proc/net/stat/nf_conntrack (src `procfs:stat_nf_conntrack`). */
export function procStatNfConntrackSource(opts: SnapshotOptions = {}): SnapshotSource {
  return fileSource('procfs:stat_nf_conntrack', PROC_STAT_NF_CONNTRACK, opts);
}

/**
 * The table source to poll: /proc/net/nf_conntrack when the kernel has CONFIG_NF_CONNTRACK_PROCFS
 * (about half the cost of `conntrack -L`, and zones are always shown), else `conntrack -L`.
 * The returned source's `kind` says which one was chosen.
 */
export async function conntrackTableSource(
  opts: SnapshotOptions & { readonly preferProcfs?: boolean } = {},
): Promise<SnapshotSource> {
  if (opts.preferProcfs !== false) {
    try {
      await access(PROC_NF_CONNTRACK, fsConstants.R_OK);
      return procNfConntrackSource(opts);
    } catch {
      // no procfs table (module not loaded or CONFIG_NF_CONNTRACK_PROCFS=n): ctnetlink it is
    }
  }
  return conntrackListSource(opts);
}

/** conntrack prints this on stderr when the netlink socket overflowed: events were dropped. */
export const ENOBUFS_WARNING = 'WARNING: We have hit ENOBUFS! We are losing events.';

/** True for the stderr line that reports lost events. */
export function isLostEventsLine(line: string): boolean {
  return line.startsWith('WARNING: We have hit ENOBUFS');
}

export interface RestartPolicy {
  /** First delay before a restart. */
  readonly initialMs: number;
  readonly maxMs: number;
  /** A run that lasted this long resets the backoff. */
  readonly healthyAfterMs: number;
  /** Give up after this many short runs in a row (the tool fails at start: no netns, no permission). */
  readonly maxShortRuns: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  initialMs: 1000,
  maxMs: 30_000,
  healthyAfterMs: 60_000,
  maxShortRuns: 5,
};

/** Decides the restart after an exit (pure): the delay, or undefined to give up; and the new short-run count. */
export function nextRestart(
  ranMs: number,
  shortRuns: number,
  policy: RestartPolicy = DEFAULT_RESTART_POLICY,
): { delayMs: number | undefined; shortRuns: number } {
  if (ranMs >= policy.healthyAfterMs) return { delayMs: policy.initialMs, shortRuns: 0 };
  const n = shortRuns + 1;
  if (n >= policy.maxShortRuns) return { delayMs: undefined, shortRuns: n };
  return { delayMs: Math.min(policy.maxMs, policy.initialMs * 2 ** (n - 1)), shortRuns: n };
}

export interface StreamStatus {
  readonly state: 'idle' | 'running' | 'restarting' | 'done' | 'failed' | 'unavailable';
  /** How many times the tool was started. */
  readonly starts: number;
  /**
   * Events known lost: one per ENOBUFS warning, and the rest of the kernel's drop counter for the
   * event socket once it is read (see DropWatch).
   */
  readonly lost: number;
  readonly exitCode?: number;
  readonly message?: string;
  /** The pid of the current (or last) child. */
  readonly pid?: number;
}

export interface ConntrackEventsOptions {
  readonly netns?: string;
  readonly clock?: Clock;
  readonly restart?: RestartPolicy;
  /** Kill the child with kdiag even on SIGKILL (setpriv --pdeathsig); default when setpriv exists. */
  readonly dieWithParent?: boolean;
  /** Set the event socket's receive buffer through its descriptor (default true). */
  readonly enlargeBuffer?: boolean;
}

function exitStatus(exitCode: number | undefined, signal: string | undefined): number {
  if (exitCode !== undefined) return exitCode;
  const signo =
    signal === undefined
      ? undefined
      : (osConstants.signals as Record<string, number | undefined>)[signal];
  return signo === undefined ? 1 : 128 + signo;
}

/**
 * The conntrack event stream (src `conntrack:events[@netns]`). Each run of the tool is framed by a
 * `begin` record (the command) and an `end` record (`exit N`); stdout lines are events, stderr lines
 * `err` records (the ENOBUFS warning among them, also counted in `status.lost`). When conntrack exits
 * on its own it is restarted with backoff; a missing tool ends the source with one `err` and `end`.
 */
export class ConntrackEventsSource implements Source {
  readonly id: SourceId;
  readonly argv: readonly string[] = [...CONNTRACK_EVENTS_ARGV];
  private readonly opts: ConntrackEventsOptions;
  private readonly clock: Clock;
  private current: StreamStatus = { state: 'idle', starts: 0, lost: 0 };
  /** The drop watch of the running child. */
  private watch: DropWatch | undefined;
  /** What setting the event socket's buffer gave, for the running child. */
  private bufferOutcome: BufferOutcome | undefined;

  constructor(opts: ConntrackEventsOptions = {}) {
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
    this.id = sourceIdOf('conntrack:events', opts.netns);
  }

  get status(): StreamStatus {
    return this.current;
  }

  private set(patch: Partial<StreamStatus>): void {
    this.current = { ...this.current, ...patch };
  }

  async *records(signal: AbortSignal): AsyncIterable<RawRecord> {
    const src = this.id;
    const policy = this.opts.restart ?? DEFAULT_RESTART_POLICY;
    const missing =
      (await which('conntrack')) === undefined
        ? 'conntrack'
        : this.opts.netns !== undefined && (await which('nsenter')) === undefined
          ? 'nsenter'
          : undefined;
    if (missing !== undefined) {
      const message = `can't run ${missing}: not found on PATH`;
      const t = this.clock();
      this.set({ state: 'unavailable', exitCode: EXIT_UNAVAILABLE, message });
      yield { t, src, line: this.argv.join(' '), k: 'begin' };
      yield { t, src, line: message, k: 'err' };
      yield { t, src, line: `exit ${EXIT_UNAVAILABLE}`, k: 'end' };
      return;
    }
    const dieWithParent = this.opts.dieWithParent ?? (await which('setpriv')) !== undefined;
    let shortRuns = 0;
    // One controller for the child: aborted by the caller's signal, and by us when the consumer
    // stops iterating early, so conntrack never outlives the loop that reads it.
    const stop = new AbortController();
    // The drop counter is read one last time before the child is killed: drops of the last second
    // would otherwise go unread, and the session would end undercounting what it lost.
    // Events already queued in the (now large) event socket are read out first: killed with them
    // queued, conntrack would take them along uncounted, since the kernel drops nothing.
    const onAbort = (): void => {
      const pid = this.current.pid;
      void (pid === undefined ? Promise.resolve() : drainEventSocket(pid))
        .then(() => this.watch?.lastRead())
        .finally(() => stop.abort());
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      yield* this.loop(signal, stop.signal, policy, dieWithParent, shortRuns);
    } finally {
      stop.abort();
      signal.removeEventListener('abort', onAbort);
    }
  }

  private async *loop(
    signal: AbortSignal,
    childSignal: AbortSignal,
    policy: RestartPolicy,
    dieWithParent: boolean,
    shortRuns: number,
  ): AsyncIterable<RawRecord> {
    const src = this.id;
    while (!signal.aborted) {
      const started = this.clock();
      this.set({ state: 'running', starts: this.current.starts + 1 });
      yield { t: started, src, line: this.argv.join(' '), k: 'begin' };
      const child = spawnLines(this.argv, {
        signal: childSignal,
        netns: this.opts.netns,
        dieWithParent,
      });
      if (child.pid !== undefined) this.set({ pid: child.pid });
      const drops = new DropWatch(child.pid);
      this.watch = drops;
      // Lines, the drop counter and the buffer outcome all land in one box: the loop waits on one
      // promise when the box is empty, never on a race per line. A race per line added a reaction
      // to the drop watch's pending promise for every line (kept until drops happen, if ever):
      // at 20,000 events/s that is 20,000 closures a second held and collected.
      const box = new LineBox();
      drops.onChange = box.wake;
      void (async () => {
        for await (const out of child.lines) box.push(out);
      })()
        .catch(() => undefined)
        .finally(box.end);
      // conntrack's own -b misses its event socket (event-socket-buffer.ts): kdiag sets it.
      if (child.pid !== undefined && this.opts.enlargeBuffer !== false)
        void enlargeEventSocket(child.pid, CONNTRACK_EVENTS_BUFFER, childSignal).then((o) => {
          this.bufferOutcome = o;
          box.note = o;
          box.wake();
        });
      try {
        for (;;) {
          let out = box.shift();
          while (out !== undefined) {
            if (out.stream === 'stderr') {
              if (isLostEventsLine(out.line)) {
                drops.warned();
                this.set({ lost: this.current.lost + 1 });
              }
              yield { t: this.clock(), src, line: out.line, k: 'err' };
            } else {
              yield { t: this.clock(), src, line: out.line };
            }
            out = box.shift();
          }
          if (box.note !== undefined) {
            const o = box.note;
            box.note = undefined;
            yield { t: this.clock(), src, line: bufferLine(o), k: 'err' };
          }
          // The drop counter is read on a timer: a burst's drops often come after its last event.
          const more = drops.unannounced();
          if (more !== undefined) {
            this.set({ lost: this.current.lost + more.extra });
            yield { t: this.clock(), src, line: droppedLine(more.extra, more.total), k: 'err' };
          }
          if (box.ended && box.empty()) break;
          await box.wait(drops.pending);
        }
      } finally {
        drops.stop();
        this.watch = undefined;
        box.end();
      }
      const ex = await child.exited;
      const code = exitStatus(ex.exitCode, ex.signal);
      yield { t: this.clock(), src, line: `exit ${code}`, k: 'end' };
      if (signal.aborted || ex.canceled) {
        this.set({ state: 'done', exitCode: code });
        return;
      }
      const lastErr = ex.stderrTail.trim().split('\n').slice(-1)[0] ?? '';
      const decision = nextRestart(this.clock() - started, shortRuns, policy);
      shortRuns = decision.shortRuns;
      const why = `${this.argv.join(' ')} exited ${code}${lastErr ? `: ${lastErr}` : ''}`;
      if (decision.delayMs === undefined) {
        this.set({
          state: 'failed',
          exitCode: code,
          message: `${why} (gave up after ${shortRuns} short runs)`,
        });
        return;
      }
      this.set({
        state: 'restarting',
        exitCode: code,
        message: `${why}; restarting in ${decision.delayMs} ms`,
      });
      await sleep(decision.delayMs, signal);
    }
    this.set({ state: 'done' });
  }
}

/**
 * The `err` line for events the kernel dropped beyond those conntrack's ENOBUFS warnings stand for
 * (one each): "lost N events", as the loss counters of a live session read it.
 */
export function droppedLine(extra: number, total: number): string {
  return `kdiag: conntrack -E lost ${extra} events more than its ENOBUFS warnings said (the kernel's drop counter of its netlink event socket: ${total})`;
}

/**
 * What the reading loop has to handle, filled by callbacks: the child's lines (a queue read from an
 * index, compacted now and then), the buffer outcome, and whether the lines have ended. One waiter.
 */
class LineBox {
  private items: OutputLine[] = [];
  private head = 0;
  private waiter: (() => void) | undefined;
  ended = false;
  note: BufferOutcome | undefined;

  push(out: OutputLine): void {
    this.items.push(out);
    if (this.waiter !== undefined) this.wake();
  }

  shift(): OutputLine | undefined {
    if (this.head >= this.items.length) {
      if (this.head > 0) {
        this.items = [];
        this.head = 0;
      }
      return undefined;
    }
    const out = this.items[this.head]!;
    this.items[this.head++] = undefined as unknown as OutputLine;
    return out;
  }

  empty(): boolean {
    return this.head >= this.items.length;
  }

  readonly end = (): void => {
    this.ended = true;
    this.wake();
  };

  readonly wake = (): void => {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  };

  /** Resolves at the next push, note, drop change or end (at once when there is something). */
  wait(more: () => boolean): Promise<void> {
    if (!this.empty() || this.ended || this.note !== undefined || more()) return Promise.resolve();
    return new Promise((resolve) => (this.waiter = resolve));
  }
}

/** The `err` line that says what receive buffer the event socket got (never read as a loss). */
export function bufferLine(o: BufferOutcome): string {
  return o.ok
    ? `kdiag: conntrack -E event socket receive buffer set to ${o.bytes} bytes (SO_RCVBUFFORCE on its descriptor; conntrack's own -b sets another socket)`
    : `kdiag: conntrack -E event socket keeps the default receive buffer (net.core.rmem_default): ${o.why}`;
}

/**
 * Reads the kernel's drop counter of conntrack's event socket, once a second from its first ENOBUFS
 * warning on: the kernel warns once per overflow, then drops silently until the socket drains, so the
 * warnings alone undercount. When kdiag could not enlarge the event socket (no perl, no pidfd_getfd),
 * it stays at net.core.rmem_default (~200 KiB, ~160 events) and a burst of gc expiries overflows it.
 * When kdiag stops the child, lastRead() reads the counter
 * once more first; a child that exits by itself takes its counter with it.
 */
class DropWatch {
  private timer: NodeJS.Timeout | undefined;
  private latest = 0;
  /** Drops announced so far: one per warning, plus what unannounced() reported. */
  private announced = 0;
  /** Called when the kernel's count goes past what was announced. */
  onChange: () => void = () => {};

  constructor(private readonly pid: number | undefined) {}

  warned(): void {
    this.announced++;
    if (this.timer !== undefined || this.pid === undefined) return;
    void this.poll();
    this.timer = setInterval(() => void this.poll(), 1000);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    if (this.pid === undefined) return;
    const n = await readEventSocketDrops(this.pid);
    if (n === undefined || n <= this.latest) return;
    this.latest = n;
    if (n > this.announced) this.onChange();
  }

  /** One more read of the counter (at most `timeoutMs`), if it is being watched: before the child is killed. */
  async lastRead(timeoutMs = 1000): Promise<void> {
    if (this.timer === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([this.poll(), late]);
    clearTimeout(timer);
  }

  /** True when the kernel counted drops not announced yet. */
  readonly pending = (): boolean => this.latest > this.announced;

  /** Drops counted by the kernel and not announced yet, or undefined. */
  unannounced(): { extra: number; total: number } | undefined {
    if (this.latest <= this.announced) return undefined;
    const extra = this.latest - this.announced;
    this.announced = this.latest;
    return { extra, total: this.latest };
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** The conntrack event stream source. */
export function conntrackEventsSource(opts: ConntrackEventsOptions = {}): ConntrackEventsSource {
  return new ConntrackEventsSource(opts);
}

// `conntrack -E -o timestamp -p tcp` in the lab's node namespace, kept as raw lines, plus the
// few fields the scenarios need to read back (the full parser lives in src/parse/).
import { spawnLines, type Spawned } from '../host/exec.js';

export interface CtEvent {
  /** Kernel event time, ms. */
  readonly t: number;
  readonly type: 'NEW' | 'UPDATE' | 'DESTROY';
  /** Timeout column; undefined on an idle-expiry DESTROY (the kernel sends none). */
  readonly timeout: number | undefined;
  readonly state: string | undefined;
  readonly orig: { src: string; dst: string; sport: number; dport: number } | undefined;
  readonly reply: { src: string; dst: string; sport: number; dport: number } | undefined;
  readonly unreplied: boolean;
  readonly line: string;
}

const HEAD = /^\[(\d{1,12})\.(\d{1,6})\]\t\s{0,8}\[(NEW|UPDATE|DESTROY)\] tcp {1,8}6 (.{0,400})$/;
const TUPLE = /src=(\S{1,64}) dst=(\S{1,64}) sport=(\d{1,5}) dport=(\d{1,5})/g;

/** Reads one `conntrack -E -o timestamp` TCP line, or undefined for anything else. */
export function parseCtEventLine(line: string): CtEvent | undefined {
  const m = HEAD.exec(line.length > 2000 ? line.slice(0, 2000) : line);
  if (!m) return undefined;
  const rest = m[4] ?? '';
  const words = rest.split(' ');
  let i = 0;
  let timeout: number | undefined;
  if (/^\d{1,10}$/.test(words[0] ?? '')) {
    timeout = Number(words[0]);
    i = 1;
  }
  const state = words[i] !== undefined && /^[A-Z_]{2,16}$/.test(words[i]!) ? words[i] : undefined;
  const tuples = [...rest.matchAll(TUPLE)].map((t) => ({
    src: t[1]!,
    dst: t[2]!,
    sport: Number(t[3]),
    dport: Number(t[4]),
  }));
  return {
    t: Number(m[1]) * 1000 + Math.floor(Number((m[2] ?? '0').padEnd(6, '0')) / 1000),
    type: m[3] as CtEvent['type'],
    timeout,
    state,
    orig: tuples[0],
    reply: tuples[1],
    unreplied: rest.includes('[UNREPLIED]'),
    line,
  };
}

/** A running `conntrack -E` capture; `stop()` ends it and returns every line it printed. */
export class CtEventCapture {
  readonly lines: string[] = [];
  private proc: Spawned | undefined;
  private abort = new AbortController();
  private pump: Promise<void> = Promise.resolve();

  private constructor(
    private readonly netns: string,
    private readonly extra: readonly string[],
  ) {}

  /** Starts the capture in `netns`; `extra` adds filters (e.g. `--orig-src`). */
  static async start(netns: string, extra: readonly string[] = []): Promise<CtEventCapture> {
    const cap = new CtEventCapture(netns, extra);
    await cap.resume();
    return cap;
  }

  /** (Re)starts conntrack, appending to the same lines. */
  async resume(): Promise<void> {
    this.abort = new AbortController();
    const proc = spawnLines(['conntrack', '-E', '-o', 'timestamp', '-p', 'tcp', ...this.extra], {
      netns: this.netns,
      signal: this.abort.signal,
      killSignal: 'SIGTERM',
      forceKillAfterMs: 1000,
      dieWithParent: true,
    });
    this.proc = proc;
    this.pump = (async () => {
      for await (const l of proc.lines)
        if (l.stream === 'stdout' && this.lines.length < 100_000) this.lines.push(l.line);
    })();
    // conntrack prints nothing when it is ready; give it time to bind its netlink socket.
    await new Promise((r) => setTimeout(r, 300));
  }

  events(): CtEvent[] {
    return this.lines.map(parseCtEventLine).filter((e): e is CtEvent => e !== undefined);
  }

  /** Stops conntrack (after a short grace so late events arrive) and returns its lines. */
  async stop(): Promise<string[]> {
    if (this.abort.signal.aborted || !this.proc) return this.lines;
    await new Promise((r) => setTimeout(r, 200));
    this.abort.abort();
    await this.proc.exited;
    await this.pump;
    return this.lines;
  }
}

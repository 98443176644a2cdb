// A read-only command (or file) run once, or every intervalMs, framed as one snapshot of RawRecords:
// `begin` (the command), one record per stdout line, stderr lines as `err`, `end` (`exit N`).
import { open, readFile } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { EnvironmentError } from '../errors.js';
import { LineCutter, run, streamLineBatches, which, type StreamResult } from '../host/exec.js';
import type { RawRecord, SourceId } from '../engine/raw-record.js';
import { systemClock, type Clock, type Source } from './source.js';
import type { ReadPacer } from './read-pacer.js';
import { dutyCycleDelay, sleep } from './sleep.js';

/** What one run of a snapshot produced. */
export interface SnapshotOutput {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/** Produces one snapshot's output; throws EnvironmentError when the tool or file is unavailable. */
export type SnapshotReader = () => Promise<SnapshotOutput>;

/** How the last run of a source went: a live session shows `unavailable`/`failed` sources. */
export interface SourceStatus {
  readonly state: 'idle' | 'ok' | 'failed' | 'unavailable';
  readonly runs: number;
  readonly exitCode?: number;
  /** Why it failed or is unavailable, one line. */
  readonly message?: string;
  /** The last stderr lines of the last run (at most 2000 characters). */
  readonly stderrTail?: string;
}

export interface SnapshotSpec {
  /** Source kind, such as `conntrack:list`; `@scope` is appended from netns/scope. */
  readonly kind: string;
  /** The exact command (or `cat FILE`) behind it; the begin record's line is `argv.join(' ')`. */
  readonly argv: readonly string[];
  /** A named network namespace (entered with nsenter, see withNetns); the src becomes `kind@NAME`. */
  readonly netns?: string;
  /** Scope for the src when the namespace is not a named one (a pod's netns entered by pid). */
  readonly scope?: string;
  readonly clock?: Clock;
  /** Repeat every intervalMs (or less often, see SNAPSHOT_TIME_SHARE) until aborted; absent = run once. */
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
  /** Custom producer (file reads, /proc walks); default: run `argv` (inside `netns`). */
  readonly read?: SnapshotReader;
  /**
   * The file behind a fileSource: `batches()` streams it (directly on the host, `cat` inside a netns)
   * instead of calling `read`, which `snapshot()` still uses for the byte-exact output.
   */
  readonly file?: string;
  /** Known beforehand to be unavailable (IPVS not loaded …): one `err` record with this text and `end`. */
  readonly unavailable?: string;
  /** Shared with other sources: each run (the first too) waits for a turn from it. */
  readonly pacer?: ReadPacer;
}

/**
 * The share of the time a repeated snapshot may take, reading and modelling included: past it, runs
 * are spaced out beyond intervalMs. A 120,000-entry conntrack table takes ~0.4 s to read and model
 * (BENCHMARKS.md); at 10^6 entries a 2 s interval would read it back to back.
 */
export const SNAPSHOT_TIME_SHARE = 0.2;

/** Exit status recorded when the tool or file does not exist (the shell's "command not found"). */
export const EXIT_UNAVAILABLE = 127;

/** Builds a source id: `kind` or `kind@scope`. */
export function sourceIdOf(kind: string, scope: string | undefined): SourceId {
  return scope === undefined ? kind : `${kind}@${scope}`;
}

/** Splits tool output into lines: no trailing empty line, CR of CRLF dropped. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/** Frames one snapshot's output as RawRecords (pure): begin, stdout lines, stderr lines as err, end. */
export function frameSnapshot(
  src: SourceId,
  t: number,
  argv: readonly string[],
  out: SnapshotOutput,
): RawRecord[] {
  const records: RawRecord[] = [{ t, src, line: argv.join(' '), k: 'begin' }];
  for (const line of splitLines(out.stdout)) records.push({ t, src, line });
  for (const line of splitLines(out.stderr)) records.push({ t, src, line, k: 'err' });
  records.push({ t, src, line: `exit ${out.exitCode}`, k: 'end' });
  return records;
}

/** The error a source reports for a tool that is not on PATH. */
export function toolMissing(tool: string): EnvironmentError {
  return new EnvironmentError(
    'KDIAG_TOOL_MISSING',
    `can't run ${tool}: not found on PATH`,
    `install ${tool} or add it to PATH`,
  );
}

/** Throws toolMissing when argv's tool (or `ip`, for a netns) is not on PATH. */
async function requireTools(argv: readonly string[], netns: string | undefined): Promise<void> {
  const tool = argv[0];
  if (tool === undefined) throw new TypeError('snapshot command: empty argv');
  // nsenter would exit 127 with its own message; say plainly which tool is missing.
  if (!tool.includes('/') && (await which(tool)) === undefined) throw toolMissing(tool);
  if (netns !== undefined && (await which('nsenter')) === undefined) throw toolMissing('nsenter');
}

/** The error for a file the kernel does not provide (its module is not loaded). */
function noSuchFile(path: string): EnvironmentError {
  return new EnvironmentError(
    'KDIAG_ENVIRONMENT',
    `can't read ${path}: no such file`,
    'load the kernel module that provides it',
  );
}

/** Reader that runs argv (inside a named netns) without throwing on a non-zero exit. */
export function commandReader(
  argv: readonly string[],
  netns: string | undefined,
  timeoutMs = 120_000,
): SnapshotReader {
  return async () => {
    await requireTools(argv, netns);
    return run(argv, { netns, reject: false, timeoutMs });
  };
}

/** Opens a streamed read of a command's stdout after the same checks as commandReader (throws EnvironmentError). */
async function openCommandStream(
  argv: readonly string[],
  netns: string | undefined,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<StdoutStream> {
  await requireTools(argv, netns);
  // The snapshot child dies with kdiag, even on SIGKILL (setpriv --pdeathsig), when setpriv is there.
  const dieWithParent = await hasSetpriv();
  const s = streamLineBatches(argv, { netns, timeoutMs, signal, dieWithParent });
  return { lines: s.lines, result: () => s.result(), stop: () => s.stop() };
}

let setprivFound: Promise<boolean> | undefined;
function hasSetpriv(): Promise<boolean> {
  setprivFound ??= which('setpriv').then((p) => p !== undefined);
  return setprivFound;
}

/** A streamed stdout: line batches as they come, then the exit status and stderr. */
interface StdoutStream {
  readonly lines: AsyncIterable<string[]>;
  result(): Promise<StreamResult>;
  stop(): void;
}

/** Streams a file on the host in line batches, reading the next block while the last one is used. */
async function openFileStream(path: string): Promise<StdoutStream> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') throw noSuchFile(path);
    const message = (err as Error).message;
    return {
      lines: (async function* () {})(),
      result: async () => ({ exitCode: 1, stderr: `cat: ${path}: ${message}\n` }),
      stop: () => undefined,
    };
  }
  const handle = fh;
  let failed: string | undefined;
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    void handle.close().catch(() => undefined);
  };
  const size = 256 * 1024;
  const read = (buf: Buffer): Promise<number> => {
    const p = handle.read(buf, 0, size, null).then((r) => r.bytesRead);
    // Handled now (awaited later, or never when the reader stops early): no unhandled rejection.
    p.catch(() => undefined);
    return p;
  };
  const lines = (async function* () {
    const decoder = new StringDecoder('utf8');
    const cutter = new LineCutter();
    let bufs = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)];
    try {
      let pending = read(bufs[0]!);
      for (;;) {
        const n = await pending;
        if (n === 0) break;
        const text = decoder.write(bufs[0]!.subarray(0, n));
        bufs = [bufs[1]!, bufs[0]!];
        pending = read(bufs[0]!);
        const batch = cutter.push(text);
        if (batch.length > 0) yield batch;
      }
      const tail = cutter.push(decoder.end());
      tail.push(...cutter.end());
      if (tail.length > 0) yield tail;
    } catch (err) {
      failed = `cat: ${path}: ${(err as Error).message}\n`;
    } finally {
      close();
    }
  })();
  return {
    lines,
    result: async () =>
      failed === undefined ? { exitCode: 0, stderr: '' } : { exitCode: 1, stderr: failed },
    stop: close,
  };
}

/** Reader for a file: read directly on the host, by `cat FILE` run inside a netns (withNetns). */
export function fileReader(path: string, netns: string | undefined): SnapshotReader {
  if (netns !== undefined) return commandReader(['cat', path], netns);
  return async () => {
    try {
      return { stdout: await readFile(path, 'utf8'), stderr: '', exitCode: 0 };
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ENOENT') throw noSuchFile(path);
      return { stdout: '', stderr: `cat: ${path}: ${(err as Error).message}\n`, exitCode: 1 };
    }
  };
}

/** A snapshot source; `status` tells whether the last run worked, failed, or the tool is unavailable. */
export class SnapshotSource implements Source {
  readonly id: SourceId;
  readonly argv: readonly string[];
  readonly kind: string;
  readonly netns: string | undefined;
  private readonly spec: SnapshotSpec;
  private readonly clock: Clock;
  private current: SourceStatus = { state: 'idle', runs: 0 };
  private output: SnapshotOutput | undefined;

  constructor(spec: SnapshotSpec) {
    this.spec = spec;
    this.kind = spec.kind;
    this.netns = spec.netns;
    this.argv = [...spec.argv];
    this.id = sourceIdOf(spec.kind, spec.netns ?? spec.scope);
    this.clock = spec.clock ?? systemClock;
  }

  /** How the last run went (`idle` before the first). */
  get status(): SourceStatus {
    return this.current;
  }

  /** The raw output of the last snapshot() (byte-exact stdout for a bundle file); undefined when unavailable. */
  get lastOutput(): SnapshotOutput | undefined {
    return this.output;
  }

  /** Runs the command once and returns its framed records (begin … end); never throws for tool problems. */
  async snapshot(): Promise<RawRecord[]> {
    const t = this.clock();
    const runs = this.current.runs + 1;
    this.output = undefined;
    if (this.spec.unavailable !== undefined) {
      this.current = {
        state: 'unavailable',
        runs,
        exitCode: EXIT_UNAVAILABLE,
        message: this.spec.unavailable,
      };
      return frameSnapshot(this.id, t, this.argv, {
        stdout: '',
        stderr: `${this.spec.unavailable}\n`,
        exitCode: EXIT_UNAVAILABLE,
      });
    }
    const reader = this.spec.read ?? commandReader(this.argv, this.netns, this.spec.timeoutMs);
    let out: SnapshotOutput;
    try {
      out = await reader();
    } catch (err) {
      return this.failedStart(t, runs, err);
    }
    this.output = out;
    this.ended(runs, out.exitCode, out.stderr, splitLines(out.stderr));
    return frameSnapshot(this.id, t, this.argv, out);
  }

  /** The status after a run that started: ok, or failed with its exit code and last stderr line. */
  private ended(runs: number, exitCode: number, stderr: string, errLines: readonly string[]): void {
    const stderrTail = stderr.slice(-2000);
    const lastErr = errLines[errLines.length - 1];
    this.current =
      exitCode === 0
        ? { state: 'ok', runs, exitCode: 0, stderrTail }
        : {
            state: 'failed',
            runs,
            exitCode,
            stderrTail,
            message: `${this.argv.join(' ')} exited ${exitCode}${lastErr ? `: ${lastErr}` : ''}`,
          };
  }

  /** Records the same as snapshot() would, for a failed start (missing tool …): begin, err, end. */
  private failedStart(t: number, runs: number, err: unknown): RawRecord[] {
    const message = err instanceof Error ? err.message : String(err);
    const unavailable = err instanceof EnvironmentError;
    const exitCode = unavailable ? EXIT_UNAVAILABLE : 1;
    this.current = { state: unavailable ? 'unavailable' : 'failed', runs, exitCode, message };
    return frameSnapshot(this.id, t, this.argv, { stdout: '', stderr: `${message}\n`, exitCode });
  }

  /**
   * One snapshot as it is read: the same records as snapshot() (begin, stdout lines, stderr lines as
   * err, end; one time for all), in arrays as the output arrives, so the consumer parses while the
   * tool still writes. Commands and files are streamed; custom readers come as one array.
   * `lastOutput` is not kept. Stopping the iteration early stops the child.
   */
  async *streamSnapshot(signal: AbortSignal): AsyncGenerator<RawRecord[], void, undefined> {
    const spec = this.spec;
    if (spec.unavailable !== undefined || (spec.read !== undefined && spec.file === undefined)) {
      yield await this.snapshot();
      return;
    }
    const t = this.clock();
    const runs = this.current.runs + 1;
    const src = this.id;
    this.output = undefined;
    let stream: StdoutStream;
    try {
      stream =
        spec.file !== undefined && this.netns === undefined
          ? await openFileStream(spec.file)
          : await openCommandStream(this.argv, this.netns, spec.timeoutMs ?? 120_000, signal);
    } catch (err) {
      yield this.failedStart(t, runs, err);
      return;
    }
    let result: StreamResult;
    try {
      yield [{ t, src, line: this.argv.join(' '), k: 'begin' }];
      try {
        for await (const lines of stream.lines) {
          const n = lines.length;
          const batch = new Array<RawRecord>(n);
          for (let i = 0; i < n; i++) batch[i] = { t, src, line: lines[i]! };
          yield batch;
        }
        result = await stream.result();
      } catch (err) {
        // Spawned but not found after all (a race with the PATH check): as a failed start, after the begin.
        yield this.failedStart(t, runs, err).slice(1);
        return;
      }
    } finally {
      stream.stop();
    }
    const tail: RawRecord[] = [];
    const errLines = splitLines(result.stderr);
    for (const line of errLines) tail.push({ t, src, line, k: 'err' });
    tail.push({ t, src, line: `exit ${result.exitCode}`, k: 'end' });
    this.ended(runs, result.exitCode, result.stderr, errLines);
    yield tail;
  }

  /** Like records(), one array per chunk of output (see streamSnapshot): one await per chunk, not per record. */
  async *batches(signal: AbortSignal): AsyncIterable<readonly RawRecord[]> {
    for (;;) {
      if (!(await this.turn(signal))) return;
      // The consumer models each batch before asking for the next: the time includes its work.
      const t0 = performance.now();
      yield* this.streamSnapshot(signal);
      if (!(await this.nextRun(t0, signal))) return;
    }
  }

  /**
   * Each snapshot whole, read as batches() reads it (no buffering child runner), yielded only once
   * complete: a live session never sees half a snapshot. An abort waits for the running snapshot,
   * as before; `lastOutput` is kept by snapshot() only.
   */
  async *records(signal: AbortSignal): AsyncIterable<RawRecord> {
    const never = new AbortController().signal;
    for (;;) {
      if (!(await this.turn(signal))) return;
      const t0 = performance.now();
      let whole: RawRecord[] | undefined;
      for await (const batch of this.streamSnapshot(never)) {
        if (whole === undefined) whole = batch;
        else for (let i = 0; i < batch.length; i++) whole.push(batch[i]!);
      }
      if (whole !== undefined) yield* whole;
      if (!(await this.nextRun(t0, signal))) return;
    }
  }

  /** Before a run: false once the session stopped; waits for the pacer's turn when there is one. */
  private async turn(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return false;
    if (this.spec.pacer === undefined) return true;
    await this.spec.pacer.turn(signal);
    return !signal.aborted;
  }

  /**
   * After a run that began at `t0`: false for a one-off source, or one whose tool is missing (it will
   * not appear between two polls: stop instead of repeating the same error); otherwise waits for the
   * next run, spaced out past intervalMs by SNAPSHOT_TIME_SHARE.
   */
  private async nextRun(t0: number, signal: AbortSignal): Promise<boolean> {
    if (this.spec.intervalMs === undefined || this.current.state === 'unavailable') return false;
    await sleep(
      dutyCycleDelay(this.spec.intervalMs, performance.now() - t0, SNAPSHOT_TIME_SHARE),
      signal,
    );
    return true;
  }
}

/** Options shared by the concrete snapshot sources. */
export interface SnapshotOptions {
  readonly netns?: string;
  readonly clock?: Clock;
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
  readonly pacer?: ReadPacer;
}

/** A snapshot source for a plain read-only command. */
export function commandSource(
  kind: string,
  argv: readonly string[],
  opts: SnapshotOptions = {},
): SnapshotSource {
  return new SnapshotSource({ kind, argv, ...opts });
}

/** A snapshot source for a file (a `/proc` table), recorded as `cat FILE`. */
export function fileSource(kind: string, path: string, opts: SnapshotOptions = {}): SnapshotSource {
  return new SnapshotSource({
    kind,
    argv: ['cat', path],
    read: fileReader(path, opts.netns),
    file: path,
    ...opts,
  });
}

/** Exit status in an `end` record (`exit 127` → 127), or undefined for another line (pure). */
export function endExitCode(line: string): number | undefined {
  const m = /^exit (\d{1,3})$/.exec(line);
  return m ? Number(m[1]) : undefined;
}

/**
 * How a live source ended, for a session's health view: `unavailable` (tool or feature missing),
 * `failed`, or undefined when it has no status or is fine. Works for SnapshotSource and
 * ConntrackEventsSource (both expose `status`).
 */
export function sourceProblem(
  source: object,
): { state: 'unavailable' | 'failed'; message: string } | undefined {
  const status = (source as { status?: { state?: string; message?: string } }).status;
  if (status?.state === 'unavailable' || status?.state === 'failed')
    return { state: status.state, message: status.message ?? status.state };
  return undefined;
}

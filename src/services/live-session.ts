// A live session: sources → (recorder) → engine, diagnosed periodically, exposed as a store for the
// TUI and as a stream of changes for `kdiag trace`.
import { setMaxListeners } from 'node:events';
import type { AnalyzeOptions } from '../analysis/analyze.js';
import type { Diagnosis, Finding, Prediction } from '../model/diagnosis.js';
import type { Observation } from '../model/observation.js';
import type {
  AppliedChange,
  FeedItem,
  SessionCommand,
  SessionSnapshot,
  SessionStore,
  SourceHealth,
} from '../model/session.js';
import type { FixtureWriter } from '../record/fixture-writer.js';
import type { RawRecord } from '../engine/raw-record.js';
import { dutyCycleDelay } from '../sources/sleep.js';
import type { Clock, Source } from '../sources/source.js';
import { Engine } from '../engine/engine.js';
import { feedItemFor } from '../engine/feed.js';
import { RecordRate } from './record-rate.js';
import { limitLiveHeapGrowth } from './live-heap.js';
import { FailureSignals } from './failure-signals.js';

/**
 * `update` marks a finding or prediction emitted before under the same id (a finding's id, a
 * prediction's flow) that later evidence changed: a consumer replaces the earlier one. A withdrawal
 * says the latest analysis no longer has it (a keepalive value read later cleared a false alarm).
 */
export type SessionChange =
  | {
      readonly type: 'finding';
      readonly finding: Finding;
      readonly diagnosis: Diagnosis;
      readonly update: boolean;
    }
  | { readonly type: 'finding-withdrawn'; readonly finding: Finding; readonly diagnosis: Diagnosis }
  | {
      readonly type: 'prediction';
      readonly prediction: Prediction;
      readonly diagnosis: Diagnosis;
      readonly update: boolean;
    }
  | {
      readonly type: 'prediction-withdrawn';
      readonly prediction: Prediction;
      readonly diagnosis: Diagnosis;
    }
  | { readonly type: 'event'; readonly item: FeedItem }
  | { readonly type: 'source'; readonly health: SourceHealth };

export interface LiveSessionOptions {
  readonly sources: readonly Source[];
  readonly analysis: AnalyzeOptions;
  readonly clock: Clock;
  readonly recorder?: FixtureWriter;
  readonly analyzeEveryMs?: number;
  readonly missing?: readonly string[];
  /** Handles `apply`/`revert` commands from the UI (the CLI wires it to apply/). */
  readonly onApply?: (suggestion: string) => Promise<AppliedChange>;
  readonly onRevert?: (journalId: string) => Promise<void>;
  /**
   * Sources for which `deferred` is true start once `deferUntil` settles (trace: the probes have
   * attached): on a small node their reads would slow bpftrace's compile, the long pole of ready.
   */
  readonly deferUntil?: Promise<void>;
  readonly deferred?: (s: Source) => boolean;
  /** Sees every observation as it reaches the model (trace watches for probes attaching). */
  readonly onObservation?: (o: Observation) => void;
}

/**
 * The share of one core the periodic analysis may take: past it, ticks are spaced out. A node's table
 * of 10^6 flows takes ~0.4 s per analysis (BENCHMARKS.md), which once a second would be 40% of a core
 * taken from the node kdiag is diagnosing.
 */
export const ANALYSIS_CPU_SHARE = 0.1;

/**
 * While the kernel reports drops, resets or refused flows, the user is waiting on their cause: the
 * next analysis comes sooner, within this larger share (a 262,144-entry table takes ~0.8 s to analyse,
 * so the 10% share alone would explain a full table 8 s late).
 */
export const URGENT_ANALYSIS_SHARE = 0.3;
/** Analyses at most once a second however many signals come: on a small table that is soon enough. */
export const URGENT_MIN_GAP_MS = 1000;
/** The wait after a failure signal, so the records that explain it (the same snapshot) land first. */
export const URGENT_BATCH_MS = 250;

const EMPTY: Diagnosis = { at: 0, findings: [], predictions: [], suggestions: [], flows: [] };
const FEED_MAX = 500;

interface Health {
  id: string;
  state: SourceHealth['state'];
  records: number;
  message?: string;
  rate: RecordRate;
}

/** Runs sources until stopped; analysis runs on a timer (within ANALYSIS_CPU_SHARE of a core) and on stop. */
export class LiveSession implements SessionStore {
  readonly engine: Engine;
  private readonly abort = new AbortController();
  private readonly health = new Map<string, Health>();
  private readonly listeners = new Set<() => void>();
  private readonly changeListeners = new Set<(c: SessionChange) => void>();
  private readonly changes = new DiagnosisChanges();
  private feed: FeedItem[] = [];
  private diagnosis: Diagnosis = EMPTY;
  private snapshot: SessionSnapshot;
  private paused = false;
  private applied: AppliedChange[] = [];
  private loops: Promise<void>[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** When the pending timer fires (performance.now() ms). */
  private tickDueAt = Infinity;
  private lastTickEndedAt = -Infinity;
  private lastTickMs = 0;
  private readonly signals = new FailureSignals();
  private recordNo = 0;
  private stopped: Promise<void> | undefined;

  constructor(private readonly opts: LiveSessionOptions) {
    this.engine = new Engine({ analysis: opts.analysis, onObservation: (o) => this.observe(o) });
    // Every source listens on the one stop signal.
    setMaxListeners(opts.sources.length + 10, this.abort.signal);
    for (const s of opts.sources)
      this.health.set(s.id, { id: s.id, state: 'starting', records: 0, rate: new RecordRate() });
    this.snapshot = this.buildSnapshot();
  }

  /** Starts every source; resolves once they are running (not when they end). */
  start(): void {
    limitLiveHeapGrowth();
    const { deferUntil, deferred } = this.opts;
    for (const s of this.opts.sources)
      this.loops.push(
        deferUntil && deferred?.(s)
          ? deferUntil.then(() => (this.abort.signal.aborted ? undefined : this.runSource(s)))
          : this.runSource(s),
      );
    this.scheduleTick(this.opts.analyzeEveryMs ?? 1000);
  }

  private scheduleTick(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.tickDueAt = performance.now() + ms;
    this.timer = setTimeout(() => {
      this.tickDueAt = Infinity;
      this.tick();
      if (this.stopped === undefined)
        this.scheduleTick(
          dutyCycleDelay(this.opts.analyzeEveryMs ?? 1000, this.lastTickMs, ANALYSIS_CPU_SHARE),
        );
    }, ms);
  }

  /** Brings the next analysis forward after a failure signal, within URGENT_ANALYSIS_SHARE. */
  private hurry(): void {
    if (this.stopped !== undefined || this.tickDueAt === Infinity) return;
    const now = performance.now();
    const gap = dutyCycleDelay(URGENT_MIN_GAP_MS, this.lastTickMs, URGENT_ANALYSIS_SHARE);
    const due = Math.max(now + URGENT_BATCH_MS, this.lastTickEndedAt + gap);
    if (due < this.tickDueAt) this.scheduleTick(due - now);
  }

  private async runSource(s: Source): Promise<void> {
    const h = this.health.get(s.id)!;
    try {
      // A probe source is starting (compiling, attaching) until bpftrace says its probes attached.
      const attaches = s.id.startsWith('bpftrace');
      for await (const rec of s.records(this.abort.signal)) {
        if (h.state === 'starting' && (!attaches || rec.line.includes('"attached_probes"'))) {
          h.state = 'running';
          if (attaches) this.emitChange({ type: 'source', health: this.healthOf(h) });
        }
        this.ingest(rec, h);
      }
      if (h.state !== 'failed')
        h.state = this.abort.signal.aborted
          ? 'done'
          : h.state === 'starting'
            ? 'unavailable'
            : 'done';
    } catch (err) {
      h.state = 'failed';
      h.message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    }
    this.emitChange({ type: 'source', health: this.healthOf(h) });
  }

  /** Feeds one record from a source: recorded first, then parsed. */
  ingest(rec: RawRecord, h?: Health): void {
    this.opts.recorder?.write(rec);
    if (h) {
      h.records++;
      h.rate.note(rec.t);
      if (rec.k === 'err' && /^(ERROR|error:|can't|cannot)/i.test(rec.line))
        h.message = rec.line.slice(0, 200);
    }
    this.engine.push({ rec, file: rec.src, line: ++this.recordNo });
  }

  private observe(o: Observation): void {
    this.opts.onObservation?.(o);
    if (this.signals.isNews(o)) this.hurry();
    const item = feedItemFor(o);
    if (item) {
      this.feed.push(item);
      if (this.feed.length > FEED_MAX * 2) this.feed = this.feed.slice(-FEED_MAX);
      this.emitChange({ type: 'event', item });
    }
  }

  /** Runs analysis now and reports what is new, what changed and what went away since the last tick. */
  tick(): Diagnosis {
    const t0 = performance.now();
    const d = this.engine.diagnose(this.opts.clock());
    this.diagnosis = d;
    for (const c of this.changes.diff(d)) this.emitChange(c);
    const flowsOfFinding = new Map<string, string>();
    for (const f of d.findings) for (const fl of f.flows) flowsOfFinding.set(fl, f.id);
    this.feed = this.feed.map((it) =>
      it.flow && !it.finding && flowsOfFinding.has(it.flow)
        ? { ...it, finding: flowsOfFinding.get(it.flow)! }
        : it,
    );
    if (!this.paused) {
      this.snapshot = this.buildSnapshot();
      for (const l of this.listeners) l();
    }
    this.lastTickEndedAt = performance.now();
    this.lastTickMs = this.lastTickEndedAt - t0;
    return d;
  }

  private healthOf(h: Health): SourceHealth {
    // The decoder counts lost events (loss lines on stderr, probe status) the same way for replay.
    return {
      id: h.id,
      state: h.state,
      records: h.records,
      rate: h.rate.perSec(this.opts.clock()),
      lost: this.lostOf(h.id),
      ...(h.message ? { message: h.message } : {}),
    };
  }

  /**
   * Events a source lost, as the decoder counted them: a bpftrace program of several probes is one
   * source whose records go to each probe's `bpftrace:<probe>`, so its count is theirs summed.
   */
  private lostOf(id: string): number {
    const per = this.engine.decoder.perSource;
    let lost = per.get(id)?.lost ?? 0;
    if (id === 'bpftrace')
      for (const [src, st] of per) if (src.startsWith('bpftrace:')) lost += st.lost;
    return lost;
  }

  private buildSnapshot(): SessionSnapshot {
    const rec = this.opts.recorder;
    return {
      mode: 'live',
      diagnosis: this.diagnosis,
      feed: this.feed.slice(-FEED_MAX),
      sources: [...this.health.values()].map((h) => this.healthOf(h)),
      ...(rec ? { recording: { path: rec.path, records: rec.count } } : {}),
      missing: this.opts.missing ?? [],
      paused: this.paused,
      applied: this.applied,
      issues: this.engine.decoder.issueCount,
    };
  }

  getSnapshot(): SessionSnapshot {
    return this.snapshot;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onChange(listener: (c: SessionChange) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  private emitChange(c: SessionChange): void {
    for (const l of this.changeListeners) l(c);
  }

  dispatch(command: SessionCommand): void {
    switch (command.type) {
      case 'pause':
        this.paused = true;
        this.snapshot = { ...this.snapshot, paused: true };
        for (const l of this.listeners) l();
        break;
      case 'resume':
        this.paused = false;
        this.tick();
        break;
      case 'stop':
        void this.stop();
        break;
      case 'apply':
        if (this.opts.onApply) {
          this.opts.onApply(command.suggestion).then(
            (a) => {
              this.applied = [...this.applied, a];
              this.tick();
            },
            (err: unknown) => {
              this.feed.push({
                t: this.opts.clock(),
                kind: 'info',
                text: `apply ${command.suggestion} failed: ${(err as Error).message}`,
                src: 'kdiag:apply',
              });
              this.tick();
            },
          );
        }
        break;
      case 'revert':
        if (this.opts.onRevert) {
          this.opts.onRevert(command.journalId).then(
            () => {
              this.applied = this.applied.map((a) =>
                a.journalId === command.journalId ? { ...a, reverted: true } : a,
              );
              this.tick();
            },
            (err: unknown) => {
              this.feed.push({
                t: this.opts.clock(),
                kind: 'info',
                text: `revert ${command.journalId} failed: ${(err as Error).message}`,
                src: 'kdiag:apply',
              });
              this.tick();
            },
          );
        }
        break;
      default:
        break;
    }
  }

  /** True once every source has ended by itself. */
  get sourcesDone(): boolean {
    return [...this.health.values()].every(
      (h) => h.state === 'done' || h.state === 'failed' || h.state === 'unavailable',
    );
  }

  /** Stops the sources (bpftrace gets SIGINT), flushes the recording, runs a final analysis. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      if (this.timer) clearTimeout(this.timer);
      this.abort.abort();
      await Promise.allSettled(this.loops);
      this.engine.finish();
      this.tick();
      await this.opts.recorder?.close();
    })();
    return this.stopped;
  }

  /** Every source's health now. */
  sourceHealth(): SourceHealth[] {
    return [...this.health.values()].map((h) => this.healthOf(h));
  }
}

/**
 * How often a finding is re-emitted when only numbers in what it says changed (ms of diagnosis
 * time): a value that moves with the clock is news now and then, not at every analysis.
 */
export const NUMBERS_ONLY_UPDATE_MS = 30_000;
const NUMBER = /\d+(?:\.\d+)?/g;

/**
 * What changed between one analysis and the last: findings new or changed (by id), findings gone,
 * predictions new or with another breaking layer (by flow), predictions gone.
 */
export class DiagnosisChanges {
  /**
   * Findings last emitted, by id, with what makes a re-emission news (findingSignature), the same
   * with the cause's numbers masked, and when it was last emitted (diagnosis time).
   */
  private readonly findings = new Map<
    string,
    { finding: Finding; sig: string; shape: string; at: number }
  >();
  /** Predictions last emitted, by flow. */
  private readonly predictions = new Map<string, Prediction>();

  diff(d: Diagnosis): SessionChange[] {
    const out: SessionChange[] = [];
    const present = new Set<string>();
    for (const f of d.findings) {
      present.add(f.id);
      const sig = findingSignature(f);
      const before = this.findings.get(f.id);
      if (before?.sig === sig) continue;
      // A cause whose words stay and whose numbers move with the clock ("the idlest idle 4284 s")
      // would re-emit every finding at every analysis: thousands of lines a tick on a big table.
      const shape = findingSignature(f, true);
      if (before?.shape === shape && d.at - before.at < NUMBERS_ONLY_UPDATE_MS) continue;
      this.findings.set(f.id, { finding: f, sig, shape, at: d.at });
      out.push({ type: 'finding', finding: f, diagnosis: d, update: before !== undefined });
    }
    for (const [id, { finding }] of this.findings) {
      if (present.has(id)) continue;
      this.findings.delete(id);
      out.push({ type: 'finding-withdrawn', finding, diagnosis: d });
    }
    const atRisk = new Set<string>();
    for (const p of d.predictions) {
      atRisk.add(p.flow);
      // News when the flow is new to the list or its breaking layer changed, not as the countdown runs.
      const before = this.predictions.get(p.flow);
      if (before?.layer === p.layer) continue;
      this.predictions.set(p.flow, p);
      out.push({ type: 'prediction', prediction: p, diagnosis: d, update: before !== undefined });
    }
    for (const [flow, prediction] of this.predictions) {
      if (atRisk.has(flow)) continue;
      this.predictions.delete(flow);
      out.push({ type: 'prediction-withdrawn', prediction, diagnosis: d });
    }
    return out;
  }
}

/**
 * What a finding says, without what only moves on (its time, its growing evidence list): a change
 * here is an upgrade or a correction worth emitting again under the same id. With the cause's
 * numbers masked, what stays when only a measured value moved.
 */
export function findingSignature(f: Finding, maskCauseNumbers = false): string {
  return JSON.stringify([
    f.rule,
    f.fm,
    f.severity,
    f.confidence,
    f.title,
    maskCauseNumbers ? f.cause.replace(NUMBER, '#') : f.cause,
    [...f.flows].sort(),
    [...f.suggestions].sort(),
  ]);
}

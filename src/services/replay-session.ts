// A recording played back as a session (for the TUI): play/pause, speed, seek. Seeking rebuilds the
// model from the start up to the target time, so what is shown is exactly what a live run saw then.
import type { AnalyzeOptions } from '../analysis/analyze.js';
import type { Diagnosis } from '../model/diagnosis.js';
import type {
  FeedItem,
  SessionCommand,
  SessionSnapshot,
  SessionStore,
  SourceHealth,
} from '../model/session.js';
import type { LocatedRecord } from '../engine/raw-record.js';
import { Engine } from '../engine/engine.js';
import { feedItemFor } from '../engine/feed.js';
import { RecordRate } from './record-rate.js';

const FEED_MAX = 500;

export class ReplaySession implements SessionStore {
  private engine!: Engine;
  private feed: FeedItem[] = [];
  /** Each source's record rate, as far as the replay has got. */
  private replayed = new Map<string, RecordRate>();
  /** The index of each source's last record: past it, the source is done. */
  private readonly lastOf = new Map<string, number>();
  private next = 0;
  private at: number;
  private playing = false;
  private speed = 1;
  private timer: NodeJS.Timeout | undefined;
  private diagnosis: Diagnosis;
  private snapshot!: SessionSnapshot;
  private readonly listeners = new Set<() => void>();
  readonly start: number;
  readonly end: number;

  constructor(
    private readonly records: readonly LocatedRecord[],
    private readonly analysis: AnalyzeOptions,
    private readonly tickMs = 250,
  ) {
    for (let i = 0; i < records.length; i++) this.lastOf.set(records[i]!.rec.src, i);
    this.start = records.length ? Math.min(...records.slice(0, 1000).map((r) => r.rec.t)) : 0;
    this.end = records.reduce((m, r) => Math.max(m, r.rec.t), this.start);
    this.at = this.start;
    this.reset();
    this.diagnosis = { at: this.start, findings: [], predictions: [], suggestions: [], flows: [] };
    this.advanceTo(this.end);
    this.refresh();
  }

  private reset(): void {
    this.feed = [];
    this.replayed = new Map();
    this.next = 0;
    this.engine = new Engine({
      analysis: this.analysis,
      onObservation: (o) => {
        const item = feedItemFor(o);
        if (item) {
          this.feed.push(item);
          if (this.feed.length > FEED_MAX * 2) this.feed = this.feed.slice(-FEED_MAX);
        }
      },
    });
  }

  private advanceTo(t: number): void {
    while (this.next < this.records.length && this.records[this.next]!.rec.t <= t) {
      const lr = this.records[this.next++]!;
      this.noteSource(lr.rec.src, lr.rec.t);
      this.engine.push(lr);
    }
    if (this.next >= this.records.length) this.engine.finish();
    this.at = Math.min(t, this.end);
  }

  private noteSource(src: string, t: number): void {
    let r = this.replayed.get(src);
    if (r === undefined) {
      r = new RecordRate();
      this.replayed.set(src, r);
    }
    r.note(t);
  }

  /** Each source as the live view showed it at this point: records, rate, and the events it had lost (read from the recorded loss lines). */
  private sourcesNow(): SourceHealth[] {
    const out: SourceHealth[] = [];
    for (const [id, rate] of this.replayed) {
      // kdiag's own records (meta, owners) are not a tool the live view listed.
      if (id.startsWith('kdiag:')) continue;
      const st = this.engine.decoder.perSource.get(id);
      const done = this.next > (this.lastOf.get(id) ?? -1);
      out.push({
        id,
        state: done ? 'done' : 'running',
        records: st?.records ?? 0,
        rate: rate.perSec(this.at),
        lost: st?.lost ?? 0,
      });
    }
    return out;
  }

  private refresh(): void {
    this.diagnosis = this.engine.diagnose(this.at);
    const findingOf = new Map<string, string>();
    for (const f of this.diagnosis.findings) for (const fl of f.flows) findingOf.set(fl, f.id);
    const feed = this.feed
      .slice(-FEED_MAX)
      .map((it) =>
        it.flow && findingOf.has(it.flow) ? { ...it, finding: findingOf.get(it.flow)! } : it,
      );
    this.snapshot = {
      mode: 'replay',
      diagnosis: this.diagnosis,
      feed,
      sources: this.sourcesNow(),
      replay: {
        start: this.start,
        end: this.end,
        at: this.at,
        playing: this.playing,
        speed: this.speed,
      },
      missing: [],
      paused: !this.playing,
      applied: [],
      issues: this.engine.decoder.issueCount,
    };
    for (const l of this.listeners) l();
  }

  private seek(t: number): void {
    const target = Math.max(this.start, Math.min(this.end, t));
    if (target < this.at) this.reset();
    this.advanceTo(target);
    this.refresh();
  }

  getSnapshot(): SessionSnapshot {
    return this.snapshot;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  dispatch(command: SessionCommand): void {
    switch (command.type) {
      case 'play':
      case 'resume':
        if (this.at >= this.end) this.seek(this.start);
        this.playing = true;
        this.timer ??= setInterval(() => {
          this.advanceTo(this.at + this.tickMs * this.speed);
          if (this.at >= this.end) {
            this.playing = false;
            clearInterval(this.timer);
            this.timer = undefined;
          }
          this.refresh();
        }, this.tickMs);
        this.refresh();
        break;
      case 'pause':
      case 'stop':
        this.playing = false;
        if (this.timer) clearInterval(this.timer);
        this.timer = undefined;
        this.refresh();
        break;
      case 'speed':
        this.speed = Math.max(0.25, Math.min(64, command.speed));
        this.refresh();
        break;
      case 'seek':
        this.seek(command.t);
        break;
      default:
        // apply/revert make no sense on a recording.
        break;
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

// The engine: records → decoder → model → analysis → suggestions, one object that live sessions,
// replays and offline analysis all drive the same way.
import type { AnalyzeOptions } from '../analysis/analyze.js';
import type { Diagnosis } from '../model/diagnosis.js';
import { FlowTable } from '../model/flow-table.js';
import type { Observation } from '../model/observation.js';
import { Decoder } from './decoder.js';
import { diagnose } from './diagnose.js';
import type { LocatedRecord, RecordKind } from './raw-record.js';

export interface EngineOptions {
  /** Analysis options every diagnose() uses (path idle timeout, cloud, list sizes). */
  readonly analysis?: AnalyzeOptions;
  /** Sees every observation right after the model has it (feed, summary, probe attach watch). */
  readonly onObservation?: (o: Observation) => void;
}

/** Feeds records through the decoder into the FlowTable, and diagnoses the table on demand. */
export class Engine {
  readonly table = new FlowTable();
  /** Counters and issues of the records fed so far (per source, parse issues, records). */
  readonly decoder: Decoder;
  private readonly analysis: AnalyzeOptions;

  constructor(opts: EngineOptions = {}) {
    this.analysis = opts.analysis ?? {};
    const table = this.table;
    const extra = opts.onObservation;
    // Two sinks, not one that tests for the callback: this runs once per observation.
    this.decoder = new Decoder(
      extra === undefined
        ? (o) => table.apply(o)
        : (o) => {
            table.apply(o);
            extra(o);
          },
    );
  }

  /** Feeds one located record. */
  push(lr: LocatedRecord): void {
    const { rec } = lr;
    this.decoder.pushRecord(rec.t, rec.src, rec.line, rec.k, lr.file, lr.line);
  }

  /** Feeds one record given by its parts: no record object per line (the replay's hot path). */
  pushRecord(
    t: number,
    src: string,
    line: string,
    k: RecordKind | undefined,
    file: string,
    no: number,
  ): void {
    this.decoder.pushRecord(t, src, line, k, file, no);
  }

  /** Gives the model a fact no record carries (the kernel a recording's header names); no observer sees it. */
  assume(o: Observation): void {
    this.table.apply(o);
  }

  /** Closes snapshots left open (a recording cut short, a session stopped) so what was read counts. */
  finish(): void {
    this.decoder.finish();
  }

  /** Analysis, then suggestions, as of `now` (ms; default: the latest observation). */
  diagnose(now?: number): Diagnosis {
    return diagnose(this.table, now === undefined ? this.analysis : { ...this.analysis, now });
  }
}

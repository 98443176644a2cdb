// Offline analysis of a recording or a bundle: opens the input and drives the engine through it.
import { stat } from 'node:fs/promises';
import type { AnalyzeOptions } from '../analysis/analyze.js';
import { InputError } from '../errors.js';
import type { Diagnosis } from '../model/diagnosis.js';
import type { Observation } from '../model/observation.js';
import { planBundle, readBundle, type BundlePlan } from '../record/bundle-reader.js';
import type { FixtureHeader } from '../record/fixture-header.js';
import type { LocatedRecord } from '../engine/raw-record.js';
import { openFixture, type RecordColumns } from '../record/fixture-reader.js';
import type { DecodeIssue, SourceStats } from '../engine/decoder.js';
import { Engine } from '../engine/engine.js';
import { SummaryCollector, type CaptureSummary } from '../engine/summary.js';

export interface InputInfo {
  readonly kind: 'recording' | 'bundle' | 'live';
  readonly path: string;
  readonly header?: FixtureHeader;
  readonly bundle?: Pick<BundlePlan, 'files' | 'ignored' | 'timeKnown' | 'host'>;
  readonly live?: { readonly hostname: string; readonly kernel: string; readonly netns?: string; readonly notes: readonly string[] };
}

export interface OpenedInput {
  readonly info: InputInfo;
  readonly records: AsyncIterable<LocatedRecord>;
  /** The same records one array at a time, when the reader has them so (a recording); iterate one of the two. */
  readonly batches?: AsyncIterable<readonly LocatedRecord[]>;
  /** The same records as parallel arrays per chunk, when the reader has them so (a recording); iterate one of the three. */
  readonly columns?: AsyncIterable<RecordColumns>;
  readonly notices: string[];
}

/** Opens a recording file or a bundle folder as one stream of located records. */
export async function openInput(path: string): Promise<OpenedInput> {
  const st = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw new InputError(path, undefined, err.code === 'ENOENT' ? 'no such file or folder' : `can't read: ${err.message}`);
  });
  if (st.isDirectory()) {
    const plan = await planBundle(path);
    const notices = plan.ignored.length ? [`ignored files not recognised as bundle outputs: ${plan.ignored.join(', ')}`] : [];
    if (!plan.timeKnown) notices.push('the bundle has no capture time (no kdiag-collect.json and no conntrack -E timestamps): times are relative');
    return {
      info: { kind: 'bundle', path, bundle: { files: plan.files, ignored: plan.ignored, timeKnown: plan.timeKnown, ...(plan.host ? { host: plan.host } : {}) } },
      records: readBundle(plan),
      notices,
    };
  }
  const fx = await openFixture(path);
  return { info: { kind: 'recording', path, header: fx.header }, records: fx.records, batches: fx.batches, columns: fx.columns, notices: fx.notices };
}

/** Options a recording carries in its header that analysis honours unless the user overrides them. */
export function optionsFromHeader(header: FixtureHeader | undefined): AnalyzeOptions {
  const o = header?.options ?? {};
  const out: { pathIdleTimeoutSec?: number; cloud?: AnalyzeOptions['cloud'] } = {};
  if (typeof o.pathIdleTimeoutSec === 'number') out.pathIdleTimeoutSec = o.pathIdleTimeoutSec;
  if (typeof o.cloud === 'string') out.cloud = o.cloud as AnalyzeOptions['cloud'];
  return out;
}

export interface AnalysisResult {
  readonly input: InputInfo;
  readonly summary: CaptureSummary;
  readonly diagnosis: Diagnosis;
  readonly issues: readonly DecodeIssue[];
  readonly issueCount: number;
  readonly records: number;
  readonly notices: readonly string[];
  readonly sources: Readonly<Record<string, SourceStats>>;
}

export interface AnalyzeInputOptions extends AnalyzeOptions {
  /** Called every `progressEvery` records with the count so far. */
  readonly onProgress?: (records: number) => void;
  readonly progressEvery?: number;
  /** Sees every observation (the TUI replay uses it). */
  readonly onObservation?: (o: Observation) => void;
}

/** Runs an opened input through the engine: decoder, model, analysis, suggestions. */
export async function analyzeRecords(opened: OpenedInput, opts: AnalyzeInputOptions = {}): Promise<AnalysisResult> {
  const summary = new SummaryCollector();
  const extra = opts.onObservation;
  const { onProgress, progressEvery, onObservation: _o, ...analyzeOpts } = opts;
  const engine = new Engine({
    analysis: { ...optionsFromHeader(opened.info.header), ...analyzeOpts },
    onObservation: extra === undefined ? (o) => summary.observe(o) : (o) => {
      summary.observe(o);
      extra(o);
    },
  });
  const kernel = opened.info.header?.host.kernel ?? opened.info.bundle?.host?.kernel ?? opened.info.live?.kernel;
  if (kernel) engine.assume({ t: 0, src: 'kdiag:meta', kind: 'meta', key: 'kernel-release', value: kernel });
  const every = progressEvery ?? 100_000;
  let n = 0;
  if (opened.columns) {
    // Parallel arrays per chunk: no RawRecord or LocatedRecord per record (bench/).
    for await (const c of opened.columns) {
      const { t, src, line, k, no, file, count } = c;
      for (let i = 0; i < count; i++) {
        engine.pushRecord(t[i]!, src[i]!, line[i]!, k[i], file, no[i]!);
        if (onProgress && ++n % every === 0) onProgress(n);
      }
    }
  } else if (opened.batches) {
    // One await per chunk of records, not per record: the per-record async hop was most of a replay's overhead (bench/).
    for await (const batch of opened.batches) {
      for (let i = 0; i < batch.length; i++) {
        engine.push(batch[i]!);
        if (onProgress && ++n % every === 0) onProgress(n);
      }
    }
  } else {
    for await (const lr of opened.records) {
      engine.push(lr);
      if (onProgress && ++n % every === 0) onProgress(n);
    }
  }
  engine.finish();
  const diagnosis = engine.diagnose();
  const decoder = engine.decoder;
  return {
    input: opened.info,
    summary: summary.result(),
    diagnosis,
    issues: decoder.issues,
    issueCount: decoder.issueCount,
    records: decoder.records,
    notices: opened.notices,
    sources: Object.fromEntries(decoder.perSource),
  };
}

/** Opens and analyses a recording or bundle. */
export async function analyzeInput(path: string, opts: AnalyzeInputOptions = {}): Promise<AnalysisResult> {
  return analyzeRecords(await openInput(path), opts);
}

// Offline analysis of a recording or a bundle: opens the input and drives the engine through it.
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AnalyzeOptions } from '../analysis/analyze.js';
import { InputError } from '../errors.js';
import type { Diagnosis } from '../model/diagnosis.js';
import type { Observation } from '../model/observation.js';
import {
  planBundle,
  planMemoryBundle,
  readBundle,
  type BundlePlan,
  type MemoryFile,
} from '../record/bundle-reader.js';
import { archiveKindOf, readArchive, ARCHIVE_LIMITS } from '../record/archive-reader.js';
import { isCiliumSysdumpName, readCiliumSysdump } from '../record/cilium-sysdump.js';
import { ticketBundle, type TicketBundle } from './ticket-bundle.js';
import type { FixtureHeader } from '../record/fixture-header.js';
import type { LocatedRecord } from '../engine/raw-record.js';
import { openFixture, type RecordColumns } from '../record/fixture-reader.js';
import type { DecodeIssue, SourceStats } from '../engine/decoder.js';
import { Engine } from '../engine/engine.js';
import { cloudScopeNotes } from '../analysis/path/cloud-reach.js';
import {
  bundleDataPlaneFacts,
  describeDataPlane,
  detectDataPlane,
} from '../analysis/data-plane.js';
import {
  missingInputs,
  ReadCounter,
  SummaryCollector,
  type CaptureSummary,
  type MissingInput,
} from '../engine/summary.js';

export interface InputInfo {
  /** `ticket`: one pasted text file of command outputs, read as the bundle it stands for. */
  readonly kind: 'recording' | 'bundle' | 'ticket' | 'live';
  readonly path: string;
  readonly header?: FixtureHeader;
  readonly bundle?: Pick<BundlePlan, 'files' | 'ignored' | 'timeKnown' | 'host'>;
  /** A bundle read from an archive: its top folder and the entries not read. */
  readonly archive?: {
    readonly root?: string;
    readonly skipped: readonly { readonly name: string; readonly reason: string }[];
  };
  /** A ticket's sections and the prose between them. */
  readonly ticket?: Omit<TicketBundle, 'files' | 'kernel'>;
  readonly live?: {
    readonly hostname: string;
    readonly kernel: string;
    readonly netns?: string;
    readonly notes: readonly string[];
  };
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

/** Opens a recording, a bundle folder or archive, or a pasted ticket as one stream of located records. */
export async function openInput(path: string): Promise<OpenedInput> {
  const st = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw new InputError(
      path,
      undefined,
      err.code === 'ENOENT' ? 'no such file or folder' : `can't read: ${err.message}`,
    );
  });
  if (st.isDirectory()) return openBundle(path, await planBundle(path), {});
  if (!st.isFile()) throw new InputError(path, undefined, 'not a regular file, folder or archive');
  if (archiveKindOf(path) !== undefined) {
    const a = await readArchive(path);
    const files = new Map<string, MemoryFile>(
      [...a.files].map(([name, text]) => [
        name,
        { label: join(path, name), lines: textLines(text) },
      ]),
    );
    // A cilium sysdump keeps its CT list inside per-agent bugtool archives (record/cilium-sysdump.ts).
    const sysdump = [...a.files.keys(), ...a.skipped.map((s) => s.name)].some(isCiliumSysdumpName)
      ? await readCiliumSysdump(path)
      : undefined;
    for (const [name, f] of sysdump?.files ?? [])
      files.set(name, { label: join(path, f.from), lines: textLines(f.text) });
    const opened = await openBundle(path, await planMemoryBundle(path, files), {
      archive: { ...(a.root !== undefined ? { root: a.root } : {}), skipped: a.skipped },
    });
    for (const sk of a.skipped)
      if (!(sysdump && isCiliumSysdumpName(sk.name)))
        opened.notices.push(`${sk.name} in the archive not read: ${sk.reason}`);
    opened.notices.push(...(sysdump?.notes ?? []));
    return opened;
  }
  if (await isRecording(path)) {
    const fx = await openFixture(path);
    return {
      info: { kind: 'recording', path, header: fx.header },
      records: fx.records,
      batches: fx.batches,
      columns: fx.columns,
      notices: fx.notices,
    };
  }
  return openTicket(path, st.size);
}

/** A recording starts with its JSON header (or is gzip); any other text file is a pasted ticket. */
async function isRecording(path: string): Promise<boolean> {
  const fh = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
    throw new InputError(path, undefined, `can't read: ${err.code ?? err.message}`);
  });
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const head = buf.subarray(0, bytesRead);
    if (head[0] === 0x1f && head[1] === 0x8b) return true;
    return head.toString('utf8').trimStart().startsWith('{');
  } finally {
    await fh.close();
  }
}

function textLines(text: string): { no: number; text: string }[] {
  const parts = text.split('\n');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts.map((t, i) => ({ no: i + 1, text: t }));
}

async function openTicket(path: string, size: number): Promise<OpenedInput> {
  if (size > ARCHIVE_LIMITS.maxFileBytes)
    throw new InputError(
      path,
      undefined,
      `is ${size} bytes, more than the ${ARCHIVE_LIMITS.maxFileBytes} a ticket is read to`,
    );
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new InputError(path, undefined, `can't read: ${err.code ?? err.message}`);
  });
  const nul = text.slice(0, 8192).indexOf('\u0000');
  if (nul >= 0) {
    const line = text.slice(0, nul).split('\n').length;
    throw new InputError(
      path,
      line,
      'binary data (NUL byte): expected a recording, a bundle or a pasted ticket (text)',
    );
  }
  const t = ticketBundle(path, text);
  const { files, kernel, ...ticket } = t;
  if (files.size === 0) {
    const skipped = t.sections
      .filter((s) => s.skipped !== undefined)
      .map((s) => `${s.label} (${s.skipped})`);
    throw new InputError(
      path,
      undefined,
      `no command output kdiag reads in this ticket (${t.ignored.count} lines of prose ignored${skipped.length ? `; not read: ${skipped.join('; ')}` : ''}): paste the output of conntrack -L, ss -tinoe, sysctl -a, ipvsadm -Ln or iptables-save`,
    );
  }
  const plan = await planMemoryBundle(path, files);
  const opened = await openBundle(
    path,
    kernel !== undefined && plan.host?.kernel === undefined
      ? { ...plan, host: { ...plan.host, kernel } }
      : plan,
    { ticket },
    'ticket',
  );
  const prose = t.ignored.count;
  opened.notices.unshift(
    `read as a pasted ticket: ${t.sections.length} section${t.sections.length === 1 ? '' : 's'}, ${prose} line${prose === 1 ? '' : 's'} of prose ignored`,
  );
  for (const s of t.sections)
    if (s.skipped !== undefined) opened.notices.push(`${s.label}: not read, ${s.skipped}`);
  if (t.cut > 0)
    opened.notices.push(`${t.cut} over-long line${t.cut === 1 ? ' was' : 's were'} cut`);
  if (t.truncated)
    opened.notices.push('the ticket is longer than kdiag reads: its end was not read');
  return opened;
}

function openBundle(
  path: string,
  plan: BundlePlan,
  extra: Pick<InputInfo, 'archive' | 'ticket'>,
  kind: 'bundle' | 'ticket' = 'bundle',
): OpenedInput {
  const notices = plan.ignored.length
    ? [`ignored files not recognised as bundle outputs: ${plan.ignored.join(', ')}`]
    : [];
  if (!plan.timeKnown)
    notices.push(
      `the ${kind === 'ticket' ? 'ticket' : 'bundle'} has no capture time (no kdiag-collect.json and no conntrack -E timestamps): times are relative`,
    );
  return {
    info: {
      kind,
      path,
      bundle: {
        files: plan.files,
        ignored: plan.ignored,
        timeKnown: plan.timeKnown,
        ...(plan.host ? { host: plan.host } : {}),
      },
      ...extra,
    },
    records: readBundle(plan),
    notices,
  };
}

/** Options a recording carries in its header that analysis honours unless the user overrides them. */
export function optionsFromHeader(header: FixtureHeader | undefined): AnalyzeOptions {
  const o = header?.options ?? {};
  const out: { pathIdleTimeoutSec?: number; cloud?: AnalyzeOptions['cloud'] } = {};
  if (typeof o.pathIdleTimeoutSec === 'number') out.pathIdleTimeoutSec = o.pathIdleTimeoutSec;
  if (typeof o.cloud === 'string') out.cloud = o.cloud;
  else if (Array.isArray(o.cloud) && o.cloud.every((x) => typeof x === 'string'))
    out.cloud = o.cloud as string[];
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
  /** One line per input file (or live source): what was read from it, what was skipped and why. */
  readonly inputs: readonly InputRead[];
  /** Inputs the capture lacks and what their absence hides. */
  readonly missing: readonly MissingInput[];
  /** Nothing could be read: every input unreadable or empty of recognised content. */
  readonly nothingRead: boolean;
}

export interface InputRead {
  /** The bundle file (`ss@pid_31337.txt`) or, live and recorded, the source id. */
  readonly name: string;
  readonly src: string;
  /** `3 sockets`, `56 keys`; `nothing recognised` */
  readonly read: string;
  readonly rows: number;
  /** Lines skipped as unparseable, and their issue codes. */
  readonly skipped: number;
  readonly codes: readonly string[];
  /** The first stderr line of a live source that failed. */
  readonly stderr?: string;
}

export interface AnalyzeInputOptions extends AnalyzeOptions {
  /** Called every `progressEvery` records with the count so far. */
  readonly onProgress?: (records: number) => void;
  readonly progressEvery?: number;
  /** Sees every observation (the TUI replay uses it). */
  readonly onObservation?: (o: Observation) => void;
}

/** Runs an opened input through the engine: decoder, model, analysis, suggestions. */
export async function analyzeRecords(
  opened: OpenedInput,
  opts: AnalyzeInputOptions = {},
): Promise<AnalysisResult> {
  const summary = new SummaryCollector();
  const counter = new ReadCounter();
  const extra = opts.onObservation;
  const { onProgress, progressEvery, onObservation: _o, ...analyzeOpts } = opts;
  const analysis = { ...optionsFromHeader(opened.info.header), ...analyzeOpts };
  const analysisCloud = analysis.cloud;
  const engine = new Engine({
    analysis,
    onObservation:
      extra === undefined
        ? (o) => {
            summary.observe(o);
            counter.observe(o);
          }
        : (o) => {
            summary.observe(o);
            counter.observe(o);
            extra(o);
          },
  });
  const kernel =
    opened.info.header?.host.kernel ?? opened.info.bundle?.host?.kernel ?? opened.info.live?.kernel;
  if (kernel)
    engine.assume({ t: 0, src: 'kdiag:meta', kind: 'meta', key: 'kernel-release', value: kernel });
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
  const sum = summary.result();
  const sources = Object.fromEntries(decoder.perSource);
  const inputs = inputReads(opened.info, sources, decoder.issues, counter);
  return {
    input: opened.info,
    summary: sum,
    diagnosis,
    issues: decoder.issues,
    issueCount: decoder.issueCount,
    records: decoder.records,
    notices: [
      ...opened.notices,
      ...cloudScopeNotes(engine.table, analysisCloud),
      ...bundleDataPlaneNotes(engine.table, opened.info.bundle),
    ],
    sources,
    inputs,
    missing: missingInputs(sum, counter),
    nothingRead: inputs.every((i) => i.rows === 0),
  };
}

/** What each input gave, in the order read: rows per kind, and the lines skipped with their codes. */
function inputReads(
  info: InputInfo,
  sources: Readonly<Record<string, SourceStats>>,
  issues: readonly DecodeIssue[],
  counter: ReadCounter,
): InputRead[] {
  const names = new Map((info.bundle?.files ?? []).map((f) => [f.src, f.name]));
  const srcs = [
    ...new Set([...(info.bundle?.files ?? []).map((f) => f.src), ...Object.keys(sources)]),
  ].filter((s) => !s.startsWith('kdiag:'));
  return srcs.map((src) => {
    const counts = counter.counts[src] ?? {};
    const rows = Object.values(counts).reduce((a, b) => a + b, 0);
    const parts = Object.entries(counts).map(
      ([unit, n]) => `${n} ${n === 1 ? singular(unit) : unit}`,
    );
    const st = sources[src];
    const codes = [...new Set(issues.filter((i) => i.src === src).map((i) => i.code))].sort();
    const stderr = st?.stderr[0];
    return {
      name: names.get(src) ?? src,
      src,
      read:
        parts.length > 0
          ? parts.join(', ')
          : counter.framed.has(src) && (st?.issues ?? 0) === 0 && stderr === undefined
            ? 'empty'
            : 'nothing recognised',
      rows,
      skipped: st?.issues ?? 0,
      codes,
      ...(stderr !== undefined && rows === 0 ? { stderr } : {}),
    };
  });
}

function singular(unit: string): string {
  if (unit === 'CPUs') return 'CPU';
  if (unit.endsWith('ies')) return `${unit.slice(0, -3)}y`;
  return unit.replace(/s$/, '');
}

/** Opens and analyses a recording or bundle. */
export async function analyzeInput(
  path: string,
  opts: AnalyzeInputOptions = {},
): Promise<AnalysisResult> {
  return analyzeRecords(await openInput(path), opts);
}

/** The data plane a bundle shows, one note per plane (check names it from the bundle's files). */
function bundleDataPlaneNotes(table: Engine['table'], bundle: InputInfo['bundle']): string[] {
  if (!bundle) return [];
  const names = [...bundle.files.map((f) => f.name), ...bundle.ignored];
  return describeDataPlane(detectDataPlane(bundleDataPlaneFacts(table, names))).map(
    (l) => `data plane: ${l}`,
  );
}

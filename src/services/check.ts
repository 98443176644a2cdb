// kdiag check: one snapshot of the host (or a bundle) through the whole analysis.
import { setMaxListeners } from 'node:events';
import { hostname, release } from 'node:os';
import type { AnalyzeOptions } from '../analysis/analyze.js';
import type { Diagnosis } from '../model/diagnosis.js';
import { requireNamedNetns } from '../host/netns.js';
import type { LocatedRecord, RawRecord } from '../engine/raw-record.js';
import { systemClock, type Source } from '../sources/source.js';
import { analyzeInput, analyzeRecords, type AnalysisResult } from './analyze-input.js';
import { buildLiveSources } from './live-sources.js';
import { requireRoot } from '../host/root.js';
import { readVantageWarning } from '../host/vantage.js';

export interface CheckOptions extends AnalyzeOptions {
  /** A bundle folder or recording; absent = the live host. */
  readonly input?: string;
  readonly netns?: string;
  readonly kubeProxyConfig?: string;
  readonly onProgress?: (line: string) => void;
}

/** The live snapshot sources of the host (or of `netns`), once each, and the notes on what is unavailable. */
export async function hostSources(opts: {
  netns?: string;
  kubeProxyConfig?: string;
}): Promise<{ sources: Source[]; notes: string[] }> {
  if (opts.netns) await requireNamedNetns(opts.netns);
  return buildLiveSources({
    clock: systemClock,
    allSockets: true,
    ...(opts.netns ? { netns: opts.netns } : {}),
    ...(opts.kubeProxyConfig ? { kubeProxyConfig: opts.kubeProxyConfig } : {}),
  });
}

/** A source's records as arrays: its own batches, or (a plain Source) all its records in one array. */
function batchesOf(s: Source, signal: AbortSignal): AsyncIterator<readonly RawRecord[]> {
  if (s.batches) return s.batches(signal)[Symbol.asyncIterator]();
  return (async function* () {
    const out: RawRecord[] = [];
    for await (const r of s.records(signal)) out.push(r);
    yield out;
  })();
}

/**
 * Reads sources that end on their own (snapshots) as one stream of located records, in arrays.
 * All sources start at once; their records come source after source in the given order (each
 * source's own order kept, numbered 1… across all, `file` = the src), the current one as its
 * output arrives, so the consumer parses while the tools still write. The others wait in their
 * own bounded buffers. Leaving the loop early stops every child.
 */
export async function* sourceBatches(
  sources: readonly Source[],
  signal: AbortSignal,
  onSourceDone?: (source: Source, lines: number) => void,
): AsyncGenerator<readonly LocatedRecord[], void, undefined> {
  const its = sources.map((s) => batchesOf(s, signal));
  // Start every source now: each runs up to its first array (a child spawned) while we read the earlier ones.
  const firsts = its.map((it) => it.next());
  for (const p of firsts) p.catch(() => undefined);
  let n = 0;
  let i = 0;
  try {
    for (; i < its.length; i++) {
      const it = its[i]!;
      let lines = 0;
      for (let r = await firsts[i]!; !r.done; r = await it.next()) {
        const batch = r.value;
        const len = batch.length;
        const out = new Array<LocatedRecord>(len);
        for (let j = 0; j < len; j++) {
          const rec = batch[j]!;
          if (rec.k === undefined) lines++;
          out[j] = { rec, file: rec.src, line: ++n };
        }
        yield out;
      }
      onSourceDone?.(sources[i]!, lines);
    }
  } finally {
    // Stopped early (or a source threw): end the rest, so no child outlives the check.
    if (i < its.length) await Promise.allSettled(its.slice(i).map((it) => it.return?.()));
  }
}

function progressLine(
  onProgress: ((line: string) => void) | undefined,
): ((s: Source, lines: number) => void) | undefined {
  return onProgress ? (s, lines) => onProgress(`${s.id} read (${lines} lines)`) : undefined;
}

async function* flatten(
  batches: AsyncIterable<readonly LocatedRecord[]>,
): AsyncIterable<LocatedRecord> {
  for await (const b of batches) yield* b;
}

/** The snapshot diagnosis of the live host, or of a bundle/recording when `input` is given. */
export async function runCheck(opts: CheckOptions): Promise<AnalysisResult> {
  const { input, netns, kubeProxyConfig, onProgress, ...analysis } = opts;
  if (input) return analyzeInput(input, analysis);
  requireRoot('read the node', {
    why: 'conntrack, iptables-save and other netns need it',
    hint: 're-run with sudo, or give a bundle folder: kdiag check BUNDLE',
  });
  const { sources, notes } = await hostSources({
    ...(netns ? { netns } : {}),
    ...(kubeProxyConfig ? { kubeProxyConfig } : {}),
  });
  // Outside the node's network namespace or without capabilities, empty must not read as healthy.
  const vantage = await readVantageWarning();
  if (vantage !== undefined) notes.unshift(vantage);
  // Parsed while read: the pipeline takes each array as it comes (analyzeRecords iterates `batches`).
  // Every source listens on this one signal: past ten, Node prints a leak warning on stderr.
  const abort = new AbortController();
  setMaxListeners(sources.length + 10, abort.signal);
  const batches = sourceBatches(sources, abort.signal, progressLine(onProgress));
  return analyzeRecords(
    {
      info: {
        kind: 'live',
        path: netns ? `netns ${netns}` : 'host',
        live: { hostname: hostname(), kernel: release(), ...(netns ? { netns } : {}), notes },
      },
      records: flatten(batches),
      batches,
      notices: [],
    },
    analysis,
  );
}

/** What `kdiag apply` looks suggestions up in: a fresh snapshot diagnosis. */
export async function diagnoseForApply(opts: { netns?: string }): Promise<Diagnosis> {
  return (await runCheck(opts.netns ? { netns: opts.netns } : {})).diagnosis;
}

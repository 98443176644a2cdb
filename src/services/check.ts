// kdiag check: one snapshot of the host (or a bundle) through the whole analysis.
import { hostname, release } from 'node:os';
import type { AnalyzeOptions } from '../analysis/analyze.js';
import { EnvironmentError } from '../errors.js';
import type { Diagnosis } from '../model/diagnosis.js';
import type { LocatedRecord } from '../record/fixture-reader.js';
import { netnsProblem } from '../sources/netns.js';
import type { RawRecord } from '../sources/raw-record.js';
import { systemClock } from '../sources/source.js';
import { analyzeInput, analyzeRecords, type AnalysisResult } from './analyze-input.js';
import { buildLiveSources } from './live-sources.js';

export interface CheckOptions extends AnalyzeOptions {
  /** A bundle folder or recording; absent = the live host. */
  readonly input?: string;
  readonly netns?: string;
  readonly kubeProxyConfig?: string;
  readonly onProgress?: (line: string) => void;
}

function requireRoot(what: string): void {
  if (process.getuid?.() !== 0) throw new EnvironmentError('KDIAG_NOT_ROOT', `can't ${what}: not root (conntrack, iptables-save and other netns need it)`, 're-run with sudo, or give a bundle folder: kdiag check BUNDLE');
}

/** Reads every live snapshot source once and returns their records, in a stable order. */
export async function snapshotHost(opts: { netns?: string; kubeProxyConfig?: string; onProgress?: (line: string) => void }): Promise<{ records: RawRecord[]; notes: string[] }> {
  if (opts.netns) {
    const problem = await netnsProblem(opts.netns);
    if (problem) throw new EnvironmentError('KDIAG_ENVIRONMENT', `can't use network namespace ${opts.netns}: ${problem}`, 'list them with: ip netns list');
  }
  const { sources, notes } = await buildLiveSources({
    clock: systemClock,
    allSockets: true,
    ...(opts.netns ? { netns: opts.netns } : {}),
    ...(opts.kubeProxyConfig ? { kubeProxyConfig: opts.kubeProxyConfig } : {}),
  });
  const signal = new AbortController().signal;
  const perSource = await Promise.all(
    sources.map(async (s) => {
      const out: RawRecord[] = [];
      for await (const r of s.records(signal)) out.push(r);
      opts.onProgress?.(`${s.id} read (${out.filter((r) => !r.k).length} lines)`);
      return out;
    }),
  );
  return { records: perSource.flat(), notes };
}

function located(records: RawRecord[]): AsyncIterable<LocatedRecord> {
  return (async function* () {
    let n = 0;
    for (const rec of records) yield { rec, file: rec.src, line: ++n };
  })();
}

/** The snapshot diagnosis of the live host, or of a bundle/recording when `input` is given. */
export async function runCheck(opts: CheckOptions): Promise<AnalysisResult> {
  const { input, netns, kubeProxyConfig, onProgress, ...analysis } = opts;
  if (input) return analyzeInput(input, analysis);
  requireRoot('read the node');
  const { records, notes } = await snapshotHost({ ...(netns ? { netns } : {}), ...(kubeProxyConfig ? { kubeProxyConfig } : {}), ...(onProgress ? { onProgress } : {}) });
  return analyzeRecords(
    { info: { kind: 'live', path: netns ? `netns ${netns}` : 'host', live: { hostname: hostname(), kernel: release(), ...(netns ? { netns } : {}), notes } }, records: located(records), notices: [] },
    analysis,
  );
}

/** What `kdiag apply` looks suggestions up in: a fresh snapshot diagnosis. */
export async function diagnoseForApply(opts: { netns?: string }): Promise<Diagnosis> {
  return (await runCheck(opts.netns ? { netns: opts.netns } : {})).diagnosis;
}

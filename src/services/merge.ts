// kdiag merge DIR…: every node's bundle (or recording) analysed, then one cluster report.
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { AnalyzeOptions } from '../analysis/analyze.js';
import { clusterReport, type ClusterReport, type NodeInput } from '../cluster/cluster-report.js';
import { sourceKindByBundleFile } from '../engine/source-kinds.js';
import { InputError } from '../errors.js';
import { analyzeInput } from './analyze-input.js';

const ARCHIVE = /\.(tar\.gz|tgz|zip)$/;
const RECORDING = /\.ndjson(\.gz)?$/;

/** Whether a folder is one node's bundle (it holds bundle files) rather than a folder of bundles. */
async function isBundleFolder(dir: string): Promise<boolean> {
  const names = await readdir(dir);
  return names.some((n) => n === 'kdiag-collect.json' || sourceKindByBundleFile(n) !== undefined);
}

/** The per-node inputs named by the arguments: bundles, archives, recordings, or folders of them. */
export async function expandInputs(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const st = await stat(p).catch(() => {
      throw new InputError(p, undefined, 'no such file or folder');
    });
    if (!st.isDirectory() || (await isBundleFolder(p))) {
      out.push(p);
      continue;
    }
    const entries = (await readdir(p, { withFileTypes: true }))
      .filter((e) => !e.name.startsWith('.'))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    const found = entries.filter(
      (e) => e.isDirectory() || (e.isFile() && (ARCHIVE.test(e.name) || RECORDING.test(e.name))),
    );
    if (found.length === 0)
      throw new InputError(
        p,
        undefined,
        'no bundles in this folder (folders, .tar.gz, .zip, .ndjson)',
      );
    for (const e of found) out.push(join(p, e.name));
  }
  return out;
}

/** A node name from a path: `worker-1.tar.gz` → `worker-1`. */
function nameOf(path: string): string {
  return basename(path).replace(ARCHIVE, '').replace(RECORDING, '');
}

export interface MergeResult {
  readonly report: ClusterReport;
  readonly inputs: readonly string[];
}

/** Analyses each node's input and merges the diagnoses. */
export async function runMerge(
  paths: readonly string[],
  analysis: AnalyzeOptions,
  onProgress?: (line: string) => void,
): Promise<MergeResult> {
  const inputs = await expandInputs(paths);
  const nodes: NodeInput[] = [];
  const seen = new Map<string, number>();
  for (const path of inputs) {
    try {
      const r = await analyzeInput(path, analysis);
      let node = r.input.bundle?.host?.hostname ?? r.input.header?.host?.hostname ?? nameOf(path);
      // Two bundles of one host (collected twice): keep both, told apart by their file names.
      const n = (seen.get(node) ?? 0) + 1;
      seen.set(node, n);
      if (n > 1) node = `${node} (${nameOf(path)})`;
      nodes.push({
        node,
        path,
        ...(r.nothingRead
          ? { problem: 'nothing could be read' }
          : { diagnosis: r.diagnosis, timeouts: r.summary.timeouts }),
        ...(r.input.bundle?.host?.redacted ? { redacted: true } : {}),
      });
      onProgress?.(
        `${node}: ${r.nothingRead ? 'nothing read' : `${r.diagnosis.findings.length} findings`} (${path})`,
      );
    } catch (err) {
      nodes.push({ node: nameOf(path), path, problem: (err as Error).message });
      onProgress?.(`${nameOf(path)}: can't read ${path}: ${(err as Error).message}`);
    }
  }
  return { report: clusterReport(nodes), inputs };
}

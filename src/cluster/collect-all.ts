// kubectl kdiag collect --all-nodes -o DIR: every node's bundle, a few nodes at a time, into one
// folder of `<node>.tar.gz` files that `kdiag merge DIR` reads as one cluster.
import { join, resolve } from 'node:path';
import { stageOutputDir } from '../host/private-out-dir.js';
import {
  boundedAll,
  collectNode,
  listNodes,
  type NodeCollectResult,
  type NodeRunOptions,
} from './node-run.js';

export interface CollectAllOptions extends NodeRunOptions {
  readonly out: string;
  readonly concurrency: number;
  /** Only these nodes (default: every node of `kubectl get nodes`). */
  readonly nodes?: readonly string[];
  /** Passed to kdiag collect on each node (`--redact`). */
  readonly collectArgs?: readonly string[];
  readonly cwd?: string;
  /** One line per node as it finishes. */
  readonly onNode?: (r: NodeCollectResult, done: number, total: number) => void;
}

export interface CollectAllResult {
  readonly dir: string;
  readonly results: readonly NodeCollectResult[];
}

function kib(bytes: number): string {
  return `${Math.max(1, Math.round(bytes / 1024))} KiB`;
}

/** The line printed when one node is done (pure). */
export function nodeResultLine(r: NodeCollectResult, done: number, total: number): string {
  const n = `[${done}/${total}]`;
  return r.ok
    ? `${n} ${r.node}: ${r.detail} (${kib(r.bytes ?? 0)})`
    : `${n} ${r.node}: FAILED ${r.detail}`;
}

/** Collects from every node in parallel (at most `concurrency` pods at once). */
export async function collectAllNodes(o: CollectAllOptions): Promise<CollectAllResult> {
  const target = resolve(o.cwd ?? process.cwd(), o.out);
  const nodes = o.nodes ?? (await listNodes(o));
  const staged = await stageOutputDir(target, '-o');
  o.onProgress?.(
    `Collecting from ${nodes.length} node(s), ${Math.min(o.concurrency, nodes.length)} at a time`,
  );
  let done = 0;
  const results = await boundedAll(nodes, o.concurrency, async (node) => {
    const r = await collectNode(node, join(staged.path, `${node}.tar.gz`), o.collectArgs ?? [], o);
    done++;
    o.onNode?.(
      r.file === undefined ? r : { ...r, file: join(target, `${node}.tar.gz`) },
      done,
      nodes.length,
    );
    return r.file === undefined ? r : { ...r, file: join(target, `${node}.tar.gz`) };
  });
  await staged.commit();
  return { dir: target, results };
}

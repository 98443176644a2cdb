// kubectl kdiag check|trace node/NAME and collect --all-nodes: a pod of kdiag's own on each node
// (node-pod.ts), kdiag run in it with kubectl exec, the pod deleted after, also on failure.
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, rmSync, statSync } from 'node:fs';
import { EnvironmentError, UsageError } from '../errors.js';
import {
  createArgv,
  deleteArgv,
  execArgv,
  listNodesArgv,
  parseNodeList,
  waitReadyArgv,
  type KubectlTarget,
} from './kubectl-argv.js';
import { kubectlPassThrough, kubectlRun } from './kubectl-run.js';
import { nodePodManifest, nodePodName } from './node-pod.js';

export interface NodeRunOptions extends KubectlTarget {
  readonly image: string;
  readonly pullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** The pod's activeDeadlineSeconds: it ends itself after this long whatever happens here. */
  readonly deadlineSec: number;
  /** How long to wait for the pod to run (image pull included). */
  readonly readyTimeoutSec: number;
  readonly onProgress?: (line: string) => void;
  /** Pod name suffixes (tests); default 5 random hex characters. */
  readonly suffix?: () => string;
}

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '') ?? ''
  );
}

/** Creates the pod on `node` and waits until it runs; returns its name. Deletes it on failure. */
export async function startNodePod(node: string, o: NodeRunOptions): Promise<string> {
  const name = nodePodName(
    node,
    (o.suffix ?? (() => randomBytes(3).toString('hex').slice(0, 5)))(),
  );
  const manifest = nodePodManifest({
    name,
    namespace: o.namespace,
    node,
    image: o.image,
    deadlineSec: o.deadlineSec,
    ...(o.pullPolicy === undefined ? {} : { pullPolicy: o.pullPolicy }),
  });
  const created = await kubectlRun(createArgv(o), { input: `${JSON.stringify(manifest)}\n` });
  if (created.exitCode !== 0)
    throw new EnvironmentError(
      'KDIAG_ENVIRONMENT',
      `can't create pod ${name} on node ${node}: ${firstLine(created.stderr) || `kubectl exit ${created.exitCode}`}`,
      'check kubectl access (kubectl auth can-i create pods) and the namespace',
    );
  const ready = await kubectlRun(waitReadyArgv(o, name, o.readyTimeoutSec));
  if (ready.exitCode !== 0) {
    await deleteNodePod(name, o);
    throw new EnvironmentError(
      'KDIAG_ENVIRONMENT',
      `pod ${name} on node ${node} did not start: ${firstLine(ready.stderr) || `kubectl exit ${ready.exitCode}`}`,
      `check the image can be pulled there: kubectl describe pod ${name} (--image, --pull-policy)`,
    );
  }
  return name;
}

/** Deletes the pod, reporting (never throwing) when that fails: its deadline still ends it. */
export async function deleteNodePod(name: string, o: NodeRunOptions): Promise<void> {
  const r = await kubectlRun(deleteArgv(o, name)).catch((err: Error) => ({
    exitCode: 1,
    stderr: err.message,
    stdout: '',
  }));
  if (r.exitCode !== 0)
    o.onProgress?.(
      `can't delete pod ${name}: ${firstLine(r.stderr)} (it ends itself after ${o.deadlineSec} s)`,
    );
}

/**
 * Runs `kdiag ARGS` on `node` with the terminal attached (a tty when there is one, so Ctrl-C
 * reaches kdiag trace and it prints its report); resolves with kdiag's exit code.
 */
export async function runOnNode(
  node: string,
  kdiagArgs: readonly string[],
  o: NodeRunOptions & { readonly tty: boolean },
): Promise<number> {
  const pod = await startNodePod(node, o);
  o.onProgress?.(`Pod ${pod} started on node ${node}`);
  try {
    return await kubectlPassThrough(
      execArgv(o, pod, ['kdiag', ...kdiagArgs], { stdin: o.tty, tty: o.tty }),
      { stdin: o.tty ? 'inherit' : 'ignore' },
    );
  } finally {
    await deleteNodePod(pod, o);
    o.onProgress?.(`Pod ${pod} deleted`);
  }
}

/** The cluster's node names, from `kubectl get nodes -o name`. */
export async function listNodes(t: KubectlTarget): Promise<string[]> {
  const r = await kubectlRun(listNodesArgv(t));
  if (r.exitCode !== 0)
    throw new EnvironmentError(
      'KDIAG_ENVIRONMENT',
      `can't list nodes: ${firstLine(r.stderr) || `kubectl exit ${r.exitCode}`}`,
      'check kubectl access: kubectl get nodes',
    );
  const nodes = parseNodeList(r.stdout);
  if (nodes.length === 0)
    throw new UsageError('kubectl get nodes listed no nodes', 'check the --context');
  return nodes;
}

/** Where the bundle is made inside the pod (the container's own /tmp, gone with the pod). */
export function podBundlePath(node: string): string {
  return `/tmp/kdiag-bundle-${node}`;
}

export interface NodeCollectResult {
  readonly node: string;
  readonly ok: boolean;
  /** The archive written on this machine. */
  readonly file?: string;
  readonly bytes?: number;
  /** kdiag collect's own summary line (`12 files; 2 not collected`), or why the node failed. */
  readonly detail: string;
}

/**
 * Collects one node's bundle as `<file>`: kdiag collect --tar in the pod, then the archive's bytes
 * over kubectl exec's stdout (binary-safe, unlike kubectl logs) into `file`, opened new ('wx').
 */
export async function collectNode(
  node: string,
  file: string,
  extraArgs: readonly string[],
  o: NodeRunOptions,
): Promise<NodeCollectResult> {
  let pod: string;
  try {
    pod = await startNodePod(node, o);
  } catch (err) {
    return { node, ok: false, detail: (err as Error).message };
  }
  try {
    const inPod = podBundlePath(node);
    const made = await kubectlRun(
      execArgv(o, pod, ['kdiag', 'collect', '--tar', '--out', inPod, ...extraArgs]),
    );
    // collect exits 2 when some files failed but still writes the archive of the rest.
    const summary = made.stdout
      .split('\n')
      .map((l) => l.trim())
      .find((l) => /^\d+ files;/.test(l));
    if (made.exitCode !== 0 && summary === undefined)
      return {
        node,
        ok: false,
        detail: `kdiag collect failed: ${firstLine(made.stderr) || `exit ${made.exitCode}`}`,
      };
    const fd = openSync(file, 'wx', 0o600);
    let code: number;
    try {
      code = await kubectlPassThrough(execArgv(o, pod, ['cat', `${inPod}.tar.gz`]), {
        stdoutFd: fd,
        stdin: 'ignore',
      });
    } finally {
      closeSync(fd);
    }
    if (code !== 0) {
      rmSync(file, { force: true });
      return { node, ok: false, detail: `copying the bundle failed (exit ${code})` };
    }
    return { node, ok: true, file, bytes: statSync(file).size, detail: summary ?? 'collected' };
  } catch (err) {
    return { node, ok: false, detail: (err as Error).message };
  } finally {
    await deleteNodePod(pod, o);
  }
}

/** Runs `work` over `items` with at most `limit` at once, in order of start. */
export async function boundedAll<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

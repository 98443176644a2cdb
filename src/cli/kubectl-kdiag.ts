// kubectl kdiag: the kubectl plugin (bin/kubectl-kdiag.js). Runs kdiag on cluster nodes through
// a pod of kdiag's own per node (src/cluster/), created, used with kubectl exec, then deleted.
// Its imports use no npm package (node:util parseArgs, not commander): krew installs the npm
// tarball as it is, without node_modules, and this must still run.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { KdiagError, UsageError } from '../errors.js';
import { printable } from '../model/printable.js';
import { KDIAG_VERSION } from '../version.js';
import { nodeFromRef } from '../cluster/kubectl-argv.js';

const DEFAULT_IMAGE = `localhost/kdiag:${KDIAG_VERSION}`;

export const PLUGIN_HELP = `Usage: kubectl kdiag [options] <command>

Run kdiag on the cluster's nodes: a privileged pod of kdiag's own per node (the
node's PID and network namespaces, nodeName pinned, every taint tolerated, an
activeDeadlineSeconds), kdiag run in it with kubectl exec, the pod deleted after.

Commands:
  check node/NAME [-- FLAGS]    kdiag check on that node; its exit code is ours
  trace node/NAME [-- FLAGS]    kdiag trace on that node (Ctrl-C stops it)
  collect --all-nodes -o DIR    a bundle from every node into DIR/<node>.tar.gz
  collect node/A node/B -o DIR  the same for the nodes named
      --concurrency N           nodes at once (default 4)
      --redact                  kdiag collect --redact on each node

Options:
  --image IMAGE           the kdiag image the nodes pull (default ${DEFAULT_IMAGE})
  -n, --namespace NS      namespace of the pods, must admit privileged pods
                          (default: default)
  --context NAME          kubeconfig context
  --kubeconfig FILE       kubeconfig file
  --pull-policy POLICY    Always, IfNotPresent or Never
  --deadline SECONDS      the pod's activeDeadlineSeconds (default 900, trace 3600)
  --ready-timeout SECONDS how long to wait for the pod to start (default 120)
  -V, --version           the version
  -h, --help              this help

Examples:
  kubectl kdiag check node/worker-1
  kubectl kdiag trace node/worker-1 -- --duration 5m --port 5432
  kubectl kdiag collect --all-nodes -o ./bundles && kdiag merge ./bundles
  kdiag cluster manifest --image REGISTRY/kdiag:${KDIAG_VERSION} | kubectl apply -f -

Exit status: kdiag's own for check and trace (0 nothing found, 1 findings, 2 could
not run); collect: 0 every node collected, 2 some not.
`;

const GLOBAL_OPTIONS = {
  image: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  context: { type: 'string' },
  kubeconfig: { type: 'string' },
  'pull-policy': { type: 'string' },
  deadline: { type: 'string' },
  'ready-timeout': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

interface Globals {
  readonly image: string;
  readonly namespace: string;
  readonly context?: string;
  readonly kubeconfig?: string;
  readonly pullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  readonly deadline?: number;
  readonly readyTimeout: number;
}

function seconds(value: string, flag: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 7 * 86400)
    throw new UsageError(`${flag} ${value}: not a whole number of seconds (1…604800)`);
  return n;
}

function nodeArg(ref: string): string {
  const node = nodeFromRef(ref);
  if (node === undefined)
    throw new UsageError(`${ref}: not a node`, 'name it node/NAME (kubectl get nodes)');
  return node;
}

/** Splits `[global options] command rest…` (pure). */
export function parseGlobals(argv: readonly string[]): {
  globals: Globals;
  command?: string;
  rest: string[];
  help: boolean;
  version: boolean;
} {
  const { tokens } = parseArgs({
    args: [...argv],
    options: GLOBAL_OPTIONS,
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  // Global options stop at the first positional: the command; what follows is the command's.
  const first = tokens.find((t) => t.kind === 'positional' || t.kind === 'option-terminator');
  const head = first === undefined ? argv.length : first.index;
  const unknown = tokens.find(
    (t) => t.kind === 'option' && t.index < head && !Object.hasOwn(GLOBAL_OPTIONS, t.name),
  );
  if (unknown !== undefined && unknown.kind === 'option')
    throw new UsageError(`unknown option ${unknown.rawName}`, 'kubectl kdiag --help lists them');
  // Values of options after the command are the command's, not ours: re-read the head alone.
  const g = parseArgs({
    args: argv.slice(0, head),
    options: GLOBAL_OPTIONS,
    strict: true,
  }).values;
  const pull = g['pull-policy'];
  if (pull !== undefined && !['Always', 'IfNotPresent', 'Never'].includes(pull))
    throw new UsageError(`--pull-policy ${pull}: give Always, IfNotPresent or Never`);
  const namespace = g.namespace ?? 'default';
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace))
    throw new UsageError(`--namespace ${namespace}: not a valid namespace name`);
  const command = first?.kind === 'positional' ? argv[head] : undefined;
  return {
    globals: {
      image: g.image ?? DEFAULT_IMAGE,
      namespace,
      ...(g.context === undefined ? {} : { context: g.context }),
      ...(g.kubeconfig === undefined ? {} : { kubeconfig: g.kubeconfig }),
      ...(pull === undefined ? {} : { pullPolicy: pull as Globals['pullPolicy'] & string }),
      ...(g.deadline === undefined ? {} : { deadline: seconds(g.deadline, '--deadline') }),
      readyTimeout:
        g['ready-timeout'] === undefined ? 120 : seconds(g['ready-timeout'], '--ready-timeout'),
    },
    ...(command === undefined ? {} : { command }),
    rest: argv.slice(head + (command === undefined ? 0 : 1)),
    help: Boolean(g.help),
    version: Boolean(g.version),
  };
}

function runOptions(g: Globals, defaultDeadline: number, err: (l: string) => void) {
  return {
    image: g.image,
    namespace: g.namespace,
    ...(g.context === undefined ? {} : { context: g.context }),
    ...(g.kubeconfig === undefined ? {} : { kubeconfig: g.kubeconfig }),
    ...(g.pullPolicy === undefined ? {} : { pullPolicy: g.pullPolicy }),
    deadlineSec: g.deadline ?? defaultDeadline,
    readyTimeoutSec: g.readyTimeout,
    onProgress: err,
  };
}

const err = (l: string): void => {
  process.stderr.write(`${printable(l)}\n`);
};

/** Runs `kdiag <command> ARGS` on one node; kdiag's exit code becomes ours. */
async function onNode(command: 'check' | 'trace', rest: string[], g: Globals): Promise<number> {
  const [ref, ...args] = rest;
  if (ref === undefined || ref === '--')
    throw new UsageError(`${command}: name the node`, `kubectl kdiag ${command} node/NAME`);
  const node = nodeArg(ref);
  // `kubectl kdiag trace node/X -- --duration 5m`: the separator is ours, not kdiag's.
  const passed = args[0] === '--' ? args.slice(1) : args;
  const { runOnNode } = await import('../cluster/node-run.js');
  // Ctrl-C reaches kubectl (and through its tty, kdiag); this process stays to delete the pod.
  const ignore = (): void => {};
  process.on('SIGINT', ignore);
  try {
    return await runOnNode(node, [command, ...passed], {
      ...runOptions(g, command === 'trace' ? 3600 : 900, err),
      tty: Boolean(process.stdin.isTTY && process.stdout.isTTY),
    });
  } finally {
    process.off('SIGINT', ignore);
  }
}

async function collect(rest: string[], g: Globals): Promise<number> {
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      'all-nodes': { type: 'boolean' },
      out: { type: 'string', short: 'o' },
      concurrency: { type: 'string' },
      redact: { type: 'boolean' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.out === undefined) throw new UsageError('collect: give the folder with -o DIR');
  if (Boolean(values['all-nodes']) === positionals.length > 0)
    throw new UsageError(
      values['all-nodes']
        ? 'collect: give --all-nodes or node names, not both'
        : 'collect: name the nodes or give --all-nodes',
    );
  const concurrency = Number(values.concurrency ?? '4');
  if (!/^\d+$/.test(values.concurrency ?? '4') || concurrency < 1 || concurrency > 64)
    throw new UsageError(`--concurrency ${values.concurrency}: not a whole number 1…64`);
  const nodes = positionals.map(nodeArg);
  const { collectAllNodes, nodeResultLine } = await import('../cluster/collect-all.js');
  const result = await collectAllNodes({
    ...runOptions(g, 900, err),
    out: values.out,
    concurrency,
    ...(nodes.length > 0 ? { nodes } : {}),
    // One key for every node, so an address or Service has the same stand-in in all bundles.
    ...(values.redact
      ? { collectArgs: ['--redact', '--redact-key', randomBytes(32).toString('hex')] }
      : {}),
    onNode: (r, done, total) => err(nodeResultLine(r, done, total)),
  });
  const ok = result.results.filter((r) => r.ok);
  const out = (l: string): void => {
    process.stdout.write(`${printable(l)}\n`);
  };
  out(`Bundles of ${ok.length} of ${result.results.length} nodes written to ${result.dir}`);
  const failed = result.results.filter((r) => !r.ok).map((r) => r.node);
  if (failed.length > 0) out(`  not collected: ${failed.join(', ')}`);
  if (ok.length > 0) out(`  one report: kdiag merge ${result.dir}`);
  return failed.length > 0 ? 2 : 0;
}

async function dispatch(argv: readonly string[]): Promise<number> {
  const p = parseGlobals(argv);
  if (p.version) {
    process.stdout.write(`${KDIAG_VERSION}\n`);
    return 0;
  }
  if (p.help || p.command === undefined || p.command === 'help') {
    (p.help || p.command === 'help' ? process.stdout : process.stderr).write(PLUGIN_HELP);
    return p.help || p.command === 'help' ? 0 : 2;
  }
  if (p.command === 'check' || p.command === 'trace') return onNode(p.command, p.rest, p.globals);
  if (p.command === 'collect') return collect(p.rest, p.globals);
  throw new UsageError(`unknown command ${p.command}`, 'kubectl kdiag --help lists them');
}

/** The plugin's entry: one line per error, kdiag's exit codes. */
export async function pluginMain(argv: readonly string[]): Promise<void> {
  try {
    process.exitCode = await dispatch(argv.slice(2));
  } catch (e) {
    if (e instanceof KdiagError) {
      err(`kdiag: ${e.message.replace(/\n/g, ' ')}`);
      if (e.hint) err(`  hint: ${e.hint}`);
      process.exitCode = e.exitCode;
    } else if ((e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      err(`kdiag: ${(e as Error).message.split('\n')[0]}`);
      err('  hint: kubectl kdiag --help lists the options');
      process.exitCode = 2;
    } else {
      err(`kdiag: internal error: ${(e as Error).message?.split('\n')[0] ?? String(e)}`);
      if (process.env.KDIAG_DEBUG) err((e as Error).stack ?? '');
      process.exitCode = 70;
    }
  }
}

// The kubectl command lines kubectl kdiag runs, as argument arrays (never a shell string). Pure.

/** Flags every kubectl call carries: which cluster and which namespace. */
export interface KubectlTarget {
  readonly namespace: string;
  readonly context?: string;
  readonly kubeconfig?: string;
}

function base(t: KubectlTarget): string[] {
  return [
    'kubectl',
    ...(t.kubeconfig === undefined ? [] : ['--kubeconfig', t.kubeconfig]),
    ...(t.context === undefined ? [] : ['--context', t.context]),
    '--namespace',
    t.namespace,
  ];
}

/** `kubectl create -f -`: the manifest on stdin; `-o name` prints `pod/NAME`. */
export function createArgv(t: KubectlTarget): string[] {
  return [...base(t), 'create', '-f', '-', '-o', 'name'];
}

/** Waits until the pod runs (image pulled, container started), at most `timeoutSec`. */
export function waitReadyArgv(t: KubectlTarget, pod: string, timeoutSec: number): string[] {
  return [...base(t), 'wait', '--for=condition=Ready', `pod/${pod}`, `--timeout=${timeoutSec}s`];
}

/** Runs `command` in the pod; kubectl exits with the command's own exit code. */
export function execArgv(
  t: KubectlTarget,
  pod: string,
  command: readonly string[],
  o: { readonly stdin?: boolean; readonly tty?: boolean } = {},
): string[] {
  return [
    ...base(t),
    'exec',
    ...(o.stdin ? ['-i'] : []),
    ...(o.tty ? ['-t'] : []),
    pod,
    '-c',
    'kdiag',
    '--',
    ...command,
  ];
}

/** Deletes the pod without waiting for it to end (its deadline ends it anyway). */
export function deleteArgv(t: KubectlTarget, pod: string): string[] {
  return [...base(t), 'delete', 'pod', pod, '--ignore-not-found', '--wait=false'];
}

/** Lists the nodes, one `node/NAME` a line (nodes have no namespace; the flag is ignored). */
export function listNodesArgv(t: KubectlTarget): string[] {
  return [...base(t), 'get', 'nodes', '-o', 'name'];
}

/** A node name from `node/NAME` or `NAME`; undefined when it is not a node reference. */
export function nodeFromRef(ref: string): string | undefined {
  const name = ref.startsWith('node/')
    ? ref.slice('node/'.length)
    : ref.startsWith('nodes/')
      ? ref.slice('nodes/'.length)
      : ref.includes('/')
        ? undefined
        : ref;
  // RFC 1123 subdomain: what the API server accepts as a node name.
  if (name === undefined || !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name)) return undefined;
  return name;
}

/** Node names from `kubectl get nodes -o name`. */
export function parseNodeList(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .map((l) => nodeFromRef(l))
    .filter((n): n is string => n !== undefined);
}

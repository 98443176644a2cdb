// The pod kdiag runs in on one node (kubectl kdiag check|trace|collect): the node's PID and
// network namespaces, root's capabilities, and the host folders kdiag reads where the host keeps
// them (kdiag has no --host-root: docs/install.md "Running it on a node"). Pure.

/** The label every pod and DaemonSet kdiag creates carries, so `kubectl get pods -l` finds leftovers. */
export const KDIAG_LABEL = 'app.kubernetes.io/name';
export const KDIAG_LABEL_VALUE = 'kdiag';
export const CONTAINER_NAME = 'kdiag';

export interface HostMount {
  readonly name: string;
  readonly path: string;
  readonly readOnly: boolean;
  /** `DirectoryOrCreate` only where a missing folder is normal (no named netns yet). */
  readonly type?: 'Directory' | 'DirectoryOrCreate';
  /** Mounts made on the host after the pod started (a new `ip netns add`) show up inside. */
  readonly propagation?: 'HostToContainer';
  readonly why: string;
}

/** What kdiag reads from the host besides the namespaces, each where the host keeps it. */
export const HOST_MOUNTS: readonly HostMount[] = [
  {
    name: 'tracefs',
    path: '/sys/kernel/tracing',
    readOnly: false,
    why: 'the tracepoints bpftrace attaches to (kdiag trace)',
  },
  {
    name: 'run-netns',
    path: '/run/netns',
    readOnly: true,
    type: 'DirectoryOrCreate',
    propagation: 'HostToContainer',
    why: 'named network namespaces (--netns NAME) and their owners',
  },
  {
    name: 'pod-logs',
    path: '/var/log/pods',
    readOnly: true,
    why: "pods' namespace and name, from the log folder names",
  },
  {
    name: 'boot',
    path: '/boot',
    readOnly: true,
    why: 'kernel HZ from /boot/config-* when /proc/config.gz is missing',
  },
];

export interface NodePodOptions {
  readonly name: string;
  readonly namespace: string;
  readonly node: string;
  readonly image: string;
  readonly pullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** The pod ends itself after this long, so an interrupted kubectl kdiag leaves nothing running. */
  readonly deadlineSec: number;
}

function volumes(): object[] {
  return HOST_MOUNTS.map((m) => ({
    name: m.name,
    hostPath: { path: m.path, ...(m.type === undefined ? {} : { type: m.type }) },
  }));
}

function volumeMounts(): object[] {
  return HOST_MOUNTS.map((m) => ({
    name: m.name,
    mountPath: m.path,
    ...(m.readOnly ? { readOnly: true } : {}),
    ...(m.propagation === undefined ? {} : { mountPropagation: m.propagation }),
  }));
}

/** The pod spec shared by the one-node pod and the DaemonSet: the node's namespaces, privileged, every taint tolerated. */
export function hostPodSpec(container: object): Record<string, unknown> {
  return {
    hostPID: true,
    hostNetwork: true,
    dnsPolicy: 'ClusterFirstWithHostNet',
    // kdiag reads the node, never the API server.
    automountServiceAccountToken: false,
    // A node tainted NoSchedule or NoExecute (control plane, draining, not ready) is the one to diagnose.
    tolerations: [{ operator: 'Exists' }],
    // trace stops its probes and writes its report on SIGTERM.
    terminationGracePeriodSeconds: 10,
    containers: [container],
    volumes: volumes(),
  };
}

/** The privileged container that sees the host folders of HOST_MOUNTS. */
export function hostContainer(
  image: string,
  command: readonly string[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    name: CONTAINER_NAME,
    image,
    command: [...command],
    securityContext: { privileged: true },
    volumeMounts: volumeMounts(),
    ...extra,
  };
}

/**
 * A pod pinned to `node` that sleeps until its deadline: kubectl kdiag runs kdiag in it with
 * `kubectl exec` (exit code and binary-safe stdout) and deletes it after.
 */
export function nodePodManifest(o: NodePodOptions): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: o.name,
      namespace: o.namespace,
      labels: { [KDIAG_LABEL]: KDIAG_LABEL_VALUE, 'app.kubernetes.io/component': 'node-run' },
    },
    spec: {
      // nodeName skips the scheduler: the pod lands on that node even when it is cordoned.
      nodeName: o.node,
      restartPolicy: 'Never',
      activeDeadlineSeconds: o.deadlineSec,
      ...hostPodSpec(
        hostContainer(
          o.image,
          ['sleep', String(o.deadlineSec)],
          o.pullPolicy === undefined ? {} : { imagePullPolicy: o.pullPolicy },
        ),
      ),
    },
  };
}

/** A pod name for `node`: DNS-1123 label, `kdiag-<node>-<suffix>`, at most 63 characters. */
export function nodePodName(node: string, suffix: string): string {
  const safe = node
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63 - 'kdiag-'.length - 1 - suffix.length)
    .replace(/-+$/, '');
  return `kdiag-${safe === '' ? 'node' : safe}-${suffix}`;
}

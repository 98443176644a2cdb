// `kdiag cluster manifest`: a Namespace and a DaemonSet that traces every node continuously and
// keeps the recordings on the node (hostPath), one file per segment, old ones pruned. Pure.
import { hostContainer, hostPodSpec, KDIAG_LABEL, KDIAG_LABEL_VALUE } from './node-pod.js';

export interface DaemonSetOptions {
  readonly image: string;
  readonly namespace: string;
  /** Host folder the recordings are written to. */
  readonly hostDir: string;
  /** Length of one recording (kdiag trace --duration): a new file per segment. */
  readonly segment: string;
  /** Recordings older than this many days are removed when a segment starts. */
  readonly keepDays: number;
  readonly pullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
}

export const DAEMONSET_DEFAULTS = {
  image: 'localhost/kdiag:0.1.0',
  namespace: 'kdiag',
  hostDir: '/var/lib/kdiag/recordings',
  segment: '1h',
  keepDays: 7,
} as const;

const RECORDINGS = '/recordings';

/** The shell line of one segment: prune, then trace into a new file named for the node and time. */
export function segmentScript(o: Pick<DaemonSetOptions, 'segment' | 'keepDays'>): string {
  return [
    `find ${RECORDINGS} -maxdepth 1 -name 'kdiag-*.ndjson.gz' -mtime +${o.keepDays} -delete`,
    `exec kdiag trace --duration "$KDIAG_SEGMENT" --record "${RECORDINGS}/kdiag-$NODE_NAME-$(date -u +%Y%m%dT%H%M%SZ).ndjson.gz"`,
  ].join('; ');
}

/** The objects `kubectl apply -f` takes, in order: the Namespace, then the DaemonSet. */
export function daemonSetManifests(o: DaemonSetOptions): Record<string, unknown>[] {
  const labels = { [KDIAG_LABEL]: KDIAG_LABEL_VALUE, 'app.kubernetes.io/component': 'trace' };
  const spec = hostPodSpec(
    hostContainer(o.image, ['sh', '-c', segmentScript(o)], {
      ...(o.pullPolicy === undefined ? {} : { imagePullPolicy: o.pullPolicy }),
      env: [
        { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'KDIAG_SEGMENT', value: o.segment },
      ],
      resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '512Mi' } },
    }),
  );
  const container = (spec.containers as Record<string, unknown>[])[0]!;
  (container.volumeMounts as object[]).push({ name: 'recordings', mountPath: RECORDINGS });
  (spec.volumes as object[]).push({
    name: 'recordings',
    hostPath: { path: o.hostDir, type: 'DirectoryOrCreate' },
  });
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: o.namespace, labels } },
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'kdiag-trace', namespace: o.namespace, labels },
      spec: {
        selector: { matchLabels: labels },
        // One node at a time: a bad image never stops tracing everywhere at once.
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
        template: { metadata: { labels }, spec },
      },
    },
  ];
}

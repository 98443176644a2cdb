// Every manifest kdiag makes, validated offline against the Kubernetes API schemas
// (kubernetes-models: the OpenAPI schemas of the API server, compiled to validators).
import { readFileSync } from 'node:fs';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Pod } from 'kubernetes-models/v1/Pod';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { nodePodManifest, nodePodName, HOST_MOUNTS } from '../../src/cluster/node-pod.js';
import { daemonSetManifests, DAEMONSET_DEFAULTS } from '../../src/cluster/daemonset.js';
import { daemonSetYaml } from '../../src/cli/output/cluster-manifest.js';
import { runKdiag } from '../helpers/run-kdiag.js';

const pod = nodePodManifest({
  name: 'kdiag-worker-1-abcde',
  namespace: 'default',
  node: 'worker-1',
  image: 'localhost/kdiag:0.1.0',
  deadlineSec: 900,
  pullPolicy: 'IfNotPresent',
});

function validate(obj: Record<string, unknown>): void {
  const kind = obj.kind;
  if (kind === 'Pod') new Pod(obj as never).validate();
  else if (kind === 'DaemonSet') new DaemonSet(obj as never).validate();
  else if (kind === 'Namespace') new Namespace(obj as never).validate();
  else throw new Error(`no schema for ${String(kind)}`);
}

describe('node pod', () => {
  it('is a valid v1 Pod', () => {
    expect(() => validate(pod)).not.toThrow();
  });

  it('runs in the node namespaces, privileged, pinned, bounded, tolerating every taint', () => {
    const spec = pod.spec as Record<string, any>;
    expect(spec.nodeName).toBe('worker-1');
    expect(spec.hostPID).toBe(true);
    expect(spec.hostNetwork).toBe(true);
    expect(spec.activeDeadlineSeconds).toBe(900);
    expect(spec.restartPolicy).toBe('Never');
    expect(spec.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(spec.automountServiceAccountToken).toBe(false);
    const c = spec.containers[0];
    expect(c.securityContext).toEqual({ privileged: true });
    expect(c.command).toEqual(['sleep', '900']);
    expect(c.imagePullPolicy).toBe('IfNotPresent');
    expect(c.volumeMounts.map((m: { mountPath: string }) => m.mountPath)).toEqual([
      '/sys/kernel/tracing',
      '/run/netns',
      '/var/log/pods',
      '/boot',
    ]);
    expect(spec.volumes.map((v: { hostPath: { path: string } }) => v.hostPath.path)).toEqual(
      HOST_MOUNTS.map((m) => m.path),
    );
    // Named netns made after the pod started must show inside.
    expect(c.volumeMounts[1]).toMatchObject({
      readOnly: true,
      mountPropagation: 'HostToContainer',
    });
  });

  it('the schema check fails on a wrong type (the validator is live)', () => {
    const bad = structuredClone(pod) as Record<string, any>;
    bad.spec.hostPID = 'yes';
    expect(() => validate(bad)).toThrow(/hostPID/);
  });

  it('names pods as DNS-1123 labels, at most 63 characters', () => {
    expect(nodePodName('worker-1', 'abcde')).toBe('kdiag-worker-1-abcde');
    expect(nodePodName('ip-10-1-3-88.ec2.internal', 'abcde')).toBe(
      'kdiag-ip-10-1-3-88-ec2-internal-abcde',
    );
    const long = nodePodName(`${'a'.repeat(70)}.example.com`, 'abcde');
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });
});

describe('DaemonSet manifest', () => {
  it('is a valid Namespace and apps/v1 DaemonSet, recordings on the host', () => {
    const docs = daemonSetManifests({ ...DAEMONSET_DEFAULTS, image: 'r.example/kdiag:0.1.0' });
    expect(docs.map((d) => d.kind)).toEqual(['Namespace', 'DaemonSet']);
    for (const d of docs) expect(() => validate(d)).not.toThrow();
    const spec = (docs[1] as any).spec.template.spec;
    expect(spec.volumes.at(-1)).toEqual({
      name: 'recordings',
      hostPath: { path: '/var/lib/kdiag/recordings', type: 'DirectoryOrCreate' },
    });
    expect(spec.containers[0].image).toBe('r.example/kdiag:0.1.0');
    expect(spec.containers[0].command[2]).toContain(
      'kdiag trace --duration "$KDIAG_SEGMENT" --record',
    );
  });

  it('the YAML text parses back to schema-valid objects with the options given', () => {
    const text = daemonSetYaml({
      image: 'r.example/kdiag:0.1.0',
      namespace: 'diag',
      hostDir: '/data/kdiag',
      segment: '30m',
      keepDays: '3',
    });
    const docs = parseAllDocuments(text).map((d) => d.toJSON() as Record<string, any>);
    for (const d of docs) expect(() => validate(d)).not.toThrow();
    expect(docs[1]!.metadata.namespace).toBe('diag');
    expect(docs[1]!.spec.template.spec.volumes.at(-1).hostPath.path).toBe('/data/kdiag');
    expect(docs[1]!.spec.template.spec.containers[0].command[2]).toContain('-mtime +3');
  });

  it('refuses options that would make a broken manifest, in one line', () => {
    const base = { ...DAEMONSET_DEFAULTS, keepDays: '7' };
    expect(() => daemonSetYaml({ ...base, namespace: 'Bad_NS' })).toThrow(/--namespace Bad_NS/);
    expect(() => daemonSetYaml({ ...base, hostDir: 'rel/dir' })).toThrow(/--host-dir/);
    expect(() => daemonSetYaml({ ...base, hostDir: '/a b' })).toThrow(/--host-dir/);
    expect(() => daemonSetYaml({ ...base, segment: '1 hour' })).toThrow(/--segment/);
  });

  it('deploy/daemonset/kdiag.yaml is what kdiag cluster manifest prints', async () => {
    const committed = readFileSync(
      new URL('../../deploy/daemonset/kdiag.yaml', import.meta.url),
      'utf8',
    );
    const r = await runKdiag(['cluster', 'manifest']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(committed);
  });
});

// kubectl kdiag against a TEST DOUBLE of kubectl (test/helpers/fake-kubectl/kubectl): there is no
// API server here, so a stand-in on PATH records each call's argv and stdin and answers the way
// kubectl prints. The tests assert the exact argument arrays and the manifests sent.
import { execFile } from 'node:child_process';
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
  mkdirSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Pod } from 'kubernetes-models/v1/Pod';
import { describe, expect, it } from 'vitest';

const PLUGIN = new URL('../../bin/kubectl-kdiag.js', import.meta.url).pathname;
const FAKE_DIR = new URL('../helpers/fake-kubectl/', import.meta.url).pathname;
const BUNDLE = new URL('../../fixtures/bundles/kube-proxy-drift/', import.meta.url).pathname;
const run = promisify(execFile);

interface Call {
  argv: string[];
  stdin?: string;
}

async function plugin(
  args: readonly string[],
  env: Record<string, string> = {},
  cwd?: string,
): Promise<{ code: number; stdout: string; stderr: string; calls: Call[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'kdiag-plugin-'));
  const log = join(dir, 'calls.ndjson');
  writeFileSync(log, '');
  const fullEnv = {
    ...process.env,
    PATH: `${FAKE_DIR}:${process.env.PATH ?? ''}`,
    FAKE_KUBECTL_LOG: log,
    ...env,
  };
  let code = 0;
  let stdout = '';
  let stderr = '';
  try {
    const r = await run(process.execPath, [PLUGIN, ...args], {
      env: fullEnv,
      timeout: 60_000,
      ...(cwd ? { cwd } : {}),
    });
    ({ stdout, stderr } = r);
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    ({ code, stdout, stderr } = e);
  }
  const calls = readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Call);
  return { code, stdout, stderr, calls };
}

function createdPod(call: Call): Record<string, any> {
  return JSON.parse(call.stdin!) as Record<string, any>;
}

describe('kubectl kdiag check|trace node/NAME', () => {
  it('creates the pod, waits, execs kdiag check, deletes: exact argv, exit code passed on', async () => {
    const r = await plugin(
      ['--namespace', 'diag', '--context', 'prod', 'check', 'node/worker-1', '--', '--json'],
      { FAKE_KUBECTL_EXEC_EXIT: '1' },
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('kdiag check ran with --json\n');
    const pod = createdPod(r.calls[0]!);
    const name = pod.metadata.name as string;
    expect(name).toMatch(/^kdiag-worker-1-[0-9a-f]{5}$/);
    const g = ['--context', 'prod', '--namespace', 'diag'];
    expect(r.calls.map((c) => c.argv)).toEqual([
      [...g, 'create', '-f', '-', '-o', 'name'],
      [...g, 'wait', '--for=condition=Ready', `pod/${name}`, '--timeout=120s'],
      [...g, 'exec', name, '-c', 'kdiag', '--', 'kdiag', 'check', '--json'],
      [...g, 'delete', 'pod', name, '--ignore-not-found', '--wait=false'],
    ]);
    expect(() => new Pod(pod as never).validate()).not.toThrow();
    expect(pod.metadata.namespace).toBe('diag');
    expect(pod.spec.nodeName).toBe('worker-1');
    expect(pod.spec.activeDeadlineSeconds).toBe(900);
    expect(r.stderr).toContain(`Pod ${name} started on node worker-1`);
    expect(r.stderr).toContain(`Pod ${name} deleted`);
  });

  it('trace: a longer deadline, the image and pull policy given, flags passed through', async () => {
    const r = await plugin([
      '--image',
      'r.example/kdiag:0.1.0',
      '--pull-policy',
      'IfNotPresent',
      'trace',
      'node/worker-2',
      '--',
      '--duration',
      '5m',
      '--port',
      '5432',
    ]);
    expect(r.code).toBe(0);
    const pod = createdPod(r.calls[0]!);
    expect(pod.spec.activeDeadlineSeconds).toBe(3600);
    expect(pod.spec.containers[0].image).toBe('r.example/kdiag:0.1.0');
    expect(pod.spec.containers[0].imagePullPolicy).toBe('IfNotPresent');
    expect(r.calls[2]!.argv.slice(-6)).toEqual([
      'kdiag',
      'trace',
      '--duration',
      '5m',
      '--port',
      '5432',
    ]);
  });

  it('refusal by the cluster: one line, exit 2, nothing left to delete', async () => {
    const r = await plugin(['check', 'node/locked'], { FAKE_KUBECTL_FAIL_NODE: 'locked' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^kdiag: can't create pod kdiag-locked-[0-9a-f]{5} on node locked: Error from server \(Forbidden\)/,
    );
    expect(r.calls.map((c) => c.argv[2])).toEqual(['create']);
  });

  it('not a node: usage error before any kubectl call', async () => {
    const r = await plugin(['check', 'pod/web-1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('pod/web-1: not a node');
    expect(r.calls).toEqual([]);
  });
});

describe('kubectl kdiag collect', () => {
  function tarOfBundle(): string {
    const dir = mkdtempSync(join(tmpdir(), 'kdiag-plugin-tar-'));
    const tgz = join(dir, 'b.tar.gz');
    return tgz;
  }

  it('--all-nodes: every node, bounded, one line each, bundles copied out, a failed node named', async () => {
    // A real bundle archive for the fake's `cat`, made by tar from a fixture bundle.
    const tgz = tarOfBundle();
    await run('tar', ['czf', tgz, '-C', BUNDLE, '.']);
    const cwd = mkdtempSync(join(tmpdir(), 'kdiag-plugin-out-'));
    const r = await plugin(
      ['collect', '--all-nodes', '-o', 'bundles', '--concurrency', '2', '--redact'],
      { FAKE_KUBECTL_NODES: 'a,b,c', FAKE_KUBECTL_FAIL_NODE: 'b', FAKE_KUBECTL_BUNDLE: tgz },
      cwd,
    );
    expect(r.code).toBe(2);
    expect(r.calls[0]!.argv).toEqual(['--namespace', 'default', 'get', 'nodes', '-o', 'name']);
    expect(r.stderr).toContain('Collecting from 3 node(s), 2 at a time');
    expect(r.stderr).toMatch(
      /\[\d\/3\] a: 6 files; 9 not collected \(see kdiag-collect.json\) \(\d+ KiB\)/,
    );
    expect(r.stderr).toMatch(/\[\d\/3\] b: FAILED can't create pod kdiag-b-/);
    expect(r.stdout).toContain(`Bundles of 2 of 3 nodes written to ${join(cwd, 'bundles')}`);
    expect(r.stdout).toContain('not collected: b');
    expect(readdirSync(join(cwd, 'bundles')).sort()).toEqual(['a.tar.gz', 'c.tar.gz']);
    expect(readFileSync(join(cwd, 'bundles', 'a.tar.gz'))).toEqual(readFileSync(tgz));
    // Nothing of the staging folder is left beside the result.
    expect(readdirSync(cwd)).toEqual(['bundles']);
    const collectCalls = r.calls.filter((c) => c.argv.includes('collect'));
    const pods = r.calls
      .filter((c) => c.argv[2] === 'create')
      .map((c) => createdPod(c).metadata.name as string);
    const keys = new Set(collectCalls.map((c) => c.argv.at(-1)));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toMatch(/^[0-9a-f]{64}$/);
    for (const c of collectCalls) {
      const pod = c.argv[3]!;
      expect(pods).toContain(pod);
      const node = pod.replace(/^kdiag-/, '').replace(/-[0-9a-f]{5}$/, '');
      expect(c.argv.slice(4)).toEqual([
        '-c',
        'kdiag',
        '--',
        'kdiag',
        'collect',
        '--tar',
        '--out',
        `/tmp/kdiag-bundle-${node}`,
        '--redact',
        '--redact-key',
        [...keys][0],
      ]);
    }
    // Every pod created is deleted.
    const deleted = r.calls.filter((c) => c.argv[2] === 'delete').map((c) => c.argv[4]);
    expect(deleted.sort()).toEqual(pods.filter((p) => !p.startsWith('kdiag-b-')).sort());
    expect(statSync(join(cwd, 'bundles')).mode & 0o777).toBe(0o755);
  });

  it('refuses an output folder that is not empty, before any pod', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'kdiag-plugin-out-'));
    mkdirSync(join(cwd, 'full'));
    writeFileSync(join(cwd, 'full', 'x'), '');
    const r = await plugin(['collect', 'node/a', '-o', 'full'], {}, cwd);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('exists and is not empty');
    expect(r.calls.filter((c) => c.argv.includes('create'))).toEqual([]);
  });
});

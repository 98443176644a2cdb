import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFlag, discoverKubeProxy, parseCmdline } from '../../src/host/kube-proxy.js';
import { kubeProxyArgsSource, kubeProxyConfigSource } from '../../src/sources/kube-proxy-source.js';
import type { RawRecord } from '../../src/engine/raw-record.js';

const YAML =
  'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\nconntrack:\n  tcpEstablishedTimeout: 24h0m0s\n';

async function all(src: {
  records(s: AbortSignal): AsyncIterable<RawRecord>;
}): Promise<RawRecord[]> {
  const out: RawRecord[] = [];
  for await (const r of src.records(new AbortController().signal)) out.push(r);
  return out;
}

describe('kube-proxy command line (pure)', () => {
  it('splits /proc/PID/cmdline on NUL', () => {
    expect(
      parseCmdline(
        '/usr/local/bin/kube-proxy\0--config=/var/lib/kube-proxy/config.conf\0--hostname-override=kind-worker\0',
      ),
    ).toEqual([
      '/usr/local/bin/kube-proxy',
      '--config=/var/lib/kube-proxy/config.conf',
      '--hostname-override=kind-worker',
    ]);
    expect(parseCmdline('')).toEqual([]);
  });
  it.each([
    [['kube-proxy', '--config=/var/lib/kube-proxy/config.conf'], '/var/lib/kube-proxy/config.conf'],
    [
      [
        'kube-proxy',
        '--v=2',
        '--config',
        '/var/lib/kube-proxy-config/config',
        '--hostname-override=ip-10-0-0-1',
      ],
      '/var/lib/kube-proxy-config/config',
    ],
    [['kube-proxy', '--proxy-mode=ipvs', '--conntrack-tcp-timeout-established=24h'], undefined],
    [['kube-proxy', '--', '--config=x'], undefined],
  ])('finds --config in %j', (argv, expected) => {
    expect(configFlag(argv)).toBe(expected);
  });
});

describe('discovery on a fake /proc tree', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'kdiag-kp-'));
    const p = join(root, 'proc');
    mkdirSync(join(p, '77'), { recursive: true });
    writeFileSync(join(p, '77', 'comm'), 'bash\n');
    mkdirSync(join(p, '512', 'root', 'var/lib/kube-proxy'), { recursive: true });
    writeFileSync(join(p, '512', 'comm'), 'kube-proxy\n');
    writeFileSync(
      join(p, '512', 'cmdline'),
      '/usr/local/bin/kube-proxy\0--config=/var/lib/kube-proxy/config.conf\0--hostname-override=kind-worker\0',
    );
    writeFileSync(join(p, '512', 'root', 'var/lib/kube-proxy/config.conf'), YAML);
    mkdirSync(join(root, 'empty-proc'));
    writeFileSync(join(root, 'host-config.conf'), YAML);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('reads the running process argv and its --config inside its mount namespace', async () => {
    const d = await discoverKubeProxy({
      proc: join(root, 'proc'),
      defaultConfig: join(root, 'nowhere'),
    });
    expect(d).toMatchObject({
      origin: 'process',
      pid: 512,
      configPath: '/var/lib/kube-proxy/config.conf',
      readPath: join(root, 'proc', '512', 'root', 'var/lib/kube-proxy/config.conf'),
    });
    const cfg = await all(kubeProxyConfigSource(d, { clock: () => 2 }));
    expect(cfg[0]).toEqual({
      t: 2,
      src: 'kube-proxy:config',
      line: `cat ${d.readPath}`,
      k: 'begin',
    });
    expect(cfg.filter((r) => !r.k).map((r) => r.line)).toEqual(YAML.trimEnd().split('\n'));
    const args = await all(kubeProxyArgsSource(d, { clock: () => 2, proc: join(root, 'proc') }));
    expect(args.filter((r) => !r.k).map((r) => r.line)).toEqual([
      '/usr/local/bin/kube-proxy',
      '--config=/var/lib/kube-proxy/config.conf',
      '--hostname-override=kind-worker',
    ]);
    expect(args.at(-1)?.line).toBe('exit 0');
  });

  it('falls back to the default path, then to nothing (sources then say why)', async () => {
    const d1 = await discoverKubeProxy({
      proc: join(root, 'empty-proc'),
      defaultConfig: join(root, 'host-config.conf'),
    });
    expect(d1).toMatchObject({ origin: 'default-path', readPath: join(root, 'host-config.conf') });
    expect(d1.pid).toBeUndefined();
    const args = await all(kubeProxyArgsSource(d1, { clock: () => 1 }));
    expect(args.map((r) => r.k)).toEqual(['begin', 'err', 'end']);
    expect(args[1]?.line).toMatch(/can't find a kube-proxy process/);

    const d2 = await discoverKubeProxy({
      proc: join(root, 'empty-proc'),
      defaultConfig: join(root, 'nowhere'),
    });
    expect(d2.origin).toBe('none');
    const cfg = kubeProxyConfigSource(d2, { clock: () => 1 });
    const recs = await all(cfg);
    expect(recs[1]).toMatchObject({ k: 'err' });
    expect(recs[1]?.line).toMatch(/--kube-proxy-config FILE/);
    expect(cfg.status.state).toBe('unavailable');
  });

  it('uses the file the user gives', async () => {
    const d = await discoverKubeProxy({
      proc: join(root, 'proc'),
      userConfig: join(root, 'host-config.conf'),
    });
    expect(d).toMatchObject({ origin: 'user', pid: 512, readPath: join(root, 'host-config.conf') });
  });

  it('reports a user file that does not exist as unavailable', async () => {
    const d = await discoverKubeProxy({
      proc: join(root, 'empty-proc'),
      userConfig: join(root, 'missing.yaml'),
    });
    const src = kubeProxyConfigSource(d, { clock: () => 1 });
    const recs = await all(src);
    expect(recs.map((r) => r.k)).toEqual(['begin', 'err', 'end']);
    expect(src.status.state).toBe('unavailable');
  });
});

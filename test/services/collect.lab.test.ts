// kdiag collect: a real bundle from a throwaway namespace (root and the tools needed).
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { which } from '../../src/host/exec.js';
import { collectBundle, type CollectManifest } from '../../src/services/collect.js';
import { planBundle } from '../../src/record/bundle-reader.js';
import { labSkipReason } from '../helpers/lab-guard.js';
import { createNetnsFixture, type NetnsFixture } from '../helpers/netns-fixture.js';

const reason = labSkipReason('root', 'netns', 'iptables', 'conntrack', 'nft');

describe.skipIf(reason)('kdiag collect on a real namespace', () => {
  let ns: NetnsFixture;
  let root: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'kdiag-collect-'));
    ns = await createNetnsFixture({ estTimeout: 4321 });
  });
  afterAll(() => {
    ns?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('writes every file with the netns content, and a manifest saying how each was made', async () => {
    const out = join(root, 'bundle');
    const kpConfig = join(root, 'kube-proxy-config.yaml');
    writeFileSync(
      kpConfig,
      'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: iptables\n',
    );
    const progress: string[] = [];
    const r = await collectBundle({
      out,
      netns: ns.name,
      kubeProxyConfig: kpConfig,
      hostname: 'testhost',
      onProgress: (l) => progress.push(l),
    });
    const files = readdirSync(out).sort();
    const ipvs = existsSync('/proc/net/ip_vs');
    const expected = [
      'conntrack-L.txt',
      'conntrack-S.txt',
      'ip6tables-save.txt',
      'iptables-save.txt',
      'nft-ruleset.txt',
      'kdiag-collect.json',
      'kube-proxy.yaml',
      'nf_conntrack.txt',
      'owners.ndjson',
      'ss.txt',
      'stat_nf_conntrack.txt',
      'sysctl.txt',
      ...(ipvs
        ? [
            'ip_vs_conn.txt',
            'ipvsadm-Ln.txt',
            'ipvsadm-Lnc.txt',
            'ipvsadm-stats.txt',
            'ipvsadm-timeout.txt',
          ]
        : []),
    ].sort();
    expect(files).toEqual(expected);
    const read = (f: string): string => readFileSync(join(out, f), 'utf8');

    const held = `sport=${ns.heldPort} dport=80 `;
    expect(
      read('conntrack-L.txt')
        .split('\n')
        .find((l) => l.includes(held)),
    ).toMatch(/^ipv4 +2 tcp +6 \d+ ESTABLISHED src=10\.0\.0\.1 dst=10\.96\.0\.10 .*id=\d+$/);
    expect(read('nf_conntrack.txt')).toContain(held);
    expect(read('conntrack-S.txt')).toMatch(/^cpu=0 +\tfound=/);
    expect(read('stat_nf_conntrack.txt')).toMatch(/^entries +clashres/);
    expect(read('sysctl.txt').split('\n')).toContain(
      'net.netfilter.nf_conntrack_tcp_timeout_established = 4321',
    );
    expect(read('ss.txt')).toMatch(
      new RegExp(`10\\.0\\.0\\.1:${ns.heldPort} +10\\.96\\.0\\.10:80 `),
    );
    expect(read('iptables-save.txt')).toContain('-j DNAT --to-destination 10.0.0.2:8080');
    expect(read('kube-proxy.yaml')).toBe(readFileSync(kpConfig, 'utf8'));
    const owners = read('owners.ndjson')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; names?: string[]; pid?: number });
    expect(owners.find((o) => o.type === 'netns' && o.names?.includes(ns.name))).toBeDefined();
    expect(owners.find((o) => o.type === 'pid' && o.pid === ns.holder.pid)).toBeDefined();

    const m = JSON.parse(read('kdiag-collect.json')) as CollectManifest;
    expect(m).toMatchObject({
      format: 'kdiag-collect',
      formatVersion: 1,
      hostname: 'testhost',
      netns: ns.name,
      kubeProxy: { origin: 'user', readPath: kpConfig },
    });
    expect(m.kernel).toBe(readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim());
    expect(Number.isFinite(Date.parse(m.collectedAt))).toBe(true);
    const entry = (f: string) => m.files.find((e) => e.file === f)!;
    expect(entry('conntrack-L.txt')).toMatchObject({
      argv: ['conntrack', '-L', '-o', 'extended,id'],
      ran: ['nsenter', `--net=/run/netns/${ns.name}`, '--', 'conntrack', '-L', '-o', 'extended,id'],
      status: 'written',
      exitCode: 0,
    });
    expect(entry('conntrack-L.txt').stderrTail).toMatch(/flow entries have been shown/);
    expect(entry('iptables-save.txt').argv).toEqual(['iptables-save', '-c']);
    expect(entry('ss.txt').argv).toEqual(['ss', '-tinoeH']);
    expect(entry('nf_conntrack.txt').argv).toEqual(['cat', '/proc/net/nf_conntrack']);
    expect([...m.written].sort()).toEqual(expected.filter((f) => f !== 'kdiag-collect.json'));
    // No kube-proxy process here: its argv file is missing, and said so.
    expect(m.missing.find((x) => x.file === 'kube-proxy.args')?.reason).toMatch(
      /can't find a kube-proxy process/,
    );
    if (!ipvs)
      expect(m.missing.filter((x) => x.file.startsWith('ipvsadm')).map((x) => x.reason)).toEqual(
        Array(3).fill('IPVS is not loaded: /proc/net/ip_vs missing'),
      );
    expect(r.written).toBe(m.written.length);
    expect(progress).toContain(
      `Conntrack table read with conntrack -L (${read('conntrack-L.txt').trim().split('\n').length} entries)`,
    );
    expect(files.filter((f) => f.includes('.tmp-'))).toEqual([]);
    // The bundle reader recognises every file collect wrote, and takes the time from the manifest.
    const plan = await planBundle(out);
    expect(plan.ignored).toEqual([]);
    expect(plan.t).toBe(Date.parse(m.collectedAt));
  });

  it('notes a missing tool in the manifest and one progress line, and collects the rest', async () => {
    // A PATH holding every tool collect uses except conntrack.
    const bin = join(root, 'bin-without-conntrack');
    mkdirSync(bin);
    for (const tool of [
      'ip',
      'cat',
      'grep',
      'ss',
      'iptables-save',
      'nft',
      'ipvsadm',
      'nsenter',
      'setpriv',
    ]) {
      const p = await which(tool);
      if (p) symlinkSync(p, join(bin, tool));
    }
    const saved = process.env.PATH;
    const progress: string[] = [];
    let m: CollectManifest;
    try {
      process.env.PATH = bin;
      m = (
        await collectBundle({
          out: join(root, 'no-conntrack'),
          netns: ns.name,
          onProgress: (l) => progress.push(l),
        })
      ).manifest;
    } finally {
      process.env.PATH = saved;
    }
    const missing = m.missing
      .filter((x) => x.reason === "can't run conntrack: not found on PATH")
      .map((x) => x.file)
      .sort();
    expect(missing).toEqual(['conntrack-L.txt', 'conntrack-S.txt']);
    // One line for the missing tool (the file list wraps to the next line to stay within 80 columns).
    const at = progress.indexOf("can't run conntrack: not found on PATH");
    expect(at).toBeGreaterThanOrEqual(0);
    expect(progress.filter((l) => l.includes('conntrack:'))).toHaveLength(1);
    expect(progress[at + 1]).toBe('  (not written: conntrack-S.txt, conntrack-L.txt)');
    expect(progress.every((l) => l.length <= 80)).toBe(true);
    const files = readdirSync(join(root, 'no-conntrack'));
    expect(files).toContain('nf_conntrack.txt');
    expect(files).toContain('ss.txt');
    expect(files).toContain('kdiag-collect.json');
    expect(files).not.toContain('conntrack-L.txt');
  });
});

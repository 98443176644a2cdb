import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseKubeProxyMetrics, parseProxyModeAnswer } from '../../src/parse/kube-proxy-metrics.js';
import { parsePrometheusText, promFloat } from '../../src/parse/prometheus-text.js';

const DIR = new URL('../../fixtures/tools/kube-proxy-metrics/', import.meta.url);
const read = (f: string): string => readFileSync(new URL(f, DIR), 'utf8');

describe('parsePrometheusText', () => {
  it('reads every line of the three modes without an issue', () => {
    for (const f of ['iptables.txt', 'ipvs.txt', 'nftables.txt']) {
      const r = parsePrometheusText(read(f));
      expect(r.issues, f).toEqual([]);
      const lines = read(f)
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('#'));
      expect(r.value.samples, f).toBe(lines.length);
    }
  });

  it('groups histogram lines under their family with le labels', () => {
    const r = parsePrometheusText(read('iptables.txt'));
    const h = r.value.families.get('kubeproxy_sync_proxy_rules_duration_seconds')!;
    expect(h.type).toBe('histogram');
    expect(h.help).toBe('[ALPHA] SyncProxyRules latency in seconds');
    expect(h.samples.filter((s) => s.name.endsWith('_bucket'))).toHaveLength(16);
    expect(h.samples.at(-1)).toMatchObject({
      name: 'kubeproxy_sync_proxy_rules_duration_seconds_count',
      value: 10,
    });
  });

  it('reports each broken line of bad.txt with its code and keeps the good one', () => {
    const r = parsePrometheusText(read('bad.txt'));
    expect(r.issues.map((i) => [i.line, i.code])).toEqual([
      [4, 'prom.type-after-samples'],
      [5, 'prom.bad-labels'],
      [6, 'prom.bad-labels'],
      [7, 'prom.bad-value'],
      [8, 'prom.bad-timestamp'],
      [9, 'prom.bad-name'],
      [10, 'prom.bad-sample'],
    ]);
    expect(r.value.samples).toBe(1);
  });

  it('unescapes label values and reads Go floats', () => {
    const r = parsePrometheusText('m{a="x\\"y\\\\z\\nw"} -Inf\n');
    expect(r.value.families.get('m')!.samples[0]).toMatchObject({
      labels: { a: 'x"y\\z\nw' },
      value: -Infinity,
    });
    expect(promFloat('1.7824722606383023e+09')).toBeCloseTo(1782472260.6383023, 6);
    expect(promFloat('0x10')).toBeUndefined();
    expect(promFloat('1e999')).toBeUndefined();
  });
});

describe('parseKubeProxyMetrics', () => {
  it('finds the mode each exposition implies, the version and the sync values', () => {
    const ipt = parseKubeProxyMetrics(read('iptables.txt')).value;
    expect(ipt).toMatchObject({ mode: 'iptables', version: 'v1.31.3', invalidDropped: 0 });
    expect(ipt.lastSyncSec! - ipt.lastQueuedSec!).toBeCloseTo(0.12, 3);
    expect(ipt.syncDuration?.count).toBe(10);
    expect(ipt.syncDuration?.buckets.at(-1)).toEqual({ le: Infinity, count: 10 });
    expect(parseKubeProxyMetrics(read('ipvs.txt')).value).toMatchObject({
      mode: 'ipvs',
      version: 'v1.30.7',
    });
    const nft = parseKubeProxyMetrics(read('nftables.txt')).value;
    expect(nft.mode).toBe('nftables');
    expect(nft.invalidDropped).toBeUndefined();
  });

  it("says when the exposition is not kube-proxy's", () => {
    const r = parseKubeProxyMetrics('# TYPE up gauge\nup 1\n');
    expect(r.issues.map((i) => i.code)).toEqual(['prom.not-kube-proxy']);
  });

  it('reads /proxyMode answers', () => {
    expect(parseProxyModeAnswer('ipvs')).toBe('ipvs');
    expect(parseProxyModeAnswer('nftables\n')).toBe('nftables');
    expect(parseProxyModeAnswer('<html>')).toBeUndefined();
  });
});

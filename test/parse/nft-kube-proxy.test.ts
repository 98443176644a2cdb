// kube-proxy's nftables mode as the real nft prints it (fixtures/tools/nft, captured with nft 1.0.6).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseNftRuleset } from '../../src/parse/nft-ruleset.js';

const read = (name: string): string =>
  readFileSync(new URL(`../../fixtures/tools/nft/${name}`, import.meta.url), 'utf8');

const svc = (r: ReturnType<typeof parseNftRuleset>) =>
  r.value.services.map(
    (s) =>
      `${s.namespace}/${s.name}:${s.portName} ${s.proto} ${s.clusterIP} ${s.port} → ${s.endpoints.map((e) => `${e.addr}:${e.port}`).join(',')}`,
  );

describe('nft list table ip|ip6 kube-proxy (real nft output)', () => {
  it('reads every ClusterIP Service of the ip table with its endpoints, and no INVALID drop', () => {
    const r = parseNftRuleset(read('kube-proxy-ip.txt'));
    expect(r.issues).toEqual([]);
    expect(r.value.kubeProxyNftables).toBe(true);
    expect(r.value.kubeProxyChains).toBe(false);
    expect(svc(r).sort()).toEqual([
      'default/kubernetes:https tcp 10.96.0.1 443 → 172.18.0.2:6443',
      'default/web:http tcp 10.96.112.40 80 → 10.244.1.5:8080,10.244.2.7:8080',
      'kube-system/kube-dns:dns udp 10.96.0.10 53 → 10.244.0.3:53',
      'kube-system/kube-dns:dns-tcp tcp 10.96.0.10 53 → 10.244.0.3:53',
    ]);
    expect(r.value.invalidDropRules).toEqual([]);
    // The cluster-ips-check reject names "invalid ports" in a comment: not a ct state rule.
    expect(
      r.value.rules.filter((x) => x.chain === 'cluster-ips-check').map((x) => x.target),
    ).toEqual(['reject', 'drop']);
    expect(r.value.tables[0]).toMatchObject({
      family: 'ip',
      name: 'kube-proxy',
      sets: ['cluster-ips'],
      maps: [
        'no-endpoint-services',
        'no-endpoint-nodeports',
        'firewall-ips',
        'service-ips',
        'service-nodeports',
      ],
    });
  });

  it('reads the ip6 table: IPv6 ClusterIPs and bracketed dnat targets', () => {
    const r = parseNftRuleset(read('kube-proxy-ip6.txt'));
    expect(r.issues).toEqual([]);
    expect(svc(r).sort()).toEqual([
      'default/kubernetes:https tcp fd00:10:96::1 443 → fd00:10::2:6443',
      'default/web:http tcp fd00:10:96::7a3c 80 → fd00:10:244:1::5:8080',
    ]);
    expect(r.value.rules.filter((x) => x.target === 'dnat')).toHaveLength(2);
  });

  it('reads a dual-stack ruleset as one: both families, the filter-forward hook, no INVALID drop', () => {
    const r = parseNftRuleset(read('ruleset-dualstack.txt'));
    expect(r.issues).toEqual([]);
    expect(r.value.tables.map((t) => `${t.family} ${t.name}`)).toEqual([
      'ip kube-proxy',
      'ip6 kube-proxy',
    ]);
    expect(r.value.services).toHaveLength(6);
    expect(r.value.invalidDropRules).toEqual([]);
  });

  it("finds a host firewall's INVALID drop and the hook it covers (INPUT only)", () => {
    const r = parseNftRuleset(read('ruleset-host-firewall.txt'));
    expect(r.issues).toEqual([]);
    expect(r.value.invalidDropRules).toEqual([
      { table: 'inet filter', chain: 'input', hook: 'INPUT', packets: 0, line: 311 },
    ]);
  });
});

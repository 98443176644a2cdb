import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseNftRuleset } from '../../src/parse/nft-ruleset.js';

const KUBE_PROXY = readFileSync(
  new URL('../../fixtures/pastes/nft-kube-proxy.txt', import.meta.url),
  'utf8',
);

describe('nft list ruleset', () => {
  it('reads kube-proxy nftables mode: the table, its Services with their endpoints, the INVALID drop', () => {
    const r = parseNftRuleset(KUBE_PROXY);
    expect(r.issues).toEqual([]);
    expect(r.value.kubeProxyNftables).toBe(true);
    expect(r.value.kubeProxyChains).toBe(false);
    expect(r.value.tables.map((t) => `${t.family} ${t.name}`)).toEqual(['ip kube-proxy']);
    expect(r.value.services).toEqual([
      {
        namespace: 'default',
        name: 'kubernetes',
        portName: 'https',
        clusterIP: '10.96.0.1',
        port: 443,
        proto: 'tcp',
        endpoints: [],
      },
      {
        namespace: 'crm',
        name: 'mysql',
        portName: 'mysql',
        clusterIP: '10.96.92.5',
        port: 3306,
        proto: 'tcp',
        endpoints: [{ addr: '10.244.12.8', port: 3306 }],
      },
    ]);
    expect(r.value.invalidDropRules).toEqual([
      { table: 'ip kube-proxy', chain: 'filter-forward', hook: 'FORWARD', line: 22 },
    ]);
    expect(r.value.rules.find((x) => x.target === 'dnat')).toMatchObject({
      chain: 'endpoint-3GWTOXJR-crm/mysql/tcp/mysql__10.244.12.8/3306',
      line: 74,
    });
  });

  it('takes a counter, an anonymous set of states and a wrapped rule; no kube-proxy table is said', () => {
    const text = [
      'table inet filter {',
      '\tchain forward {',
      '\t\ttype filter hook forward priority filter; policy accept;',
      '\t\tct state { invalid,',
      '\t\t   untracked } counter packets 12 bytes 720 drop',
      '\t\tct state established,related accept',
      '\t}',
      '}',
    ].join('\n');
    const r = parseNftRuleset(text);
    expect(r.issues).toEqual([]);
    expect(r.value.kubeProxyNftables).toBe(false);
    expect(r.value.invalidDropRules).toEqual([
      { table: 'inet filter', chain: 'forward', hook: 'FORWARD', packets: 12, line: 4 },
    ]);
    expect(r.value.rules.map((x) => x.target)).toEqual(['drop', 'accept']);
  });

  it('reports lines outside a table and a table left open, and keeps the rest', () => {
    const r = parseNftRuleset(
      'hello\ntable ip t {\n\tchain c {\n\t\tct state invalid drop\n\t}\n\tbogus line\n',
    );
    expect(r.issues.map((i) => [i.line, i.code])).toEqual([
      [1, 'nft.bad-line'],
      [6, 'nft.bad-line'],
      [7, 'nft.unclosed'],
    ]);
    expect(r.value.invalidDropRules).toHaveLength(1);
  });

  it('never throws on garbage and bounds a wrapped statement', () => {
    for (const t of [
      '{',
      '}}}}',
      'table ip x {\n\tchain y {\n\t\t{ { {',
      `table ip x {\n\tset s {\n\t\telements = { ${'1.2.3.4, '.repeat(200_000)}`,
    ]) {
      expect(() => parseNftRuleset(t)).not.toThrow();
    }
  });
});

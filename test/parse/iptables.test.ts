import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseIptablesSave, tokenizeIptablesRule } from '../../src/parse/iptables-save.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../fixtures/tools/iptables/${name}`, import.meta.url), 'utf8');
const codes = (issues: { line: number; code: string }[]): string[] =>
  issues.map((i) => `${i.line}:${i.code}`);

const lineOf = (text: string, needle: string): number =>
  text.split('\n').findIndex((l) => l.includes(needle)) + 1;

describe('parseIptablesSave on a real kube-proxy-style capture', () => {
  const text = fixture('save-c-kube-proxy-netns.txt');
  const { value, issues } = parseIptablesSave(text);

  it('reads every rule with its counters and no issues', () => {
    expect(issues).toEqual([]);
    expect(value.rules).toHaveLength(text.split('\n').filter((l) => l.startsWith('[')).length);
    expect(value.chains.filter).toContain('KUBE-FORWARD');
    expect(value.chains.nat).toEqual(
      expect.arrayContaining(['KUBE-SERVICES', 'KUBE-SVC-NPX46M4PTMTKRN6Y']),
    );
    expect(value.kubeProxyChains).toBe(true);
    const masq = value.rules.find((r) => r.chain === 'KUBE-MARK-MASQ')!;
    expect(masq).toMatchObject({
      table: 'nat',
      target: 'MARK',
      packets: 1,
      bytes: 29,
      spec: '-j MARK --set-xmark 0x4000/0x4000',
    });
    expect(value.rules.find((r) => r.chain === 'PREROUTING')).toMatchObject({
      comment: 'kubernetes service portals',
      target: 'KUBE-SERVICES',
      packets: 0,
    });
  });

  it('finds both INVALID drop rules with the base hook that reaches them', () => {
    expect(value.invalidDropRules).toEqual([
      {
        table: 'filter',
        chain: 'INPUT',
        hook: 'INPUT',
        packets: 0,
        line: lineOf(text, '-A INPUT -m state --state INVALID'),
      },
      {
        table: 'filter',
        chain: 'KUBE-FORWARD',
        hook: 'FORWARD',
        packets: 0,
        line: lineOf(text, '-A KUBE-FORWARD -m conntrack --ctstate INVALID'),
      },
    ]);
  });

  it('ignores negated ctstate matches', () => {
    expect(value.invalidDropRules.some((r) => r.chain === 'KUBE-FIREWALL')).toBe(false);
  });

  it('maps Service ports to their endpoints through KUBE-SVC and KUBE-SEP chains', () => {
    const byName = new Map(
      value.services.map((s) => [`${s.namespace}/${s.name}:${s.portName}`, s]),
    );
    expect(byName.get('default/kubernetes:https')).toEqual({
      namespace: 'default',
      name: 'kubernetes',
      portName: 'https',
      clusterIP: '10.96.0.1',
      port: 443,
      proto: 'tcp',
      endpoints: [{ addr: '172.18.0.2', port: 6443 }],
    });
    expect(byName.get('kube-system/kube-dns:dns')).toMatchObject({
      clusterIP: '10.96.0.10',
      port: 53,
      proto: 'udp',
      endpoints: [
        { addr: '10.244.0.2', port: 53 },
        { addr: '10.244.0.3', port: 53 },
      ],
    });
    expect(byName.get('default/web:http')).toMatchObject({
      clusterIP: '10.96.45.12',
      port: 80,
      endpoints: [{ addr: '10.244.1.5', port: 8080 }],
    });
    expect(byName.get('default/empty:http')).toMatchObject({
      clusterIP: '10.96.77.7',
      port: 80,
      endpoints: [],
    });
    expect(value.services).toHaveLength(5);
  });

  it('reads the counter-less dump the same way', () => {
    const plain = parseIptablesSave(fixture('save-kube-proxy-netns.txt'));
    expect(plain.issues).toEqual([]);
    expect(plain.value.services).toEqual(value.services);
    expect(plain.value.rules.every((r) => r.packets === undefined)).toBe(true);
    expect(plain.value.invalidDropRules.map((r) => r.hook)).toEqual(['INPUT', 'FORWARD']);
  });
});

describe('parseIptablesSave variants and failures', () => {
  it('finds the kube-proxy ≥1.29 nfacct INVALID drop rule with its counter', () => {
    const text = fixture('save-c-nfacct.txt');
    const { value, issues } = parseIptablesSave(text);
    expect(issues).toEqual([]);
    expect(value.invalidDropRules).toEqual([
      {
        table: 'filter',
        chain: 'KUBE-FORWARD',
        hook: 'FORWARD',
        packets: 17,
        line: lineOf(text, 'ct_state_invalid_dropped_pkts'),
      },
    ]);
  });

  it('reports malformed lines with their numbers', () => {
    const { value, issues } = parseIptablesSave(fixture('save-malformed.txt'));
    expect(codes(issues)).toEqual([
      '2:iptables.outside-table',
      '7:iptables.bad-counter',
      '8:iptables.bad-quote',
      '11:iptables.undeclared-chain',
      '12:iptables.bad-line',
      '3:iptables.missing-commit',
      '16:iptables.stray-commit',
    ]);
    expect(value.invalidDropRules).toEqual([
      { table: 'filter', chain: 'KUBE-FORWARD', hook: 'FORWARD', line: 10 },
    ]);
    expect(value.kubeProxyChains).toBe(false);
  });

  it('tokenizes quoted comments with escapes', () => {
    expect(tokenizeIptablesRule('-m comment --comment "a \\"b\\" c" -j X')).toEqual({
      ok: true,
      tokens: ['-m', 'comment', '--comment', 'a "b" c', '-j', 'X'],
    });
    expect(tokenizeIptablesRule('--comment "open')).toMatchObject({ ok: false });
  });

  it.each([
    '*',
    '*__proto__\n:X - [0:0]\n-A X -j X\nCOMMIT',
    '[1:2]',
    ':',
    '-A',
    '*nat\n-A KUBE-SERVICES -d',
    '"'.repeat(5000),
    '*filter\n' +
      '-A A -j B\n-A B -j A\n'.repeat(50) +
      '-A A -m conntrack --ctstate INVALID -j DROP\nCOMMIT',
  ])('never throws on garbage (%#)', (text) => {
    expect(() => parseIptablesSave(text)).not.toThrow();
  });
});

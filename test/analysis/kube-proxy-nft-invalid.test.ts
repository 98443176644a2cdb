// kube-proxy.nft-invalid-passes: nftables mode installs no INVALID drop, so INVALID packets are
// answered by the peer's reset; the evidence names nft, never iptables-save.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/engine/diagnose.js';
import type { IptablesRuleset } from '../../src/model/iptables.js';
import type { Observation } from '../../src/model/observation.js';
import { parseNftRuleset } from '../../src/parse/nft-ruleset.js';
import { T0, ct, kubeProxy, obs, ruleset, tableOf } from '../helpers/builders.js';

const nftOf = (name: string): IptablesRuleset => {
  const { tables: _t, ...r } = parseNftRuleset(
    readFileSync(new URL(`../../fixtures/tools/nft/${name}`, import.meta.url), 'utf8'),
  ).value;
  return r;
};
const nftObs = (t: number, r: IptablesRuleset): Observation => ({
  kind: 'iptables',
  t,
  src: 'nft:ruleset',
  ruleset: r,
});
const findings = (list: Observation[]) => diagnose(tableOf(list), {}).findings;
const byRule = (list: Observation[], rule: string) => findings(list).filter((f) => f.rule === rule);
const RULE = 'kube-proxy.nft-invalid-passes';

describe('kube-proxy.nft-invalid-passes', () => {
  const base: Observation[] = [
    obs.sysctls(T0, { 'net.netfilter.nf_conntrack_tcp_be_liberal': '0' }),
    nftObs(T0, nftOf('ruleset-dualstack.txt')),
    obs.stats(T0, { invalid: 10 }),
    obs.entry(T0, ct('10.244.1.9:56942>10.96.112.40:80', '10.244.1.5:8080>10.244.1.9:56942')),
    obs.stats(T0 + 5000, { invalid: 14 }),
  ];
  const resetToUnNated = obs.probe(
    T0 + 4000,
    {
      kind: 'reset',
      direction: 'sent',
      mode: 'passive',
      reason: 'NO_SOCKET',
      state: 'UNKNOWN',
      netns: 0,
      tuple: { proto: 'tcp', saddr: '10.244.1.5', sport: 8080, daddr: '10.244.1.9', dport: 56942 },
    },
    'RST-OUT reason=1 state=0 trigger 10.244.1.5:8080 -> 10.244.1.9:56942',
  );

  it('says the mode omits the rule, counts from conntrack -S and the probes, names nft as the source', () => {
    const [f, ...more] = byRule([...base, resetToUnNated], RULE);
    expect(more).toEqual([]);
    expect(f?.severity).toBe('critical');
    expect(f?.confidence).toBe('certain');
    expect(f?.cause).toContain('nftables mode (nft list ruleset shows table kube-proxy)');
    expect(f?.cause).toContain('installs no "ct state invalid drop" rule (kubernetes #122663)');
    expect(f?.cause).toContain('answers with a reset (ECONNRESET)');
    expect(f?.cause).toContain('conntrack -S invalid rose by 4');
    expect(f?.cause).toContain("1 socket-less reset to un-NAT'ed packets seen by the probes");
    expect(f?.flows).toHaveLength(1);
    expect(f?.suggestions).toEqual([
      'node-conntrack-be-liberal',
      'kube-proxy-conntrack-be-liberal',
    ]);
    const texts = f?.evidence.map((e) => e.text) ?? [];
    expect(texts).toContain('nft list ruleset: no rule drops ct state invalid');
    expect(texts.join('\n')).not.toContain('iptables-save');
    // The iptables-mode wording (and its iptables -I FORWARD suggestion) steps aside in nftables mode.
    expect(byRule(base, 'conntrack.invalid-drop-rule-missing')).toEqual([]);
  });

  it('is a warning without a rise, and names the expiry path when nf_conntrack_tcp_loose=0', () => {
    const quiet = [base[0]!, base[1]!, base[2]!, base[3]!];
    expect(byRule(quiet, RULE)[0]?.severity).toBe('warning');
    const loose0 = [...quiet, obs.sysctls(T0 + 1, { 'net.netfilter.nf_conntrack_tcp_loose': '0' })];
    expect(byRule(loose0, RULE)[0]?.cause).toContain(
      'the next packet of a flow whose entry expired (nf_conntrack_tcp_loose = 0)',
    );
  });

  it('does not fire with be_liberal=1 (loose=1), nor in iptables mode, nor with a FORWARD drop', () => {
    const liberal = [
      ...base,
      obs.sysctls(T0 + 1, { 'net.netfilter.nf_conntrack_tcp_be_liberal': '1' }),
    ];
    expect(byRule(liberal, RULE)).toEqual([]);
    const ipt = [...base, obs.kubeProxy(T0, kubeProxy({ mode: 'iptables' }))];
    expect(byRule(ipt, RULE)).toEqual([]);
    const fwd: IptablesRuleset = {
      ...nftOf('ruleset-dualstack.txt'),
      invalidDropRules: [{ table: 'inet filter', chain: 'forward', hook: 'FORWARD', line: 3 }],
    };
    expect(byRule([base[0]!, nftObs(T0, fwd)], RULE)).toEqual([]);
  });

  it("fires when the host firewall's INVALID drop covers INPUT only, and quotes it as nft", () => {
    const list = [base[0]!, nftObs(T0, nftOf('ruleset-host-firewall.txt'))];
    const [f] = byRule(list, RULE);
    expect(f?.evidence.map((e) => e.text)).toContain(
      'nft list ruleset: ct state invalid drop in chain input (table inet filter, 0 packets)',
    );
  });

  it('iptables-save rules keep their iptables-save wording', () => {
    const list = [
      base[0]!,
      obs.iptables(T0, ruleset({ kubeProxyChains: true })),
      obs.entry(T0, ct('10.0.0.1:56942>10.96.0.10:80', '10.0.0.2:8080>10.0.0.1:56942')),
    ];
    const [f] = byRule(list, 'conntrack.invalid-drop-rule-missing');
    expect(f?.evidence.map((e) => e.text)).toContain(
      'iptables-save: no rule drops --ctstate INVALID',
    );
  });
});

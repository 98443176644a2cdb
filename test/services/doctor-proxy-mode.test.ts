// kdiag doctor's kube-proxy mode line, from the configured mode and the rules seen.
import { describe, expect, it } from 'vitest';
import { kubeProxyModeCheck, modeFromRules } from '../../src/services/doctor-proxy-mode.js';
import type { HostCapabilities } from '../../src/sources/host-capabilities.js';
import { ipvsServiceCount, kubeProxyNftTables } from '../../src/sources/proxy-rules.js';

const host = (extra: Partial<HostCapabilities>): HostCapabilities =>
  ({ kubeProxy: undefined, ...extra }) as HostCapabilities;
const rules = (o: { nft?: string[]; chain?: boolean; ipvs?: number; notRead?: string[] }) => ({
  nftTables: o.nft,
  kubeServicesChain: o.chain,
  ipvsServices: o.ipvs,
  notRead: o.notRead ?? [],
});
const kp = (mode: string | undefined) => ({
  pid: 7,
  cmdline: ['kube-proxy'],
  mode,
  configPath: undefined,
  configFound: false,
});

describe('kube-proxy mode in kdiag doctor', () => {
  it('reads the kube-proxy tables from real `nft list tables` output, and IPVS services', () => {
    expect(kubeProxyNftTables('table ip kube-proxy\ntable ip6 kube-proxy\n')).toEqual([
      'ip kube-proxy',
      'ip6 kube-proxy',
    ]);
    expect(kubeProxyNftTables('table inet filter\ntable ip nat\n')).toEqual([]);
    const ipvs =
      'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\nTCP  0A600001:01BB rr\n  -> AC120002:192B      Masq    1      0          0\n';
    expect(ipvsServiceCount(ipvs)).toBe(1);
  });

  it('names the mode the rules show, nftables first', () => {
    expect(modeFromRules(rules({ nft: ['ip kube-proxy'], chain: true }))?.mode).toBe('nftables');
    expect(modeFromRules(rules({ nft: [], chain: true, ipvs: 3 }))?.mode).toBe('ipvs');
    expect(modeFromRules(rules({ nft: [], chain: true, ipvs: 0 }))?.mode).toBe('iptables');
    expect(modeFromRules(rules({ nft: [], chain: false }))).toBeUndefined();
  });

  it('says what nftables mode means for INVALID packets', () => {
    const c = kubeProxyModeCheck({
      ...host({ kubeProxy: kp('nftables') }),
      proxyRules: rules({ nft: ['ip kube-proxy', 'ip6 kube-proxy'], chain: false }),
    });
    expect(c.level).toBe('ok');
    expect(c.summary).toBe(
      'kube-proxy mode: nftables (nft list tables: ip kube-proxy, ip6 kube-proxy); no INVALID drop rule in this mode: INVALID packets draw resets',
    );
  });

  it('warns when the configured mode (default = iptables) is not what the rules show', () => {
    const c = kubeProxyModeCheck({
      ...host({ kubeProxy: kp('') }),
      proxyRules: rules({ nft: ['ip kube-proxy'], chain: false }),
    });
    expect(c.level).toBe('warn');
    expect(c.summary).toContain('configured iptables, but the rules show nftables');
  });

  it('says the rules were not read rather than guessing', () => {
    const c = kubeProxyModeCheck({
      ...host({}),
      proxyRules: rules({ notRead: ['rules: not root'] }),
    });
    expect(c.level).toBe('info');
    expect(c.summary).toBe('kube-proxy mode: unknown; rules show none (rules: not root)');
  });
});

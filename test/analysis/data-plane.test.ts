// The data plane from facts: what is found, by what, and what kdiag can and cannot read of it.
import { describe, expect, it } from 'vitest';
import { describeDataPlane, detectDataPlane } from '../../src/analysis/data-plane.js';
import { ipvsServiceCount, nftTableNames } from '../../src/parse/data-plane-facts.js';

describe('detectDataPlane', () => {
  it('kube-proxy: the mode from its config, else from the rules present', () => {
    expect(detectDataPlane({ processes: ['kube-proxy'], kubeProxyMode: '' })[0]).toMatchObject({
      name: 'kube-proxy',
      mode: 'iptables',
    });
    expect(detectDataPlane({ nftTables: ['ip nat', 'ip kube-proxy'] })[0]?.mode).toBe('nftables');
    expect(detectDataPlane({ ipvsServices: 3 })[0]?.mode).toBe('ipvs');
    expect(detectDataPlane({ kubeServicesChain: true })[0]?.mode).toBe('iptables');
    expect(detectDataPlane({ kubeServicesChain: false, nftTables: ['ip nat'] })).toEqual([]);
  });
  it('Cilium: its BPF conntrack is not read without cilium-dbg', () => {
    const [c] = detectDataPlane({
      processes: ['cilium-agent'],
      bpfMaps: ['cilium_ct4_global', 'cilium_lb4_services_v2', 'other'],
      tools: [],
    });
    expect(c).toMatchObject({ name: 'cilium', mode: 'BPF' });
    expect(c?.evidence).toEqual(['cilium-agent process', '2 cilium_* BPF maps']);
    expect(c?.blind[0]).toBe('BPF conntrack (cilium_ct*) not read — cilium-dbg not found');
    const [d] = detectDataPlane({ processes: ['cilium-agent'], tools: ['cilium-dbg'] });
    expect(d?.sees).toEqual(['BPF conntrack (cilium_ct*) (cilium-dbg)']);
  });
  it('Calico: iptables mode reads conntrack; BPF mode needs its dump', () => {
    expect(detectDataPlane({ processes: ['calico-node'] })[0]).toMatchObject({
      name: 'calico',
      mode: 'iptables',
      blind: [],
    });
    const [b] = detectDataPlane({ processes: ['calico-node'], bpfMaps: ['cali_v4_ct3'] });
    expect(b?.mode).toBe('BPF');
    expect(b?.blind[0]).toMatch(/not read — calico-node binary not found/);
  });
  it('OVS from its process', () => {
    const [o] = detectDataPlane({ processes: ['ovs-vswitchd'], tools: ['ovs-appctl'] });
    expect(o).toMatchObject({ name: 'ovs', blind: [] });
  });
  it("a bundle's files prove a reader ran, or say it did not", () => {
    const withCt = detectDataPlane({
      files: ['conntrack-L.txt', 'cilium-ct.txt'],
      bpfMaps: ['cilium_ct4_global'],
    });
    expect(withCt[0]?.sees).toEqual(['BPF conntrack (cilium_ct*) from cilium-ct.txt']);
    const without = detectDataPlane({ files: ['conntrack-L.txt'], processes: ['cilium-agent'] });
    expect(without[0]?.blind[0]).toBe(
      'BPF conntrack (cilium_ct*) not read — no cilium-ct.txt in the bundle',
    );
    const nft = detectDataPlane({ files: ['conntrack-L.txt'], nftTables: ['ip kube-proxy'] });
    expect(nft[0]?.blind).toEqual(['nft rules: no nft-ruleset.txt']);
  });
  it('says so when nothing is recognised', () => {
    expect(describeDataPlane(detectDataPlane({}))).toEqual([
      'no data plane recognised (no kube-proxy, Cilium, Calico or OVS evidence)',
    ]);
    expect(describeDataPlane(detectDataPlane({ processes: ['ovs-vswitchd'] }))).toEqual([
      'OVS: ovs-vswitchd process; OVS datapath conntrack zones not read — ovs-appctl not found',
    ]);
  });
});

describe('tool outputs', () => {
  it('nft list tables and ipvsadm -Ln', () => {
    expect(nftTableNames('table ip nat\ntable ip filter\ntable ip6 kube-proxy\n')).toEqual([
      'ip nat',
      'ip filter',
      'ip6 kube-proxy',
    ]);
    const ipvs = [
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port Scheduler Flags',
      '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
      'TCP  10.96.0.1:443 rr',
      '  -> 172.18.0.2:6443             Masq    1      3          0',
      'UDP  10.96.0.10:53 rr',
      '',
    ].join('\n');
    expect(ipvsServiceCount(ipvs)).toBe(2);
  });
});

// A small lab for comparing kube-proxy's modes on the real kernel: a client pod, a node and two
// backend pods in network namespaces named `<prefix>client|node|be1|be2` (the prefix keeps parallel
// labs apart), wired only to each other. The node runs the Service as kube-proxy's iptables mode
// writes it (topology.ts kubeProxyRuleset, with KUBE-FORWARD's INVALID drop) or as its nftables
// mode does (nft-topology.ts, loaded with the real `nft -f`: no INVALID drop). Addresses as in
// topology.ts; nothing has a default route.
import { run } from '../host/exec.js';
import { nftKubeProxyRuleset } from './nft-topology.js';
import { ADDR, kubeProxyRuleset } from './topology.js';

export type ProxyLabMode = 'iptables' | 'nftables';

/** The namespace names of a lab with this prefix. */
export function proxyLabNs(prefix: string) {
  return {
    client: `${prefix}client`,
    node: `${prefix}node`,
    be1: `${prefix}be1`,
    be2: `${prefix}be2`,
  } as const;
}

/** A built lab: its namespaces and mode; `down()` removes the namespaces. */
export interface ProxyLab {
  readonly mode: ProxyLabMode;
  readonly ns: ReturnType<typeof proxyLabNs>;
  down(): Promise<void>;
}

/** The node's kube-proxy rules for a mode, as the tool that loads them takes them. */
export function proxyLabRules(mode: ProxyLabMode): { argv: string[]; input: string } {
  return mode === 'nftables'
    ? { argv: ['nft', '-f', '-'], input: nftKubeProxyRuleset() }
    : { argv: ['iptables-restore'], input: kubeProxyRuleset({ dropInvalid: true }) };
}

/** Builds the lab (after removing namespaces left with the same prefix). */
export async function proxyLabUp(prefix: string, mode: ProxyLabMode): Promise<ProxyLab> {
  const ns = proxyLabNs(prefix);
  const down = async () => {
    for (const n of Object.values(ns)) await run(['ip', 'netns', 'del', n], { reject: false });
  };
  await down();
  try {
    const ip = (n: string, ...a: string[]) => run(['ip', '-n', n, ...a]);
    // Each veth is created in one lab namespace with its peer in another: nothing on the host.
    const veth = (n: string, dev: string, peerNs: string, peer: string) =>
      ip(n, 'link', 'add', dev, 'type', 'veth', 'peer', 'name', peer, 'netns', peerNs);
    for (const n of Object.values(ns)) await run(['ip', 'netns', 'add', n]);
    for (const n of Object.values(ns)) await ip(n, 'link', 'set', 'lo', 'up');
    await veth(ns.client, 'eth0', ns.node, 'to-client');
    await ip(ns.node, 'link', 'add', 'br-svc', 'type', 'bridge');
    for (const be of ['be1', 'be2'] as const) {
      await veth(ns[be], 'eth0', ns.node, `to-${be}`);
      await ip(ns.node, 'link', 'set', `to-${be}`, 'master', 'br-svc');
      await ip(ns.node, 'link', 'set', `to-${be}`, 'up');
    }
    const addrs: [string, string, string][] = [
      [ns.client, 'eth0', `${ADDR.client}/25`],
      [ns.node, 'to-client', `${ADDR.mboxClientSide}/25`],
      [ns.node, 'br-svc', `${ADDR.nodeBack}/24`],
      [ns.be1, 'eth0', `${ADDR.be1}/24`],
      [ns.be2, 'eth0', `${ADDR.be2}/24`],
    ];
    for (const [n, dev, cidr] of addrs) {
      await ip(n, 'addr', 'add', cidr, 'dev', dev);
      await ip(n, 'link', 'set', dev, 'up');
    }
    for (const dst of ['203.0.113.0/24', '198.51.100.0/24'])
      await ip(ns.client, 'route', 'add', dst, 'via', ADDR.mboxClientSide);
    // As in lab.ts: a packet to the VIP that escaped DNAT is forwarded and dies on the bridge.
    await ip(ns.node, 'route', 'add', '203.0.113.0/24', 'dev', 'br-svc');
    for (const be of [ns.be1, ns.be2])
      await ip(be, 'route', 'add', '192.0.2.0/24', 'via', ADDR.nodeBack);
    await run(
      [
        'sysctl',
        '-q',
        '-w',
        'net.ipv4.ip_forward=1',
        'net.ipv4.conf.all.rp_filter=0',
        'net.ipv4.conf.default.rp_filter=0',
      ],
      { netns: ns.node },
    );
    const rules = proxyLabRules(mode);
    await run(rules.argv, { netns: ns.node, input: rules.input });
  } catch (err) {
    await down();
    throw err;
  }
  return { mode, ns, down };
}

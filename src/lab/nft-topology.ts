// The lab's Service as kube-proxy's nftables mode writes it (pure: the `nft -f` text). Same
// Service, VIP and backends as the iptables-mode lab (topology.ts); the table, chains, maps and
// rules follow kubernetes pkg/proxy/nftables/proxier.go (setupNFTables, syncProxyRules,
// writeServiceToEndpointRules) for one ClusterIP Service with two endpoints. Like the proxier it
// has no `ct state invalid drop` (PR #122663). Priorities are numbers (dstnat = -100, srcnat =
// 100) because nft before 1.0.7 takes the `dstnat` keyword in the prerouting hook only.
import { createHash } from 'node:crypto';
import { ADDR, BACKENDS, SERVICE, type BackendName } from './topology.js';

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** proxier.go hashAndTruncate: the first 8 base32 characters of SHA-256, a dash, the name. */
export function nftChainBase(name: string): string {
  const buf = createHash('sha256').update(name).digest();
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of buf) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5 && out.length < 8) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return `${out}-${name}`;
}

const SVC_BASE = `${SERVICE.namespace}/${SERVICE.name}/tcp/${SERVICE.port}`;

/** The lab Service's chain names in nftables mode. */
export const NFT_CHAINS = {
  svc: `service-${nftChainBase(SVC_BASE)}`,
  ep: {
    be1: `endpoint-${nftChainBase(`${SVC_BASE}__${ADDR.be1}/${ADDR.backendPort}`)}`,
    be2: `endpoint-${nftChainBase(`${SVC_BASE}__${ADDR.be2}/${ADDR.backendPort}`)}`,
  } as Record<BackendName, string>,
} as const;

/** The `nft -f` input for table `ip kube-proxy` with the lab's one Service. */
export function nftKubeProxyRuleset(): string {
  const t = 'ip kube-proxy';
  const L: string[] = [
    `add table ${t} { comment "rules for kube-proxy" ; }`,
    `add chain ${t} filter-prerouting { type filter hook prerouting priority -110 ; }`,
    `add chain ${t} filter-input { type filter hook input priority -110 ; }`,
    `add chain ${t} filter-forward { type filter hook forward priority -110 ; }`,
    `add chain ${t} filter-output { type filter hook output priority -110 ; }`,
    `add chain ${t} filter-output-post-dnat { type filter hook output priority -90 ; }`,
    `add chain ${t} nat-prerouting { type nat hook prerouting priority -100 ; }`,
    `add chain ${t} nat-output { type nat hook output priority -100 ; }`,
    `add chain ${t} nat-postrouting { type nat hook postrouting priority 100 ; }`,
  ];
  const chain = (name: string) => L.push(`add chain ${t} ${name}`);
  const rule = (c: string, r: string) => L.push(`add rule ${t} ${c} ${r}`);
  for (const c of [
    'service-endpoints-check',
    'firewall-check',
    'services',
    'masquerading',
    'cluster-ips-check',
    'mark-for-masquerade',
  ])
    chain(c);
  for (const c of ['filter-forward', 'filter-output'])
    rule(c, 'ct state new jump service-endpoints-check');
  rule('filter-prerouting', 'ct state new jump firewall-check');
  rule('nat-output', 'jump services');
  rule('nat-prerouting', 'jump services');
  rule('nat-postrouting', 'jump masquerading');
  rule('filter-forward', 'ct state new jump cluster-ips-check');
  rule('filter-output-post-dnat', 'ct state new jump cluster-ips-check');
  rule('mark-for-masquerade', 'mark set mark or 0x004000');
  rule('masquerading', 'mark and 0x004000 == 0 return');
  rule('masquerading', 'mark set mark xor 0x004000');
  rule('masquerading', 'masquerade fully-random');
  const vtype = 'type ipv4_addr . inet_proto . inet_service : verdict';
  L.push(`add set ${t} cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }`);
  rule(
    'cluster-ips-check',
    'ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"',
  );
  L.push(`add map ${t} no-endpoint-services { ${vtype} ; }`);
  rule('service-endpoints-check', 'ip daddr . meta l4proto . th dport vmap @no-endpoint-services');
  L.push(`add map ${t} firewall-ips { ${vtype} ; }`);
  rule('firewall-check', 'ip daddr . meta l4proto . th dport vmap @firewall-ips');
  L.push(
    `add map ${t} service-ips { ${vtype} ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }`,
  );
  rule('services', 'ip daddr . meta l4proto . th dport vmap @service-ips');
  chain(NFT_CHAINS.svc);
  for (const be of ['be1', 'be2'] as const) chain(NFT_CHAINS.ep[be]);
  L.push(`add element ${t} cluster-ips { ${ADDR.vip} }`);
  L.push(
    `add element ${t} service-ips { ${ADDR.vip} . tcp . ${ADDR.vipPort} : goto ${NFT_CHAINS.svc} }`,
  );
  rule(
    NFT_CHAINS.svc,
    `ip daddr ${ADDR.vip} tcp dport ${ADDR.vipPort} ip saddr != ${ADDR.podCidr} jump mark-for-masquerade`,
  );
  rule(
    NFT_CHAINS.svc,
    `numgen random mod 2 vmap { 0 : goto ${NFT_CHAINS.ep.be1} , 1 : goto ${NFT_CHAINS.ep.be2} }`,
  );
  for (const be of ['be1', 'be2'] as const) {
    const ip = BACKENDS[be].ip;
    rule(NFT_CHAINS.ep[be], `ip saddr ${ip} jump mark-for-masquerade`);
    rule(NFT_CHAINS.ep[be], `meta l4proto tcp dnat to ${ip}:${ADDR.backendPort}`);
  }
  return `${L.join('\n')}\n`;
}

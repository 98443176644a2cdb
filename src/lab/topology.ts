// The lab's fixed names, addresses and the kube-proxy-style iptables ruleset (pure: text only).
import { createHash } from 'node:crypto';
import { ADDR6 } from './topology-v6.js';

/** Every lab namespace starts with this; `up` and `down` remove anything carrying it. */
export const LAB_PREFIX = 'kdiag-lab-';

export const NS = {
  client: 'kdiag-lab-client',
  mbox: 'kdiag-lab-mbox',
  node: 'kdiag-lab-node',
  be1: 'kdiag-lab-be1',
  be2: 'kdiag-lab-be2',
} as const;

export type LabNs = (typeof NS)[keyof typeof NS];

/**
 * Addresses come from the documentation ranges only (RFC 5737), so nothing resembles a real
 * network. 192.0.2.0/24 is the "pod CIDR" (the client is a pod, so kube-proxy does not
 * masquerade it, as with `--cluster-cidr`); it is split in two /25s around the middlebox.
 *
 *   client 192.0.2.10/25 ── .1 mbox .129 ── 192.0.2.130 node 198.51.100.1/24 (br-svc) ─┬─ be1 198.51.100.11
 *                                                                                       └─ be2 198.51.100.12
 *   Service VIP ("ClusterIP") 203.0.113.10:80 → backends :8080, DNAT'd in the node namespace.
 */
export const ADDR = {
  client: '192.0.2.10',
  mboxClientSide: '192.0.2.1',
  mboxNodeSide: '192.0.2.129',
  nodeFront: '192.0.2.130',
  nodeBack: '198.51.100.1',
  be1: '198.51.100.11',
  be2: '198.51.100.12',
  vip: '203.0.113.10',
  vipPort: 80,
  backendPort: 8080,
  podCidr: '192.0.2.0/24',
} as const;

export const SERVICE = { namespace: 'default', name: 'web', port: 'http' } as const;

export type BackendName = 'be1' | 'be2';

export const BACKENDS: Record<BackendName, { ns: LabNs; ip: string }> = {
  be1: { ns: NS.be1, ip: ADDR.be1 },
  be2: { ns: NS.be2, ip: ADDR.be2 },
};

/** The address of "ip", "ip:port", "v6" or "[v6]:port". */
function endpointIp(addr: string): string {
  if (addr.startsWith('[')) return addr.slice(1, addr.indexOf(']'));
  return addr.split(':').length > 2 ? addr : (addr.split(':')[0] ?? addr);
}

/** Finds which backend owns an address ("198.51.100.12", "198.51.100.12:8080", "[2001:db8:b::11]:8080"). */
export function backendOf(addr: string | undefined): BackendName | undefined {
  if (addr === undefined) return undefined;
  const ip = endpointIp(addr);
  if (ip === ADDR.be1 || ip === ADDR6.be1) return 'be1';
  if (ip === ADDR.be2 || ip === ADDR6.be2) return 'be2';
  return undefined;
}

// kube-proxy names chains with the first 16 base32 characters of a SHA-256 (portProtoHash).
function base32(buf: Buffer): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/** kube-proxy's portProtoHash: chain names from a SHA-256, so both families share the scheme. */
export function chainHash(text: string): string {
  return base32(createHash('sha256').update(text).digest()).slice(0, 16);
}

export const SVC_PORT_NAME = `${SERVICE.namespace}/${SERVICE.name}:${SERVICE.port}`;

/** One address family's view of the Service: what the rules of that family's tool name. */
export interface ServiceFamily {
  readonly vip: string;
  readonly podCidr: string;
  /** Host prefix length: /32 or /128. */
  readonly host: string;
  readonly be: Record<BackendName, string>;
}

export const V4: ServiceFamily = {
  vip: ADDR.vip,
  podCidr: ADDR.podCidr,
  host: '/32',
  be: { be1: ADDR.be1, be2: ADDR.be2 },
};

export const V6: ServiceFamily = {
  vip: ADDR6.vip,
  podCidr: ADDR6.podCidr,
  host: '/128',
  be: { be1: ADDR6.be1, be2: ADDR6.be2 },
};

/** An endpoint as kube-proxy writes it (Go's net.JoinHostPort: IPv6 in brackets). */
const hostPort = (ip: string, port: number) =>
  ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;

/** The KUBE-SEP chain of each backend in one family (the hash covers the endpoint's address). */
export function sepChains(fam: ServiceFamily): Record<BackendName, string> {
  const sep = (be: BackendName) =>
    `KUBE-SEP-${chainHash(`${SVC_PORT_NAME}tcp${hostPort(fam.be[be], ADDR.backendPort)}`)}`;
  return { be1: sep('be1'), be2: sep('be2') };
}

/** The kube-proxy chain names for the lab's one Service and its two endpoints. */
export const CHAINS = {
  svc: `KUBE-SVC-${chainHash(`${SVC_PORT_NAME}tcp`)}`,
  sep: sepChains(V4),
} as const;

/** The INVALID DROP rule kube-proxy puts first in KUBE-FORWARD (iptables argument form). */
export const DROP_INVALID_RULE = ['-m', 'conntrack', '--ctstate', 'INVALID', '-j', 'DROP'] as const;

/** The KUBE-SVC chain body: both endpoints at probability 0.5, or only the given ones. */
export function svcChainRules(endpoints: readonly BackendName[], fam = V4): string[] {
  const sep = sepChains(fam);
  const lines = [
    `-A ${CHAINS.svc} ! -s ${fam.podCidr} -d ${fam.vip}${fam.host} -p tcp -m comment --comment "${SVC_PORT_NAME} cluster IP" -m tcp --dport ${ADDR.vipPort} -j KUBE-MARK-MASQ`,
  ];
  endpoints.forEach((be, i) => {
    const left = endpoints.length - i;
    const stat =
      left > 1 ? ` -m statistic --mode random --probability ${(1 / left).toFixed(11)}` : '';
    lines.push(
      `-A ${CHAINS.svc} -m comment --comment "${SVC_PORT_NAME} -> ${hostPort(fam.be[be], ADDR.backendPort)}"${stat} -j ${sep[be]}`,
    );
  });
  return lines;
}

/** An `iptables-restore --noflush` document that replaces only the KUBE-SVC chain. */
export function svcChainRestore(endpoints: readonly BackendName[], fam = V4): string {
  return ['*nat', `:${CHAINS.svc} - [0:0]`, ...svcChainRules(endpoints, fam), 'COMMIT', ''].join(
    '\n',
  );
}

/** The node's whole ruleset, as kube-proxy's iptables mode writes it (for `iptables-restore`). */
export function kubeProxyRuleset(opts: { dropInvalid: boolean }, fam = V4): string {
  const sep = sepChains(fam);
  const nat = [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ':KUBE-SERVICES - [0:0]',
    ':KUBE-POSTROUTING - [0:0]',
    ':KUBE-MARK-MASQ - [0:0]',
    `:${CHAINS.svc} - [0:0]`,
    `:${sep.be1} - [0:0]`,
    `:${sep.be2} - [0:0]`,
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000',
    '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
    '-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0',
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
    `-A KUBE-SERVICES -d ${fam.vip}${fam.host} -p tcp -m comment --comment "${SVC_PORT_NAME} cluster IP" -m tcp --dport ${ADDR.vipPort} -j ${CHAINS.svc}`,
    ...svcChainRules(['be1', 'be2'], fam),
  ];
  for (const be of ['be1', 'be2'] as const) {
    const ip = fam.be[be];
    nat.push(
      `-A ${sep[be]} -s ${ip}${fam.host} -m comment --comment "${SVC_PORT_NAME}" -j KUBE-MARK-MASQ`,
    );
    nat.push(
      `-A ${sep[be]} -p tcp -m comment --comment "${SVC_PORT_NAME}" -m tcp -j DNAT --to-destination ${hostPort(ip, ADDR.backendPort)}`,
    );
  }
  nat.push('COMMIT');
  const filter = [
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':FORWARD ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':KUBE-FORWARD - [0:0]',
    '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
    ...(opts.dropInvalid ? [`-A KUBE-FORWARD ${DROP_INVALID_RULE.join(' ')}`] : []),
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    'COMMIT',
  ];
  return [...nat, ...filter, ''].join('\n');
}

/**
 * The middlebox's idle timer, in the kernel: xt_recent keyed on the client address. A packet
 * to or from the client refreshes the entry while it was seen within `idleSeconds`; once the
 * flow has been idle longer, every packet of it is dropped silently (GCP VPC / Azure LB without
 * TCP reset behave like this). `idleSeconds` undefined removes the timer (plain router).
 */
export function middleboxRuleset(idleSeconds: number | undefined): string {
  const lines = [
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':FORWARD ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':KDIAG-IDLE-NAT - [0:0]',
  ];
  if (idleSeconds !== undefined) {
    const s = Math.max(1, Math.round(idleSeconds));
    lines.push(
      '-A FORWARD -p tcp -j KDIAG-IDLE-NAT',
      `-A KDIAG-IDLE-NAT -s ${ADDR.client}/32 -m comment --comment "stand-in cloud NAT: seen within ${s}s" -m recent --update --seconds ${s} --name idle-nat --rsource -j ACCEPT`,
      `-A KDIAG-IDLE-NAT -d ${ADDR.client}/32 -m comment --comment "stand-in cloud NAT: seen within ${s}s" -m recent --update --seconds ${s} --name idle-nat --rdest -j ACCEPT`,
      `-A KDIAG-IDLE-NAT -s ${ADDR.client}/32 -m comment --comment "stand-in cloud NAT: mapping expired" -m recent --rcheck --name idle-nat --rsource -j DROP`,
      `-A KDIAG-IDLE-NAT -d ${ADDR.client}/32 -m comment --comment "stand-in cloud NAT: mapping expired" -m recent --rcheck --name idle-nat --rdest -j DROP`,
      `-A KDIAG-IDLE-NAT -s ${ADDR.client}/32 -m recent --set --name idle-nat --rsource -j ACCEPT`,
    );
  }
  lines.push('COMMIT', '');
  return lines.join('\n');
}

// Addresses and tuples as the tools print them (IPv6 in compressed text form, lower case).

export type Family = 'ipv4' | 'ipv6';

export interface Endpoint {
  readonly addr: string;
  readonly port: number;
}

/** One direction of a conntrack tuple. Ports are absent for protocols without them (ICMP, GRE). */
export interface Tuple {
  readonly src: string;
  readonly dst: string;
  readonly sport?: number;
  readonly dport?: number;
  /**
   * src and dst as int32 (a<<24|b<<16|c<<8|d) when they are canonical dotted quads, as the conntrack
   * parser reads them: the FlowTable interns these without reading the text again. Absent otherwise.
   */
  readonly src4?: number | undefined;
  readonly dst4?: number | undefined;
}

export function endpointKey(e: Endpoint): string {
  return e.addr.includes(':') ? `[${e.addr}]:${e.port}` : `${e.addr}:${e.port}`;
}

/** Canonical `proto src:sport>dst:dport` key of a connection as seen in one direction. */
export function tupleKey(proto: string, t: Tuple): string {
  return `${proto} ${endpointKey({ addr: t.src, port: t.sport ?? 0 })}>${endpointKey({ addr: t.dst, port: t.dport ?? 0 })}`;
}

export function familyOf(addr: string): Family {
  return addr.includes(':') ? 'ipv6' : 'ipv4';
}

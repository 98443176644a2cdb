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

/**
 * The IPv4 address s[from, to) in canonical dotted-quad form (no leading zeros) as an int32,
 * a<<24|b<<16|c<<8|d, else NaN. Canonical forms and int32s map one to one, so the number stands for
 * the text exactly: the FlowTable keys IPv4 addresses by it, and parsers hand it over with the text.
 */
export function ipv4Value(s: string, from = 0, to = s.length): number {
  const n = to - from;
  if (n < 7 || n > 15) return NaN;
  let v = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = from; i < to; i++) {
    const ch = s.charCodeAt(i);
    if (ch === 46) {
      if (digits === 0 || dots === 3) return NaN;
      v = (v << 8) | part;
      part = 0;
      digits = 0;
      dots++;
    } else if (ch >= 48 && ch <= 57) {
      if (digits > 0 && part === 0) return NaN;
      part = part * 10 + (ch - 48);
      if (part > 255) return NaN;
      digits++;
    } else return NaN;
  }
  if (dots !== 3 || digits === 0) return NaN;
  return (v << 8) | part;
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

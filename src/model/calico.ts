// Calico's eBPF conntrack (the cali_v4_ct map as `calico-node -bpf conntrack dump` prints it) and the
// BPF conntrack timeouts of its FelixConfiguration. Felix's cleanup forgets an entry once it has been
// idle longer than the timeout of its state (felix/bpf/conntrack/timeouts/timeouts.go).

export interface CalicoEndpoint {
  readonly addr: string;
  readonly port: number;
}

/** The entry's type byte: TypeNormal 0, TypeNATForward 1, TypeNATReverse 2 (v4/map.go). */
export type CalicoCtType = 'normal' | 'nat-forward' | 'nat-reverse';

/** The TCP word the dump appends (tcpStateStr: FINs seen, then RST, then both SYN+ACK). */
export type CalicoTcpState = 'ESTABLISHED' | 'SYN-SENT' | 'CLOSED' | 'RESET';

export interface CalicoCtEntry {
  /** `--raw` (ConntrackKey{…} -> Entry{…}) or the default one-line-per-connection form. */
  readonly form: 'raw' | 'pretty';
  readonly proto: number;
  readonly type: CalicoCtType;
  /** The side that opened the flow (the client), when the line says which; else the key's A side. */
  readonly src: CalicoEndpoint;
  readonly dst: CalicoEndpoint;
  /** True when src/dst are known to be opener/other (legs' Opener, B-A flag, or the pretty form). */
  readonly oriented: boolean;
  /** NAT reverse: the destination before DNAT (the Service VIP and port). */
  readonly origDst?: CalicoEndpoint;
  /** NAT forward: the key of the reverse entry it points to. */
  readonly revKey?: { readonly a: CalicoEndpoint; readonly b: CalicoEndpoint };
  /** bpf_ktime_get_ns() of the last packet (`--raw` only). */
  readonly lastSeenNs?: number;
  /** Seconds since the last packet when the dump ran (`Active ago`). */
  readonly activeAgoSec: number;
  readonly tcpState?: CalicoTcpState;
  /** Flag names as printed (`nat-out`, `B-A`, …); empty for `<none>`. */
  readonly flags: readonly string[];
  /** `external client, service forwarded to/from IP`. */
  readonly tunnelIp?: string;
}

/** Meta keys the decoder stores the last dump and FelixConfiguration under. */
export const CALICO_CT_META = 'calico-ct';
export const CALICO_FELIX_META = 'calico-felix';

/** One of bpfConntrackTimeouts' fields, as Felix resolves it. */
export interface CalicoTimeout {
  /** Seconds in force; null when `Auto` and the node's sysctl was not read. */
  readonly sec: number | null;
  /** What the FelixConfiguration said (`1h`, `Auto`), or undefined when the field is unset. */
  readonly text?: string;
  /** The sysctl `Auto` copies (felix/bpf/conntrack/timeouts: linuxSysctls). */
  readonly autoSysctl?: string;
  /** Where the value comes from, for people. */
  readonly source: string;
}

/** The FelixConfiguration fields kdiag reads. */
export interface FelixConfig {
  readonly name: string;
  /** `bpfEnabled`, when set. */
  readonly bpfEnabled?: boolean;
  /** bpfConntrackTimeouts as written (field → text). */
  readonly timeouts: Readonly<Record<string, string>>;
  /** Seconds of each field that is a duration (not `Auto`). */
  readonly seconds: Readonly<Record<string, number>>;
  /** The line of each timeout field in the YAML (1-based). */
  readonly lines: Readonly<Record<string, number>>;
}

/** bpfConntrackTimeouts' fields, Felix's names (config_params.go) and defaults in seconds. */
export const CALICO_CT_TIMEOUT_FIELDS = [
  { yaml: 'creationGracePeriod', felix: 'CreationGracePeriod', defaultSec: 10 },
  {
    yaml: 'tcpSynSent',
    felix: 'TCPSynSent',
    defaultSec: 20,
    sysctl: 'nf_conntrack_tcp_timeout_syn_sent',
  },
  {
    yaml: 'tcpEstablished',
    felix: 'TCPEstablished',
    defaultSec: 3600,
    sysctl: 'nf_conntrack_tcp_timeout_established',
  },
  // Felix's default for TCPFinsSeen is the word Auto (config_params.go), resolved from time_wait.
  {
    yaml: 'tcpFinsSeen',
    felix: 'TCPFinsSeen',
    defaultSec: 30,
    sysctl: 'nf_conntrack_tcp_timeout_time_wait',
    defaultAuto: true,
  },
  { yaml: 'tcpResetSeen', felix: 'TCPResetSeen', defaultSec: 40 },
  { yaml: 'udpTimeout', felix: 'UDPTimeout', defaultSec: 60 },
  {
    yaml: 'genericTimeout',
    felix: 'GenericTimeout',
    defaultSec: 600,
    sysctl: 'nf_conntrack_generic_timeout',
  },
  { yaml: 'icmpTimeout', felix: 'ICMPTimeout', defaultSec: 5, sysctl: 'nf_conntrack_icmp_timeout' },
] as const satisfies readonly {
  yaml: string;
  felix: string;
  defaultSec: number;
  sysctl?: string;
  defaultAuto?: boolean;
}[];

export type CalicoTimeoutField = (typeof CALICO_CT_TIMEOUT_FIELDS)[number]['yaml'];

/** A parsed dump with its lookup: entries by an order-free key of protocol and both endpoints. */
export interface CalicoCtSnapshot {
  readonly entries: readonly CalicoCtEntry[];
  readonly byKey: ReadonlyMap<string, number>;
  /** NAT reverse entries by protocol, client and pre-DNAT destination (the pretty form has no forward entries). */
  readonly byOrigDst: ReadonlyMap<string, number>;
}

/** The order-free lookup key of a flow between two endpoints. */
export function calicoKey(proto: number, a: CalicoEndpoint, b: CalicoEndpoint): string {
  const x = `${a.addr}:${a.port}`;
  const y = `${b.addr}:${b.port}`;
  return x < y ? `${proto} ${x} ${y}` : `${proto} ${y} ${x}`;
}

/** Indexes a dump's entries (a later duplicate key wins, as a later read of the map would). */
export function calicoSnapshot(entries: readonly CalicoCtEntry[]): CalicoCtSnapshot {
  const byKey = new Map<string, number>();
  const byOrigDst = new Map<string, number>();
  entries.forEach((e, i) => {
    byKey.set(calicoKey(e.proto, e.src, e.dst), i);
    if (e.type === 'nat-reverse' && e.origDst && e.oriented)
      byOrigDst.set(natKey(e.proto, e.src, e.origDst), i);
  });
  return { entries, byKey, byOrigDst };
}

/**
 * The entry that tracks a flow from `client` to `target` (a Service VIP or the backend itself),
 * with `backend` when the kernel told which one: the NAT reverse entry (via the forward entry's
 * REVKey, or directly by client and backend) or the normal entry; and the forward entry when one led
 * there. Felix's cleanup judges a NAT pair by its reverse entry, which carries the legs and the time.
 */
export function calicoFlowEntries(
  s: CalicoCtSnapshot,
  proto: number,
  client: CalicoEndpoint,
  target: CalicoEndpoint,
  backend?: CalicoEndpoint,
): { tracking: CalicoCtEntry; forward?: CalicoCtEntry } | undefined {
  const at = (k: string): CalicoCtEntry | undefined => {
    const i = s.byKey.get(k);
    return i === undefined ? undefined : s.entries[i];
  };
  const direct = at(calicoKey(proto, client, target));
  if (direct && direct.type === 'nat-forward' && direct.revKey) {
    const rev = at(calicoKey(proto, direct.revKey.a, direct.revKey.b));
    return rev ? { tracking: rev, forward: direct } : { tracking: direct };
  }
  if (direct) return { tracking: direct };
  if (backend) {
    const viaBackend = at(calicoKey(proto, client, backend));
    if (viaBackend) return { tracking: viaBackend };
  }
  // A pretty dump prints no forward entries: find the reverse entry by its pre-DNAT hop.
  const rev = s.byOrigDst.get(natKey(proto, client, target));
  const e = rev === undefined ? undefined : s.entries[rev];
  return e ? { tracking: e } : undefined;
}

function natKey(proto: number, client: CalicoEndpoint, origDst: CalicoEndpoint): string {
  return `${proto} ${client.addr}:${client.port} ${origDst.addr}:${origDst.port}`;
}

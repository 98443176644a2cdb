// Cilium's own connection tracking (BPF maps, kube-proxy replacement): one entry of
// `cilium-dbg bpf ct list global`, a snapshot of them, and the agent's CT timeouts. No IO.

/** How a CT entry's key was printed (CtKey4Global/CtKey6Global Dump): OUT, IN or a service tuple. */
export type CiliumCtDir = 'OUT' | 'IN' | 'SVC';

/** Which `StringWithTimeDiff` layout the line came in (see fixtures/tools/cilium/README.md). */
export type CiliumCtLayout = 'current' | 'rx-tx' | 'json';

export interface CiliumCtEntry {
  /** u8proto name as printed: TCP, UDP, ICMP, ICMPv6, SCTP … */
  readonly proto: string;
  readonly dir: CiliumCtDir;
  readonly src: string;
  readonly sport: number;
  readonly dst: string;
  readonly dport: number;
  /** The tuple flag TUPLE_F_RELATED (ICMP errors of a flow). */
  readonly related: boolean;
  /** TUPLE_F_SERVICE: the load balancer's entry (the `service` word, or `SVC` in the current layout). */
  readonly service: boolean;
  /** The entry's lifetime in the datapath clock (bpf_mono_now seconds or jiffies). */
  readonly expires: number;
  /** Seconds left at the listing (`-d`), negative once expired; undefined without `-d`. */
  readonly remainingSec?: number;
  /** CT entry flags (RxClosing 0x1, TxClosing 0x2, SeenNonSyn 0x10, NodePort 0x20 …). */
  readonly flags: number;
  readonly revNat: number;
  readonly layout: CiliumCtLayout;
}

/** `addr:port`, IPv6 in brackets, as cilium-dbg prints an endpoint. */
export function ciliumEndpoint(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/** One listing of the global CT maps. */
export interface CiliumCtSnapshot {
  readonly entries: readonly CiliumCtEntry[];
  /** Lines as printed, index-aligned with `entries` (evidence quotes them). */
  readonly lines: readonly string[];
  /** Every entry carried `(remaining: N sec(s))`: the listing was taken with `-d`. */
  readonly timeDiff: boolean;
}

export const CILIUM_FLAG_RX_CLOSING = 0x1;
export const CILIUM_FLAG_TX_CLOSING = 0x2;
export const CILIUM_FLAG_SEEN_NON_SYN = 0x10;

/** The agent options that set BPF CT timeouts (pkg/option/config.go names, daemon_main.go defaults). */
export const CILIUM_CT_TIMEOUT_KEYS = [
  'bpf-ct-timeout-regular-tcp',
  'bpf-ct-timeout-regular-tcp-syn',
  'bpf-ct-timeout-regular-tcp-fin',
  'bpf-ct-timeout-regular-any',
  'bpf-ct-timeout-service-tcp',
  'bpf-ct-timeout-service-tcp-grace',
  'bpf-ct-timeout-service-any',
] as const;

export type CiliumCtTimeoutKey = (typeof CILIUM_CT_TIMEOUT_KEYS)[number];

/**
 * Flag defaults registered in daemon/cmd/daemon_main.go. Established TCP (regular and service) is
 * 8000 s in current releases; releases before that change registered 21600 s (6 h).
 */
export const CILIUM_CT_DEFAULTS: Readonly<Record<CiliumCtTimeoutKey, number>> = {
  'bpf-ct-timeout-regular-tcp': 8000,
  'bpf-ct-timeout-regular-tcp-syn': 60,
  'bpf-ct-timeout-regular-tcp-fin': 10,
  'bpf-ct-timeout-regular-any': 60,
  'bpf-ct-timeout-service-tcp': 8000,
  'bpf-ct-timeout-service-tcp-grace': 60,
  'bpf-ct-timeout-service-any': 60,
};

/** The established-TCP default of older releases (daemon_main.go registered 21600*time.Second). */
export const CILIUM_CT_TCP_OLD_DEFAULT = 21600;

/**
 * The CT garbage collector's interval bounds (pkg/defaults: ConntrackGCMinInterval 10 s,
 * ConntrackGCStartingInterval 5 min, ConntrackGCMaxLRUInterval 12 h): with `conntrack-gc-interval`
 * 0 (the default) the agent picks the interval from the share of entries each run deletes.
 */
export const CILIUM_GC_MIN_SEC = 10;
export const CILIUM_GC_START_SEC = 300;
export const CILIUM_GC_MAX_LRU_SEC = 43200;

/** A timeout with the place it was read from. */
export interface CiliumSetting {
  readonly value: number;
  readonly source: string;
}

/** The agent's CT timeouts as configured (only what the input set; defaults are applied by analysis). */
export interface CiliumCtSettings {
  readonly timeouts: Readonly<Partial<Record<CiliumCtTimeoutKey, CiliumSetting>>>;
  /** `conntrack-gc-interval`; 0 = dynamic. */
  readonly gcIntervalSec?: CiliumSetting;
  /** `conntrack-gc-max-interval`, when set. */
  readonly gcMaxIntervalSec?: CiliumSetting;
  /** Where the settings came from, for people. */
  readonly from: string;
}

/** The snapshot a `cilium-ct` meta holds, when it is one (metas are untyped in the table). */
export function asCiliumCtSnapshot(v: unknown): CiliumCtSnapshot | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const s = v as Partial<CiliumCtSnapshot>;
  return Array.isArray(s.entries) && Array.isArray(s.lines) && typeof s.timeDiff === 'boolean'
    ? (s as CiliumCtSnapshot)
    : undefined;
}

/** The settings a `cilium-config` meta holds, when they are. */
export function asCiliumCtSettings(v: unknown): CiliumCtSettings | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const s = v as Partial<CiliumCtSettings>;
  return typeof s.timeouts === 'object' && s.timeouts !== null && typeof s.from === 'string'
    ? (s as CiliumCtSettings)
    : undefined;
}

/** The timeout key the datapath re-arms an entry with (bpf/lib/conntrack.h picks by state and tuple). */
export function ciliumTimeoutKey(e: CiliumCtEntry): CiliumCtTimeoutKey {
  const svc = e.service || e.dir === 'SVC';
  if (e.proto !== 'TCP') return svc ? 'bpf-ct-timeout-service-any' : 'bpf-ct-timeout-regular-any';
  if ((e.flags & (CILIUM_FLAG_RX_CLOSING | CILIUM_FLAG_TX_CLOSING)) !== 0)
    return 'bpf-ct-timeout-regular-tcp-fin';
  if ((e.flags & CILIUM_FLAG_SEEN_NON_SYN) === 0) return 'bpf-ct-timeout-regular-tcp-syn';
  return svc ? 'bpf-ct-timeout-service-tcp' : 'bpf-ct-timeout-regular-tcp';
}

/** Units of the Cilium CT rows a listing made: "CT entries", or "CT entries without -d" when its time left is not known. */
export const CILIUM_CT_UNIT = 'Cilium CT entries';
export const CILIUM_CT_UNIT_NO_D = 'Cilium CT entries without -d';

/** What a Cilium meta counts as read (`12 Cilium CT entries`, `7 Cilium timeouts`), if it is one. */
export function ciliumReadCount(
  key: string,
  value: unknown,
): { unit: string; n: number } | undefined {
  if (key === 'cilium-ct') {
    const s = asCiliumCtSnapshot(value);
    if (!s) return undefined;
    return {
      unit: s.timeDiff || s.entries.length === 0 ? CILIUM_CT_UNIT : CILIUM_CT_UNIT_NO_D,
      n: s.entries.length,
    };
  }
  if (key === 'cilium-config') {
    const c = asCiliumCtSettings(value);
    if (!c) return undefined;
    const n =
      Object.keys(c.timeouts).length + (c.gcIntervalSec ? 1 : 0) + (c.gcMaxIntervalSec ? 1 : 0);
    return { unit: 'Cilium CT settings', n };
  }
  return undefined;
}

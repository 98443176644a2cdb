// Open vSwitch's view of conntrack (`ovs-appctl dpctl/dump-conntrack -m -s`), as Antrea and
// OVN-Kubernetes use it: entries in zones, with their mark and labels. On the kernel datapath these
// are the kernel's own nf_conntrack entries (dumped over netlink, lib/netlink-conntrack.c), so the
// same tuple may sit in several zones, each entry with its own timer.
import type { ConntrackEntry } from './conntrack.js';
import type { Family } from './endpoint.js';
import type { Observation } from './observation.js';

export interface OvsTuple {
  readonly src: string;
  readonly dst: string;
  readonly sport?: number;
  readonly dport?: number;
  readonly icmp?: { readonly id: number; readonly type: number; readonly code: number };
  readonly packets?: number;
  readonly bytes?: number;
}

export interface OvsCtEntry {
  readonly family: Family;
  /** `tcp`, `udp`, `icmp`, … or the protocol number. */
  readonly proto: string;
  readonly protonum: number;
  readonly orig: OvsTuple;
  readonly reply: OvsTuple;
  /** 0 when not printed (ct_dpif_format_entry omits zone 0). */
  readonly zone: number;
  readonly id?: number;
  /** Status flags (`-m`): SEEN_REPLY, ASSURED, CONFIRMED, DST_NAT … */
  readonly status?: readonly string[];
  /** Remaining seconds (`-s`). */
  readonly timeout?: number;
  readonly mark?: number;
  readonly labels?: string;
  /** TCP state in ct_dpif's names (CLOSED, SYN_SENT, …, TIME_WAIT): `state=` or the larger of `state_orig`/`state_reply`. */
  readonly tcpState?: string;
  readonly start?: string;
  readonly stop?: string;
  readonly helper?: string;
}

/** Meta key the decoder stores the last dump under. */
export const OVS_CT_META = 'ovs-ct';

/** A dump with the zones it holds. */
export interface OvsCtSnapshot {
  readonly entries: readonly OvsCtEntry[];
  /** Each entry's line as printed (evidence quotes it). */
  readonly raw: readonly string[];
  /** Entries per zone. */
  readonly zones: Readonly<Record<number, number>>;
}

// ct_dpif's TCP states back to the kernel's (netlink-conntrack.c maps NONE→CLOSED, FIN_WAIT→
// FIN_WAIT_1, CLOSE→CLOSING; SYN_SENT2 is printed as SYN_SENT).
const TO_KERNEL: Readonly<Record<string, string>> = {
  CLOSED: 'NONE',
  SYN_SENT: 'SYN_SENT',
  SYN_RECV: 'SYN_RECV',
  ESTABLISHED: 'ESTABLISHED',
  FIN_WAIT_1: 'FIN_WAIT',
  CLOSE_WAIT: 'CLOSE_WAIT',
  LAST_ACK: 'LAST_ACK',
  TIME_WAIT: 'TIME_WAIT',
  CLOSING: 'CLOSE',
};

/** The kernel conntrack entry an OVS (kernel datapath) entry stands for, zone kept. */
export function ovsToConntrack(e: OvsCtEntry): ConntrackEntry {
  const has = (f: string): boolean => e.status?.includes(f) ?? false;
  const counters = (t: OvsTuple) =>
    t.packets !== undefined && t.bytes !== undefined
      ? { packets: t.packets, bytes: t.bytes }
      : undefined;
  const oc = counters(e.orig);
  const rc = counters(e.reply);
  const state = e.tcpState === undefined ? null : (TO_KERNEL[e.tcpState] ?? e.tcpState);
  return {
    family: e.family,
    proto: e.proto,
    protonum: e.protonum,
    timeout: e.timeout ?? null,
    state,
    orig: tuple(e.orig),
    reply: tuple(e.reply),
    ...(oc ? { origCounters: oc } : {}),
    ...(rc ? { replyCounters: rc } : {}),
    ...(e.orig.icmp ? { icmp: e.orig.icmp } : {}),
    // Without -m no status is printed: such an entry counts as replied and not assured.
    unreplied: e.status !== undefined && !has('SEEN_REPLY'),
    assured: has('ASSURED'),
    offload: false,
    hwOffload: false,
    ...(e.mark !== undefined ? { mark: e.mark } : {}),
    zone: e.zone,
    ...(e.id !== undefined ? { id: e.id } : {}),
    ...(e.labels !== undefined ? { labels: e.labels } : {}),
    ...(e.helper !== undefined ? { helper: e.helper } : {}),
  };
}

function tuple(t: OvsTuple): ConntrackEntry['orig'] {
  return t.sport === undefined || t.dport === undefined
    ? { src: t.src, dst: t.dst }
    : { src: t.src, dst: t.dst, sport: t.sport, dport: t.dport };
}

/**
 * The dump as a conntrack snapshot for the flow table: one entry per tuple. The table keys flows by
 * tuple alone, so of a tuple tracked in several zones the entry with the least time left stands for
 * it (the first to forget the flow); every zone's entry stays in the OVS snapshot.
 */
export function ovsConntrackObservations(
  s: OvsCtSnapshot,
  at: { readonly t: number; readonly src: string; readonly scope?: string },
): Observation[] {
  const best = new Map<string, number>();
  s.entries.forEach((e, i) => {
    const k = `${e.protonum} ${e.orig.src} ${e.orig.sport ?? ''} ${e.orig.dst} ${e.orig.dport ?? ''}`;
    const j = best.get(k);
    const cur = j === undefined ? undefined : s.entries[j];
    if (!cur || (e.timeout ?? Infinity) < (cur.timeout ?? Infinity)) best.set(k, i);
  });
  const out: Observation[] = [{ ...at, kind: 'snapshot-begin', what: 'conntrack' }];
  for (const i of [...best.values()].sort((a, b) => a - b)) {
    const e = s.entries[i]!;
    out.push({ ...at, raw: s.raw[i] ?? '', kind: 'conntrack-entry', entry: ovsToConntrack(e) });
  }
  out.push({ ...at, kind: 'snapshot-end', what: 'conntrack' });
  return out;
}

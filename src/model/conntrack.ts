// Conntrack entries, events and statistics as parsed from conntrack(8) and /proc.
import type { Family, Tuple } from './endpoint.js';

export const TCP_CT_STATES = [
  'NONE',
  'SYN_SENT',
  'SYN_RECV',
  'ESTABLISHED',
  'FIN_WAIT',
  'CLOSE_WAIT',
  'LAST_ACK',
  'TIME_WAIT',
  'CLOSE',
  'SYN_SENT2',
] as const;
export type TcpCtState = (typeof TCP_CT_STATES)[number];

export interface Counters {
  readonly packets: number;
  readonly bytes: number;
}

export interface ConntrackEntry {
  readonly family: Family;
  /** l4 name as printed: tcp, udp, icmp, icmpv6, sctp, dccp, udplite, gre, unknown. */
  readonly proto: string;
  readonly protonum: number;
  /** Remaining seconds; null when not printed (offloaded entries, DESTROY events of an expired entry). */
  readonly timeout: number | null;
  /** Protocol state word (TCP/SCTP/DCCP), null when none was printed. */
  readonly state: string | null;
  readonly orig: Tuple;
  readonly reply: Tuple;
  readonly origCounters?: Counters;
  readonly replyCounters?: Counters;
  /** ICMP type/code/id of the original direction. */
  readonly icmp?: { readonly type: number; readonly code: number; readonly id: number };
  readonly unreplied: boolean;
  readonly assured: boolean;
  readonly offload: boolean;
  readonly hwOffload: boolean;
  readonly mark?: number;
  readonly secmark?: number;
  /** SELinux context (`secctx=`), when the kernel has one for the entry. */
  readonly secctx?: string;
  readonly zone?: number;
  /** Seconds since the entry was created (needs nf_conntrack_timestamp=1). */
  readonly deltaTime?: number;
  readonly use?: number;
  /** Stable per-entry id (`-o id`). */
  readonly id?: number;
  readonly labels?: string;
  readonly helper?: string;
  /** `[start=…]`/`[stop=…]` as printed by `-o ktimestamp`. */
  readonly start?: string;
  readonly stop?: string;
}

export type ConntrackEventType = 'NEW' | 'UPDATE' | 'DESTROY';

/** Parses a `conntrack -E` line again, the way the pipeline parsed it (the model keeps lines, not events). */
export interface ConntrackEventLineSource {
  reparse(line: string): ConntrackEvent | undefined;
}

export interface ConntrackEvent {
  readonly type: ConntrackEventType;
  /** Event time in seconds since the epoch (`-o timestamp`), when printed. */
  readonly ts?: number;
  readonly entry: ConntrackEntry;
  /** Present when the event was caused by a netlink request from userspace (`conntrack -D`, a flush). */
  readonly userspace?: { readonly portid: number; readonly progname?: string };
}

/**
 * Per-CPU counters, keyed by conntrack -S names. /proc/net/stat/nf_conntrack columns are mapped
 * to the same names (clashres → clash_resolve, chainlength → chaintoolong, icmp_error → error).
 */
export interface ConntrackCpuStats {
  readonly cpu: number;
  readonly counters: Readonly<Record<string, number>>;
  /** /proc/net/stat/nf_conntrack only: the netns-wide entry count, repeated on each CPU line. */
  readonly entries?: number;
}

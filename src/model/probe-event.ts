// Events from the bpftrace probes (probes/*.bt), after parsing their tagged lines.

export interface PacketTuple {
  readonly proto: 'tcp' | 'udp' | string;
  readonly saddr: string;
  readonly sport: number;
  readonly daddr: string;
  readonly dport: number;
  /** saddr and daddr as int32 when canonical dotted quads, where the parser had them (see Tuple.src4). */
  readonly saddr4?: number | undefined;
  readonly daddr4?: number | undefined;
}

interface ProbeEventBase {
  /** Kernel monotonic ns (bpftrace nsecs) when the event fired. */
  readonly tsNs?: number;
  /** Network namespace inode number, 0 when unknown. */
  readonly netns: number;
}

/** A packet freed with a drop reason that matters (NO_SOCKET, NETFILTER_DROP, TCP_*). */
export interface DropEvent extends ProbeEventBase {
  readonly kind: 'drop';
  /** Reason name resolved from the tracepoint's format file (never a bare number). */
  readonly reason: string;
  readonly location: string;
  readonly tuple: PacketTuple;
  /** TCP flags byte, seq and ack when TCP. */
  readonly tcpFlags?: number;
  readonly seq?: number;
  readonly ack?: number;
}

/** A reset sent (tcp_send_reset) or received (tcp_receive_reset). */
export interface ResetEvent extends ProbeEventBase {
  readonly kind: 'reset';
  readonly direction: 'sent' | 'received';
  /** Passive: answer to a packet (the tuple is the triggering packet's); active: from the socket. */
  readonly mode: 'passive' | 'active';
  /** sk_rst_reason name on kernels ≥6.10, else undefined. */
  readonly reason?: string;
  /** TCP state name of the socket, UNKNOWN when there was no socket. */
  readonly state?: string;
  /** For passive resets: the packet that triggered it; else the socket's local → remote. */
  readonly tuple: PacketTuple;
}

export interface RetransmitEvent extends ProbeEventBase {
  readonly kind: 'retransmit';
  readonly state: string;
  readonly tuple: PacketTuple;
  /** Retransmits since the flow's previous summary (aggregating probes); absent = one. */
  readonly count?: number;
  /** True when the summary was printed because the socket was destroyed. */
  readonly final?: boolean;
}

/** A TCP socket changed state; keepalive settings are read from the socket at that moment. */
export interface StateEvent extends ProbeEventBase {
  readonly kind: 'state';
  readonly oldState: string;
  readonly newState: string;
  readonly tuple: PacketTuple;
  readonly keepalive?: SocketKeepalive;
  /**
   * What printed it: a state change (default), or a successful setsockopt of SO_KEEPALIVE /
   * TCP_KEEP* on the socket (then oldState = newState = the socket's current state).
   */
  readonly trigger?: 'state-change' | 'setsockopt';
  /** The process that called setsockopt (trigger 'setsockopt'). */
  readonly pid?: number;
  /** The option set, e.g. `SO_KEEPALIVE`, `TCP_KEEPIDLE` (trigger 'setsockopt'). */
  readonly option?: string;
}

/** Per-socket keepalive as read from struct sock / tcp_sock. 0 for a value = the netns sysctl applies. */
export interface SocketKeepalive {
  readonly enabled: boolean;
  readonly idleSec: number;
  readonly intervalSec: number;
  readonly probes: number;
}

/** A periodic in-kernel summary: a flow's last activity and packet count since the last summary. */
export interface ActivityEvent extends ProbeEventBase {
  readonly kind: 'activity';
  readonly tuple: PacketTuple;
  /** Kernel monotonic ns of the last packet seen for this flow. */
  readonly lastNs: number;
  readonly packets: number;
  /** True when the summary was printed because the socket was destroyed. */
  readonly final?: boolean;
}

/** bpftrace said something about itself: ready, lost events, an error. */
export interface ProbeStatusEvent {
  readonly kind: 'probe-status';
  readonly status: 'attached' | 'lost' | 'error' | 'info';
  readonly count?: number;
  readonly message: string;
}

export type ProbeEvent =
  DropEvent | ResetEvent | RetransmitEvent | StateEvent | ActivityEvent | ProbeStatusEvent;

/** Parses a probe's output line again, the way it was parsed (same probe, same begin-record context). */
export interface ProbeLineSource {
  reparse(line: string): ProbeEvent | undefined;
}

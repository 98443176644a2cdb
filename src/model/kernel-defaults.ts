// The kernel's default timeouts (what is in force when kdiag never read the sysctl) and the
// sysctls that set them (domain.md §2.3, §2.7).

/** Kernel defaults of `tcp_timeouts[]` (nf_conntrack_proto_tcp.c) and their sysctl names. */
export const CT_TCP_TIMEOUTS: Readonly<
  Record<string, { readonly sysctl: string; readonly kernel: number }>
> = {
  SYN_SENT: { sysctl: 'net.netfilter.nf_conntrack_tcp_timeout_syn_sent', kernel: 120 },
  SYN_SENT2: { sysctl: 'net.netfilter.nf_conntrack_tcp_timeout_syn_sent', kernel: 120 },
  SYN_RECV: { sysctl: 'net.netfilter.nf_conntrack_tcp_timeout_syn_recv', kernel: 60 },
  ESTABLISHED: { sysctl: 'net.netfilter.nf_conntrack_tcp_timeout_established', kernel: 432000 },
  FIN_WAIT: { sysctl: 'net.netfilter.nf_conntrack_tcp_timeout_fin_wait', kernel: 120 },
  CLOSE_WAIT: { sysctl: 'net.netfilter.nf_conntrack_tcp_timeout_close_wait', kernel: 60 },
  LAST_ACK: { sysctl: 'net.netfilter.nf_conntrack_tcp_timeout_last_ack', kernel: 30 },
  TIME_WAIT: { sysctl: 'net.netfilter.nf_conntrack_tcp_timeout_time_wait', kernel: 120 },
  CLOSE: { sysctl: 'net.netfilter.nf_conntrack_tcp_timeout_close', kernel: 10 },
};
export const CT_UNACK = {
  sysctl: 'net.netfilter.nf_conntrack_tcp_timeout_unacknowledged',
  kernel: 300,
};
export const CT_MAX_RETRANS_TIMEOUT = {
  sysctl: 'net.netfilter.nf_conntrack_tcp_timeout_max_retrans',
  kernel: 300,
};
export const CT_MAX_RETRANS = { sysctl: 'net.netfilter.nf_conntrack_tcp_max_retrans', kernel: 3 };
export const CT_UDP = { sysctl: 'net.netfilter.nf_conntrack_udp_timeout', kernel: 30 };
export const CT_UDP_STREAM = {
  sysctl: 'net.netfilter.nf_conntrack_udp_timeout_stream',
  kernel: 120,
};
export const KA_TIME = { sysctl: 'net.ipv4.tcp_keepalive_time', kernel: 7200 };
export const KA_INTVL = { sysctl: 'net.ipv4.tcp_keepalive_intvl', kernel: 75 };
export const KA_PROBES = { sysctl: 'net.ipv4.tcp_keepalive_probes', kernel: 9 };
/** IPVS `tcp_timeouts[]` (ip_vs_proto_tcp.c): only ESTABLISHED, FIN_WAIT and UDP are settable. */
export const IPVS_KERNEL = { tcp: 900, tcpfin: 120, udp: 300 } as const;
/** IPVS states whose timeout is fixed in the kernel (not settable), seconds. */
export const IPVS_FIXED: Readonly<Record<string, number>> = {
  NONE: 2,
  SYN_SENT: 120,
  SYN_RECV: 60,
  TIME_WAIT: 120,
  CLOSE: 10,
  CLOSE_WAIT: 60,
  LAST_ACK: 30,
  LISTEN: 120,
  SYNACK: 120,
};

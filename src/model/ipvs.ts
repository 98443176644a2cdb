// IPVS services, connections and timeouts as parsed from ipvsadm(8) and /proc/net/ip_vs_conn.
import type { Endpoint } from './endpoint.js';

export interface IpvsRealServer {
  readonly addr: string;
  readonly port: number;
  /** Masq, Local, Tunnel, Route. */
  readonly forward: string;
  readonly weight: number;
  readonly activeConn: number;
  readonly inactConn: number;
}

export interface IpvsService {
  /** TCP, UDP, SCTP, or FWM for firewall-mark services. */
  readonly proto: string;
  readonly addr: string;
  readonly port: number;
  /** fwmark services only. */
  readonly fwmark?: number;
  readonly scheduler: string;
  /** Persistence timeout in seconds (sessionAffinity: ClientIP). */
  readonly persistent?: number;
  readonly flags: readonly string[];
  readonly realServers: readonly IpvsRealServer[];
}

export interface IpvsConn {
  readonly proto: string;
  /** Seconds until the entry expires (mm:ss from ipvsadm, seconds from /proc). */
  readonly expiresSec: number;
  readonly state: string;
  readonly client: Endpoint;
  readonly virtual: Endpoint;
  readonly dest: Endpoint;
  /** Persistence template (port 0, state NONE). */
  readonly template: boolean;
}

export interface IpvsTimeouts {
  readonly tcp: number;
  readonly tcpfin: number;
  readonly udp: number;
}

export interface IpvsStatsRow {
  readonly kind: 'service' | 'real-server';
  readonly proto?: string;
  readonly addr: string;
  readonly port: number;
  readonly conns: number;
  readonly inPkts: number;
  readonly outPkts: number;
  readonly inBytes: number;
  readonly outBytes: number;
}

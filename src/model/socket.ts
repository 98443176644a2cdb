// TCP sockets as printed by `ss -tinoe`.
import type { Endpoint } from './endpoint.js';

export type SocketTimerName = 'on' | 'keepalive' | 'timewait' | 'persist' | 'unknown';

export interface SocketTimer {
  readonly name: SocketTimerName;
  /** Time until the timer fires. */
  readonly remainingMs: number;
  /** Retransmits (on), probes out (keepalive/persist). */
  readonly count: number;
}

export interface SocketInfo {
  /** ss state word: ESTAB, SYN-SENT, CLOSE-WAIT, TIME-WAIT, FIN-WAIT-1 … */
  readonly state: string;
  readonly recvQ: number;
  readonly sendQ: number;
  readonly local: Endpoint;
  readonly peer: Endpoint;
  readonly timer?: SocketTimer;
  readonly ino?: number;
  readonly uid?: number;
  readonly sk?: string;
  readonly cgroup?: string;
  /** ms since data was last sent / received / an ACK received. */
  readonly lastsndMs?: number;
  readonly lastrcvMs?: number;
  readonly lastackMs?: number;
  readonly rtoMs?: number;
  readonly bytesSent?: number;
  readonly bytesReceived?: number;
  readonly retrans?: string;
  /** users:(("name",pid=N,fd=M)) when ss ran with -p. */
  readonly processes?: readonly {
    readonly name: string;
    readonly pid: number;
    readonly fd: number;
  }[];
  /** Scope (network namespace label) the socket was read in; set by the session, not the parser. */
  readonly netns?: string;
}

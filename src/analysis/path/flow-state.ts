// The state word a flow is reasoned with, from whichever source still shows it.
import type { Flow, SocketSide } from '../../model/flow.js';

const SS_TO_CT: Readonly<Record<string, string>> = {
  ESTAB: 'ESTABLISHED',
  'CLOSE-WAIT': 'CLOSE_WAIT',
  'FIN-WAIT-1': 'FIN_WAIT',
  'FIN-WAIT-2': 'FIN_WAIT',
  'LAST-ACK': 'LAST_ACK',
  'TIME-WAIT': 'TIME_WAIT',
  'SYN-SENT': 'SYN_SENT',
  'SYN-RECV': 'SYN_RECV',
  CLOSING: 'CLOSE',
};

/** A socket side ss still shows. */
export function liveSide(s: SocketSide | undefined): SocketSide | undefined {
  return s && s.goneT < 0 && s.fromSs ? s : undefined;
}

/** The state word to reason with: conntrack's, else the socket's or IPVS's in conntrack names. */
export function flowState(f: Flow): string {
  if (f.ctPresent && f.ctState) return f.ctState;
  const s = liveSide(f.client) ?? liveSide(f.server);
  if (s) return SS_TO_CT[s.state] ?? s.state;
  if (f.ipvs && f.ipvs.goneT < 0) return f.ipvs.state;
  if (f.ctState) return f.ctState;
  return f.proto === 'udp' ? 'UDP' : 'UNKNOWN';
}

// One line for a person per probe event: what the feed shows, and what evidence quotes in place of
// the probe's own output line (bpftrace JSON with tab-separated fields, meaningful to kdiag only).
import type { PacketTuple, ProbeEvent } from './probe-event.js';

/** `10.0.0.1:42766 > 10.96.0.10:80`, IPv6 addresses in brackets. */
function tupleText(t: PacketTuple): string {
  const a = (addr: string, port: number) =>
    addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
  return `${a(t.saddr, t.sport)} > ${a(t.daddr, t.dport)}`;
}

/** Where the probe saw the event: `in NAME (netns INODE)` with a name for the namespace, else `netns INODE`; '' when unknown. */
export function probeWhere(e: ProbeEvent, name?: string): string {
  if (e.kind === 'probe-status' || !e.netns) return name === undefined ? '' : `in ${name}`;
  return name === undefined ? `netns ${e.netns}` : `in ${name} (netns ${e.netns})`;
}

/**
 * The event in one line: `RST sent passive 10.0.0.2:8080 > 10.0.0.1:42766 NO_SOCKET state UNKNOWN`,
 * then `where` (see probeWhere) when given.
 */
export function probeEventText(e: ProbeEvent, where = ''): string {
  if (e.kind === 'probe-status') return e.message;
  const ns = where === '' ? '' : ` ${where}`;
  switch (e.kind) {
    case 'drop':
      return `DROP ${e.reason} ${tupleText(e.tuple)} at ${e.location}${ns}`;
    case 'reset':
      return `RST ${e.direction} ${e.mode} ${tupleText(e.tuple)}${e.reason ? ` ${e.reason}` : ''}${e.state ? ` state ${e.state}` : ''}${ns}`;
    case 'retransmit':
      return `RETRANS ${tupleText(e.tuple)}${e.count && e.count > 1 ? ` ×${e.count}` : ''} ${e.state}${ns}`;
    case 'state': {
      const k = e.keepalive;
      const ka = k ? (k.enabled ? `on idle ${k.idleSec || 'sysctl'}` : 'off') : undefined;
      if (e.trigger === 'setsockopt' && ka !== undefined)
        return `KEEPALIVE ${tupleText(e.tuple)} ${ka}${e.option ? ` (${e.option})` : ''}${e.pid ? ` pid ${e.pid}` : ''}${ns}`;
      return `STATE ${e.oldState} > ${e.newState} ${tupleText(e.tuple)}${ka !== undefined ? ` keepalive ${ka}` : ''}${ns}`;
    }
    case 'activity':
      return `ACTIVITY ${tupleText(e.tuple)} ${e.packets} packet${e.packets === 1 ? '' : 's'}${ns}`;
  }
}

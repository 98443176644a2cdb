// Turns observations into one-line feed items (drops, resets, conntrack expiries) for trace and the TUI.
import { tupleKey } from '../model/endpoint.js';
import type { FeedItem } from '../model/session.js';
import type { Observation } from '../model/observation.js';
import type { PacketTuple } from '../model/probe-event.js';
import { probeEventText, probeWhere } from '../model/probe-text.js';

function flowOf(t: PacketTuple): string {
  return tupleKey(t.proto, { src: t.saddr, dst: t.daddr, sport: t.sport, dport: t.dport });
}

/** The feed item an observation deserves, if any. */
export function feedItemFor(o: Observation): FeedItem | undefined {
  if (o.kind === 'probe') {
    const e = o.event;
    switch (e.kind) {
      // A drop's namespace tells which stack dropped it; the others' tuples say enough for a feed line.
      case 'drop':
        return {
          t: o.t,
          kind: 'drop',
          text: probeEventText(e, probeWhere(e)),
          flow: flowOf(e.tuple),
          src: o.src,
        };
      case 'reset':
        return {
          t: o.t,
          kind: 'reset',
          text: probeEventText(e),
          flow: flowOf(e.tuple),
          src: o.src,
        };
      case 'retransmit':
        return {
          t: o.t,
          kind: 'retransmit',
          text: probeEventText(e),
          flow: flowOf(e.tuple),
          src: o.src,
        };
      case 'state':
        if (e.trigger === 'setsockopt' && e.keepalive)
          return {
            t: o.t,
            kind: 'keepalive',
            text: probeEventText(e),
            flow: flowOf(e.tuple),
            src: o.src,
          };
        return undefined;
      case 'probe-status':
        // bpftrace's start-up chatter (RLIMIT_MEMLOCK warnings, "ended: exit 0") is not news.
        return e.status === 'error' || e.status === 'lost'
          ? { t: o.t, kind: 'info', text: `${o.src}: ${e.message}`, src: o.src }
          : undefined;
      default:
        return undefined;
    }
  }
  if (o.kind === 'conntrack-event') {
    const ev = o.event;
    const en = ev.entry;
    if (en.proto !== 'tcp' && en.proto !== 'udp') return undefined;
    const flow = tupleKey(en.proto, en.orig);
    const tuple = `${en.orig.src}:${en.orig.sport ?? 0} > ${en.orig.dst}:${en.orig.dport ?? 0}`;
    const backend =
      en.reply.src !== en.orig.dst ? ` via ${en.reply.src}:${en.reply.sport ?? 0}` : '';
    if (ev.type === 'DESTROY') {
      // No timeout on a DESTROY means the entry's timer ran out: for ESTABLISHED that is an idle expiry.
      const expired = en.state === 'ESTABLISHED' ? 'expired (idle timeout)' : 'timed out';
      const why = ev.userspace
        ? `deleted by userspace (portid ${ev.userspace.portid})`
        : en.timeout === null
          ? expired
          : `removed with ${en.timeout}s left`;
      return {
        t: o.t,
        kind: 'conntrack',
        text: `CT DESTROY ${en.proto} ${tuple}${backend} ${en.state ?? ''} ${why}`.replace(
          /\s+/g,
          ' ',
        ),
        flow,
        src: o.src,
      };
    }
    if (ev.type === 'NEW' && en.proto === 'tcp' && en.state === 'ESTABLISHED' && en.unreplied) {
      return {
        t: o.t,
        kind: 'conntrack',
        text: `CT NEW mid-stream pickup ${tuple}${backend} (timeout ${en.timeout ?? '?'}s)`,
        flow,
        src: o.src,
      };
    }
    return undefined;
  }
  if (o.kind === 'meta' && o.key === 'lost-events') {
    return { t: o.t, kind: 'info', text: `${o.src}: events lost (${String(o.value)})`, src: o.src };
  }
  return undefined;
}

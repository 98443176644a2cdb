// Zones (Antrea, OVN-Kubernetes): `conntrack -L -w ZONE` prints `zone=N` in every line (the kernel
// sends CTA_ZONE for a non-default zone), /proc/net/nf_conntrack always; the entry keeps it.
import { describe, expect, it } from 'vitest';
import { parseConntrackEntryLine } from '../../src/parse/conntrack-entry.js';
import { parseConntrackEventLine } from '../../src/parse/conntrack-events.js';

const L = (zone: number) =>
  `tcp      6 431985 ESTABLISHED src=10.10.1.5 dst=10.96.12.40 sport=39012 dport=6379 src=10.10.2.8 dst=10.10.1.5 sport=6379 dport=39012 [ASSURED] mark=33 zone=${zone} use=1`;

describe('conntrack zones', () => {
  it('keeps the zone of a conntrack -L -w line', () => {
    const out = parseConntrackEntryLine(L(65520));
    expect(out.kind).toBe('row');
    if (out.kind === 'row') expect(out.value.zone).toBe(65520);
  });

  it('two identical tuples in different zones are different entries', () => {
    const a = parseConntrackEntryLine(L(65520));
    const b = parseConntrackEntryLine(L(65521));
    expect(a.kind === 'row' && b.kind === 'row').toBe(true);
    if (a.kind === 'row' && b.kind === 'row') {
      expect(a.value.orig).toEqual(b.value.orig);
      expect(a.value).not.toEqual(b.value);
      expect([a.value.zone, b.value.zone]).toEqual([65520, 65521]);
    }
  });

  it('keeps the zone of /proc/net/nf_conntrack and of an event', () => {
    const proc = parseConntrackEntryLine(
      'ipv4     2 tcp      6 431997 ESTABLISHED src=10.10.1.5 dst=10.10.2.8 sport=39012 dport=6379 src=10.10.2.8 dst=10.10.1.5 sport=6379 dport=39012 [ASSURED] mark=0 zone=65520 use=2',
    );
    expect(proc.kind === 'row' && proc.value.zone).toBe(65520);
    const ev = parseConntrackEventLine(
      '[1782330903.904123]\t [UPDATE] tcp      6 432000 ESTABLISHED src=10.10.1.5 dst=10.10.2.8 sport=39012 dport=6379 src=10.10.2.8 dst=10.10.1.5 sport=6379 dport=39012 [ASSURED] zone=7',
    );
    expect(ev.kind === 'row' && ev.value.entry.zone).toBe(7);
  });

  it('refuses a zone beyond 16 bits and a zone given twice', () => {
    expect(parseConntrackEntryLine(L(65536)).kind).toBe('issue');
    expect(parseConntrackEntryLine(`${L(1)} zone=2`).kind).toBe('issue');
  });
});

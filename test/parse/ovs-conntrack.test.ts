import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ovsConntrackObservations, ovsToConntrack } from '../../src/model/ovs.js';
import { parseOvsConntrack, parseOvsCtLine, parseOvsDump } from '../../src/parse/ovs-conntrack.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../fixtures/tools/ovs/${name}`, import.meta.url), 'utf8');

describe('ovs-appctl dpctl/dump-conntrack (ct_dpif_format_entry)', () => {
  it('reads -m -s: zone, id, status, timeout, mark, labels and the verbose TCP state', () => {
    const r = parseOvsConntrack(fixture('dump-conntrack-m-s.txt'));
    expect(r.issues).toEqual([]);
    expect(r.value).toHaveLength(6);
    expect(r.value[0]).toMatchObject({
      family: 'ipv4',
      proto: 'tcp',
      protonum: 6,
      orig: { src: '10.10.1.5', dst: '10.96.12.40', sport: 39012, dport: 6379, packets: 48 },
      reply: { src: '10.10.2.8', dst: '10.10.1.5', sport: 6379, dport: 39012 },
      zone: 65520,
      id: 2774519381,
      status: ['SEEN_REPLY', 'ASSURED', 'CONFIRMED', 'DST_NAT', 'DST_NAT_DONE'],
      timeout: 431985,
      mark: 33,
      labels: '0x200000001',
      tcpState: 'ESTABLISHED',
    });
    expect(r.value[4]!.orig.icmp).toEqual({ id: 17, type: 8, code: 0 });
    expect(r.value[5]!.tcpState).toBe('TIME_WAIT');
  });

  it('keeps two identical tuples in different zones as two entries', () => {
    const r = parseOvsDump(fixture('dump-conntrack-m-s.txt')).value;
    const twins = r.entries.filter((e) => e.orig.sport === 52210);
    expect(twins.map((e) => e.zone)).toEqual([65520, 65521]);
    expect(r.zones).toEqual({ 65520: 5, 65521: 1 });
    expect(r.raw).toHaveLength(6);
  });

  it('reads the plain form (no -m -s): no status or timeout, zone 0 left out', () => {
    const r = parseOvsConntrack(fixture('dump-conntrack.txt'));
    expect(r.issues).toEqual([]);
    expect(r.value[0]!.timeout).toBeUndefined();
    expect(r.value[0]!.status).toBeUndefined();
    const z0 = parseOvsCtLine(
      'udp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=1,dport=2),reply=(src=10.0.0.2,dst=10.0.0.1,sport=2,dport=1)',
    );
    expect(z0.kind === 'row' && z0.value.zone).toBe(0);
  });

  it('maps an entry to the kernel conntrack entry it is (states, status, zone)', () => {
    const r = parseOvsConntrack(fixture('dump-conntrack-m-s.txt')).value;
    const c = ovsToConntrack(r[0]!);
    expect(c).toMatchObject({
      proto: 'tcp',
      state: 'ESTABLISHED',
      timeout: 431985,
      assured: true,
      unreplied: false,
      zone: 65520,
      mark: 33,
    });
    expect(ovsToConntrack(r[5]!).state).toBe('TIME_WAIT');
  });

  it('gives the flow table one entry per tuple: the zone with the least time left', () => {
    const s = parseOvsDump(
      [
        'tcp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=1,dport=2),reply=(src=10.0.0.2,dst=10.0.0.1,sport=2,dport=1),zone=5,timeout=300,protoinfo=(state=ESTABLISHED)',
        'tcp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=1,dport=2),reply=(src=10.0.0.2,dst=10.0.0.9,sport=2,dport=1),zone=6,timeout=120,protoinfo=(state=ESTABLISHED)',
      ].join('\n'),
    ).value;
    const obs = ovsConntrackObservations(s, { t: 1, src: 'ovs:conntrack' });
    const entries = obs.flatMap((o) => (o.kind === 'conntrack-entry' ? [o.entry] : []));
    expect(entries.map((e) => [e.zone, e.timeout])).toEqual([[6, 120]]);
    expect(obs[0]?.kind).toBe('snapshot-begin');
    expect(obs[obs.length - 1]?.kind).toBe('snapshot-end');
  });

  it.each([
    ['tcp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=1,dport=2', 'unbalanced'],
    ['bogus,orig=(src=1.1.1.1,dst=1.1.1.2),reply=(src=1.1.1.2,dst=1.1.1.1)', 'not an IP protocol'],
    ['tcp,reply=(src=10.0.0.2,dst=10.0.0.1,sport=2,dport=1)', 'no orig='],
    [
      'tcp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=1,dport=2),reply=(src=10.0.0.2,dst=10.0.0.1,sport=2,dport=1),zone=70000',
      'bad zone',
    ],
    [
      'tcp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=1,dport=2),reply=(src=10.0.0.2,dst=10.0.0.1,sport=2,dport=1),frob=1',
      'unknown field',
    ],
    [
      'tcp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=1,dport=2),reply=(src=10.0.0.2,dst=10.0.0.1,sport=2,dport=1),protoinfo=(state=DANCING)',
      'bad protoinfo',
    ],
  ])('issue for %s', (line, message) => {
    const out = parseOvsCtLine(line);
    expect(out.kind).toBe('issue');
    if (out.kind === 'issue') {
      expect(out.code).toBe('ovs-ct.bad-line');
      expect(out.message).toContain(message);
    }
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { calicoFlowEntries } from '../../src/model/calico.js';
import {
  parseCalicoConntrack,
  parseCalicoCtLine,
  parseCalicoDump,
} from '../../src/parse/calico-conntrack.js';
import { goDurationSec } from '../../src/parse/calico-duration.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../fixtures/tools/calico/${name}`, import.meta.url), 'utf8');

describe('goDurationSec (Go time.Duration String and ParseDuration)', () => {
  it.each([
    ['9m41.273918204s', 581.273918204],
    ['1h0m0s', 3600],
    ['812.441007ms', 0.812441007],
    ['1.5µs', 1.5e-6],
    ['0s', 0],
    ['0', 0],
    ['10m', 600],
    ['-2.5s', -2.5],
    ['90s', 90],
  ])('%s → %d s', (text, sec) => {
    expect(goDurationSec(text)).toBeCloseTo(sec, 9);
  });
  it.each(['', '5', '1d', 'Auto', '1h x', 'm5'])('refuses %j', (text) => {
    expect(goDurationSec(text)).toBeUndefined();
  });
});

describe('calico-node -bpf conntrack dump --raw (v4 Key.String / Value.String)', () => {
  const r = parseCalicoConntrack(fixture('dump-raw.txt'));

  it('reads every line of the sample', () => {
    expect(r.issues).toEqual([]);
    expect(r.value).toHaveLength(10);
  });

  it('orients a normal entry by the opener leg', () => {
    const e = r.value[0]!;
    expect(e).toMatchObject({
      form: 'raw',
      type: 'normal',
      proto: 6,
      src: { addr: '10.65.1.14', port: 43812 },
      dst: { addr: '10.65.3.21', port: 5432 },
      oriented: true,
      tcpState: 'ESTABLISHED',
      flags: [],
    });
    expect(e.activeAgoSec).toBeCloseTo(581.273918204, 9);
    expect(e.lastSeenNs).toBeGreaterThan(0);
  });

  it('puts the client first when the key has it as B (flag B-A, B2A opener)', () => {
    const e = r.value[1]!;
    expect(e.flags).toEqual(['B-A']);
    expect(e.src).toEqual({ addr: '10.65.2.9', port: 40112 });
    expect(e.dst).toEqual({ addr: '10.65.1.7', port: 8080 });
  });

  it('reads a NAT forward entry (REVKey) and its reverse entry (the pre-DNAT hop)', () => {
    const fwd = r.value[2]!;
    const rev = r.value[3]!;
    expect(fwd.type).toBe('nat-forward');
    expect(fwd.tcpState).toBeUndefined();
    expect(fwd.src).toEqual({ addr: '10.65.1.14', port: 51200 });
    expect(fwd.dst).toEqual({ addr: '10.96.44.10', port: 5432 });
    expect(fwd.revKey).toEqual({
      a: { addr: '10.65.1.14', port: 51200 },
      b: { addr: '10.65.3.21', port: 5432 },
    });
    expect(rev.type).toBe('nat-reverse');
    expect(rev.origDst).toEqual({ addr: '10.96.44.10', port: 5432 });
    expect(rev.tcpState).toBe('ESTABLISHED');
  });

  it('gives UDP and ICMP no state, and reads each TCP state word', () => {
    expect(r.value.map((e) => e.tcpState ?? '-')).toEqual([
      'ESTABLISHED',
      'ESTABLISHED',
      '-',
      'ESTABLISHED',
      '-',
      'SYN-SENT',
      'CLOSED',
      'RESET',
      '-',
      'ESTABLISHED',
    ]);
    expect(r.value[4]!.proto).toBe(17);
    expect(r.value[8]!.proto).toBe(1);
    expect(r.value[9]!.flags).toEqual(['nat-out', 'B-A']);
  });

  it('joins a flow to a Service VIP through the forward entry to the reverse one', () => {
    const s = parseCalicoDump(fixture('dump-raw.txt')).value;
    const hit = calicoFlowEntries(
      s,
      6,
      { addr: '10.65.1.14', port: 51200 },
      { addr: '10.96.44.10', port: 5432 },
    );
    expect(hit?.forward?.type).toBe('nat-forward');
    expect(hit?.tracking.type).toBe('nat-reverse');
    // Either end first: the key is order-free.
    const back = calicoFlowEntries(
      s,
      6,
      { addr: '10.65.3.21', port: 5432 },
      { addr: '10.65.1.14', port: 43812 },
    );
    expect(back?.tracking.src.port).toBe(43812);
    expect(
      calicoFlowEntries(s, 6, { addr: '10.65.1.14', port: 1 }, { addr: '10.65.3.21', port: 5432 }),
    ).toBeUndefined();
  });
});

describe('calico-node -bpf conntrack dump (prettyDump)', () => {
  const r = parseCalicoConntrack(fixture('dump.txt'));

  it('reads every line, with the pre-DNAT hop of the NAT entry', () => {
    expect(r.issues).toEqual([]);
    // prettyDump prints nothing for forward entries.
    expect(r.value).toHaveLength(9);
    expect(r.value[2]).toMatchObject({
      form: 'pretty',
      type: 'nat-reverse',
      src: { addr: '10.65.1.14', port: 51200 },
      origDst: { addr: '10.96.44.10', port: 5432 },
      dst: { addr: '10.65.3.21', port: 5432 },
    });
  });

  it('joins a VIP flow to its reverse entry by the pre-DNAT hop', () => {
    const s = parseCalicoDump(fixture('dump.txt')).value;
    const hit = calicoFlowEntries(
      s,
      6,
      { addr: '10.65.1.14', port: 51200 },
      { addr: '10.96.44.10', port: 5432 },
    );
    expect(hit?.tracking.type).toBe('nat-reverse');
  });

  it('reads the external-client note', () => {
    const out = parseCalicoCtLine(
      'TCP 192.168.10.50:53122 -> 10.0.0.12:30432 -> 10.65.3.21:5432 external client, service forwarded to/from 10.0.0.11  Active ago 4.2s ESTABLISHED',
    );
    expect(out.kind === 'row' && out.value.tunnelIp).toBe('10.0.0.11');
  });
});

describe('bad lines', () => {
  it.each([
    ['ConntrackKey{proto=6 10.0.0.1:1 <-> 10.0.0.2:2} -> Entry{Type:0}', 'no "Active ago"'],
    ['TCP 10.0.0.1:1 -> 10.0.0.2:2  Active ago soon ESTABLISHED', 'not a Go duration'],
    ['TCP 10.0.0.1:1 -> 10.0.0.2:2  Active ago 1s WEIRD', 'unexpected text'],
    ['TCP 10.0.0.1:99999 -> 10.0.0.2:2  Active ago 1s', 'bad address:port'],
    [
      'ConntrackKey{proto=6 10.0.0.1:1 <-> 10.0.0.2:2} -> Entry{Type:7, LastSeen:1, Flags: <none> TYPE INVALID} Active ago 1s',
      'unknown entry type',
    ],
    [
      'ConntrackKey{proto=6 10.0.0.1:1 <-> 10.0.0.2:2} -> Entry{Type:1, LastSeen:1, Flags: <none> REVKey: x NATSPort: 0} Active ago 1s',
      'REVKey',
    ],
    ['time="2026-09-14T08:30:00Z" level=info msg="Active ago"', 'no "Active ago"'],
    ['level=info msg=x Active ago 1s', 'expected "PROTO'],
  ])('%s', (line, message) => {
    const out = parseCalicoCtLine(line);
    expect(out.kind).toBe('issue');
    if (out.kind === 'issue') {
      expect(out.code).toBe('calico-ct.bad-line');
      expect(out.message).toContain(message);
    }
  });
});

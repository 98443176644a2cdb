// `cilium-dbg bpf ct list global` in its layouts: the fixtures are built from the formatting
// functions named in fixtures/tools/cilium/README.md.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCiliumCt, parseCiliumCtLine } from '../../src/parse/cilium-ct.js';

const fx = (name: string): string =>
  readFileSync(new URL(`../../fixtures/tools/cilium/${name}`, import.meta.url), 'utf8');

describe('parseCiliumCt (current layout, -d)', () => {
  const r = parseCiliumCt(fx('ct-list-global-d.txt'));

  it('reads every entry of every map, skipping the blank lines between maps', () => {
    expect(r.issues).toEqual([]);
    expect(r.value.entries).toHaveLength(9);
    expect(r.value.timeDiff).toBe(true);
    expect(r.value.lines).toHaveLength(9);
  });

  it('reads a negative remaining time as expired', () => {
    const e = r.value.entries[0]!;
    expect(e).toMatchObject({
      proto: 'TCP',
      dir: 'OUT',
      src: '10.0.1.23',
      sport: 43210,
      dst: '10.0.2.41',
      dport: 5432,
      expires: 1203505,
      remainingSec: -95,
      flags: 0x10,
      layout: 'current',
      service: false,
      related: false,
    });
  });

  it('reads closing flags, IN and SVC tuples, related entries and IPv6', () => {
    const [, closing, inbound, svc, rel, , udpSvc, , v6] = r.value.entries;
    expect(closing?.flags).toBe(0x13);
    expect(inbound).toMatchObject({ dir: 'IN', src: '10.0.3.77', dport: 8080 });
    expect(svc).toMatchObject({ dir: 'SVC', service: true, dst: '10.96.120.7', revNat: 14 });
    expect(rel?.related).toBe(true);
    expect(udpSvc).toMatchObject({ proto: 'UDP', dir: 'SVC', dst: '10.96.0.10', dport: 53 });
    expect(v6).toMatchObject({ src: 'fd00:10:1::17', sport: 51822, dst: 'fd00:10:2::9' });
  });
});

describe('parseCiliumCt (other forms)', () => {
  it('without -d: the same entries, no remaining time', () => {
    const r = parseCiliumCt(fx('ct-list-global.txt'));
    expect(r.issues).toEqual([]);
    expect(r.value.entries).toHaveLength(9);
    expect(r.value.timeDiff).toBe(false);
    expect(r.value.entries.every((e) => e.remainingSec === undefined)).toBe(true);
  });

  it('the RxPackets/TxPackets layout, whose service key is printed VIP first', () => {
    const r = parseCiliumCt(fx('ct-list-global-d-rxtx.txt'));
    expect(r.issues).toEqual([]);
    expect(r.value.entries.map((e) => e.layout)).toEqual(['rx-tx', 'rx-tx', 'rx-tx', 'rx-tx']);
    expect(r.value.entries[1]).toMatchObject({
      dir: 'SVC',
      src: '10.0.1.23',
      sport: 43210,
      dst: '10.96.120.7',
      dport: 5432,
      remainingSec: -95,
    });
  });

  it('-o json: keys in reply order, ports in network byte order', () => {
    const r = parseCiliumCt(fx('ct-list-global.json'));
    expect(r.issues).toEqual([]);
    const [out, inbound, svc, udp] = r.value.entries;
    expect(out).toMatchObject({
      proto: 'TCP',
      dir: 'OUT',
      src: '10.0.1.23',
      sport: 43210,
      dst: '10.0.2.41',
      dport: 5432,
      expires: 1203505,
      layout: 'json',
    });
    expect(inbound).toMatchObject({
      dir: 'IN',
      src: '10.0.3.77',
      sport: 60418,
      dst: '10.0.1.23',
      dport: 8080,
    });
    expect(svc).toMatchObject({
      dir: 'SVC',
      src: '10.0.1.23',
      sport: 43210,
      dst: '10.96.120.7',
      dport: 5432,
      revNat: 14,
    });
    expect(udp).toMatchObject({ proto: 'UDP', dport: 53 });
    expect(r.value.timeDiff).toBe(false);
  });

  it('-o json with string addresses (types.IPv4 with MarshalText) and IPv6 byte arrays', () => {
    const v6 = [0xfd, 0, 0, 0x10, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9];
    const text = JSON.stringify([
      {
        Key: {
          DestAddr: '10.0.1.5',
          SourceAddr: '10.0.9.9',
          DestPort: 0x5000,
          SourcePort: 0x3930,
          NextHeader: 6,
          Flags: 0,
        },
        Value: { Lifetime: 5, Flags: 0 },
      },
      {
        Key: {
          DestAddr: v6,
          SourceAddr: v6,
          DestPort: 0xbb01,
          SourcePort: 0x3930,
          NextHeader: 17,
          Flags: 1,
        },
        Value: { Lifetime: 5, Flags: 0 },
      },
    ]);
    const r = parseCiliumCt(text);
    expect(r.issues).toEqual([]);
    expect(r.value.entries[0]).toMatchObject({
      src: '10.0.1.5',
      sport: 12345,
      dst: '10.0.9.9',
      dport: 80,
    });
    expect(r.value.entries[1]).toMatchObject({
      proto: 'UDP',
      dir: 'IN',
      src: 'fd00:10:2::9',
      dport: 443,
    });
  });

  it('bad lines become issues with their line numbers, good ones still count', () => {
    const r = parseCiliumCt(fx('ct-list-malformed.txt'));
    expect(r.value.entries).toHaveLength(1);
    expect(r.issues.map((i) => [i.line, i.code])).toEqual([
      [2, 'cilium-ct.bad-tuple'],
      [3, 'cilium-ct.bad-remaining'],
      [4, 'cilium-ct.no-expires'],
      [5, 'cilium-ct.bad-key'],
    ]);
  });

  it('rejects bad JSON in one issue', () => {
    expect(parseCiliumCt('[{"Key": ').issues[0]?.code).toBe('cilium-ct.bad-json');
    expect(parseCiliumCt('[{"Key": {}, "Value": {}}]').issues[0]?.code).toBe(
      'cilium-ct.bad-record',
    );
  });

  it('refuses out-of-range ports and octets', () => {
    const base = ' expires=1 Packets=0 Bytes=0 Flags=0x0010 [ SeenNonSyn ] RevNAT=0 ';
    expect(parseCiliumCtLine(`TCP OUT 10.0.0.1:70000 -> 10.0.0.2:80${base}`).kind).toBe('issue');
    expect(parseCiliumCtLine(`TCP OUT 10.0.0.300:1 -> 10.0.0.2:80${base}`).kind).toBe('issue');
    expect(parseCiliumCtLine(`TCP OUT 10.0.0.1:1 -> 10.0.0.2:80${base}`).kind).toBe('row');
    expect(parseCiliumCtLine('').kind).toBe('skip');
  });
});

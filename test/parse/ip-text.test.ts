// One IPv6 text for every parser: the same address as conntrack(8), /proc/net/nf_conntrack, ss,
// ipvsadm, /proc/net/ip_vs_conn and bpftrace print it comes out as one string, so flows join.
import { describe, expect, it } from 'vitest';
import { parseConntrackEntryLine } from '../../src/parse/conntrack-entry.js';
import { canonicalIpv6 } from '../../src/parse/ip-text.js';
import { parseIpvsConnLine } from '../../src/parse/ipvsadm-conns.js';
import { parseIpvsEndpoint } from '../../src/parse/ipvsadm-services.js';
import type { ProbeContext } from '../../src/parse/probes/context.js';
import { parseTcpStateLine } from '../../src/parse/probes/trace-tcp-state.js';
import { parseSs, parseSsEndpoint } from '../../src/parse/ss.js';
import type { ConntrackEntry } from '../../src/model/conntrack.js';
import type { IpvsConn } from '../../src/model/ipvs.js';
import type { LineOutcome } from '../../src/parse/result.js';
import { T0, ctSnapshot, obs, ssSnapshot, tableOf } from '../helpers/builders.js';

const MAPPED = '::ffff:10.0.0.1';
const FULL = '2001:db8:0:1::53';

describe('canonicalIpv6 (RFC 5952)', () => {
  it.each([
    // %pI6 as /proc/net/nf_conntrack and /proc/net/ip_vs_conn print it
    ['0000:0000:0000:0000:0000:ffff:0a00:0001', MAPPED],
    ['2001:0db8:0000:0001:0000:0000:0000:0053', FULL],
    ['fd00:0000:0000:0000:0000:0000:0000:0001', 'fd00::1'],
    ['0000:0000:0000:0000:0000:0000:0000:0000', '::'],
    ['0000:0000:0000:0000:0000:0000:0000:0001', '::1'],
    // inet_ntop text (conntrack -L, ss, ipvsadm, bpftrace ntop) is already canonical
    [MAPPED, MAPPED],
    [FULL, FULL],
    // WHATWG URL's spelling of a mapped address, upper case, other compressions
    ['::ffff:a00:1', MAPPED],
    ['::FFFF:A00:1', MAPPED],
    ['::FFFF:10.0.0.1', MAPPED],
    ['0:0:0:0:0:ffff:10.0.0.1', MAPPED],
    ['2001:DB8:0:1:0:0:0:53', FULL],
    ['2001:db8::1:0:0:0:53', FULL],
    ['2001:db8:0:1:0::53', FULL],
    // one zero group is not compressed; of two equal runs the first is; a run at either end
    ['2001:db8::1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    // only ::ffff:0:0/96 is written with a dotted tail
    ['::10.0.0.1', '::a00:1'],
    ['::ffff:0:10.0.0.1', '::ffff:0:a00:1'],
    ['64:ff9b::10.0.0.1', '64:ff9b::a00:1'],
  ])('%s → %s', (text, canonical) => {
    expect(canonicalIpv6(text)).toBe(canonical);
  });

  it.each([
    '',
    ':',
    ':::',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '12345::1',
    ':1::',
    '1::2:',
    '::ffff:10.0.0',
    '::ffff:10.0.0.256',
    '::ffff:10.00.0.1',
    '::10.0.0.1:1',
    'fd00::g',
    '10.0.0.1',
    '1:2:3:4:5:6:7:10.0.0.1',
    'fd00::1%eth0',
    `${'0'.repeat(44)}::`,
  ])('rejects %j', (text) => {
    expect(canonicalIpv6(text)).toBeUndefined();
  });
});

function rowOf<T>(out: LineOutcome<T>): T {
  if (out.kind !== 'row') throw new Error(`expected a row, got ${JSON.stringify(out)}`);
  return out.value;
}

const ctx: ProbeContext = { v: 1, probe: 't' };
const printf = (data: string): string => JSON.stringify({ type: 'printf', data: `${data}\n` });

/** The client address of one flow from 10.0.0.1-as-IPv6 (or FULL) to fd00::10, as each source prints it. */
function spelledBy(addr: { ntop: string; pI6: string }): Record<string, string | undefined> {
  const ct = (a: string, b: string): string =>
    `tcp      6 431999 ESTABLISHED src=${a} dst=${b} sport=40004 dport=80 src=${b} dst=${a} sport=80 dport=40004 [ASSURED] mark=0 use=1`;
  const vip = { ntop: 'fd00::10', pI6: 'fd00:0000:0000:0000:0000:0000:0000:0010' };
  const ssText = `ESTAB      0      0       [${addr.ntop.toUpperCase()}]:40004  [${vip.ntop}]:80 ino:12761 sk:1e <->\n`;
  const state = rowOf(
    parseTcpStateLine(
      printf(`state.v1\t10\t2\t1\t4026532606\t6\t${addr.ntop}\t40004\t${vip.ntop}\t80\t0\t0\t0\t0`),
      ctx,
    ),
  );
  return {
    'conntrack -L': rowOf(parseConntrackEntryLine(ct(addr.ntop, vip.ntop))).orig.src,
    '/proc/net/nf_conntrack': rowOf(parseConntrackEntryLine(`ipv6     10 ${ct(addr.pI6, vip.pI6)}`))
      .orig.src,
    ss: parseSs(ssText).value[0]?.local.addr,
    'ss endpoint': parseSsEndpoint(`[${addr.ntop}]:40004`)?.addr,
    'ipvsadm -Lnc': rowOf(
      parseIpvsConnLine(
        `TCP 14:59  ESTABLISHED [${addr.ntop}]:40004 [${vip.ntop}]:80 [fd00::2]:8080`,
      ),
    ).client.addr,
    'ipvsadm -Ln': parseIpvsEndpoint(`[${addr.ntop}]:40004`)?.addr,
    '/proc/net/ip_vs_conn': rowOf(
      parseIpvsConnLine(
        `TCP ${addr.pI6} 9C44 ${vip.pI6} 0050 fd00:0000:0000:0000:0000:0000:0000:0002 1F90 ESTABLISHED       899`,
      ),
    ).client.addr,
    bpftrace: state.kind === 'state' ? state.tuple.saddr : undefined,
  };
}

describe('every parser writes an address the same way', () => {
  it.each([
    [
      'an IPv4-mapped address',
      { ntop: MAPPED, pI6: '0000:0000:0000:0000:0000:ffff:0a00:0001' },
      MAPPED,
    ],
    ['a full IPv6 address', { ntop: FULL, pI6: '2001:0db8:0000:0001:0000:0000:0000:0053' }, FULL],
  ])('%s', (_, addr, canonical) => {
    const seen = spelledBy(addr);
    expect(Object.keys(seen)).toHaveLength(8);
    for (const [source, text] of Object.entries(seen))
      expect([source, text]).toEqual([source, canonical]);
  });
});

describe('flows join across sources that spell an address differently', () => {
  const procLine =
    'ipv6     10 tcp      6 431999 ESTABLISHED src=0000:0000:0000:0000:0000:ffff:0a00:0001 dst=fd00:0000:0000:0000:0000:0000:0000:0010 sport=40004 dport=80 src=fd00:0000:0000:0000:0000:0000:0000:0002 dst=0000:0000:0000:0000:0000:ffff:0a00:0001 sport=8080 dport=40004 [ASSURED] mark=0 zone=0 use=2';
  const entry: ConntrackEntry = rowOf(parseConntrackEntryLine(procLine));

  it('/proc/net/nf_conntrack (%pI6) and ipvsadm -Lnc (inet_ntop, upper case) give one flow', () => {
    const conn: IpvsConn = rowOf(
      parseIpvsConnLine(
        'TCP 14:59  ESTABLISHED [::FFFF:10.0.0.1]:40004 [FD00::10]:80 [fd00::2]:8080',
      ),
    );
    const t = tableOf([
      ...ctSnapshot(T0, [entry]),
      obs.begin(T0, 'ipvs-conns'),
      obs.ipvsConn(T0, conn),
      obs.end(T0, 'ipvs-conns'),
    ]);
    expect(t.size).toBe(1);
    expect([...t.flows()][0]!.ipvs?.expiresSec).toBe(899);
  });

  it('/proc/net/nf_conntrack and the client socket from ss give one flow', () => {
    const ss = parseSs(
      'ESTAB      0      0       [::ffff:10.0.0.1]:40004  [fd00::10]:80 ino:12761 sk:1e <->\n',
    );
    expect(ss.issues).toEqual([]);
    const t = tableOf([...ctSnapshot(T0, [entry]), ...ssSnapshot(T0 + 1000, ss.value, 'client')]);
    expect(t.size).toBe(1);
    expect([...t.flows()][0]!.client?.scope).toBe('client');
  });
});

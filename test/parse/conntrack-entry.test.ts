import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ConntrackEntry } from '../../src/model/conntrack.js';
import { parseConntrackEntryLine, parseConntrackList } from '../../src/parse/conntrack-entry.js';

const dir = fileURLToPath(new URL('../../fixtures/tools/conntrack/', import.meta.url));
const fixture = (name: string): string => readFileSync(dir + name, 'utf8');

function entryOf(line: string): ConntrackEntry {
  const out = parseConntrackEntryLine(line);
  if (out.kind !== 'row') throw new Error(`expected a row, got ${JSON.stringify(out)}`);
  return out.value;
}

function issueOf(line: string): string {
  const out = parseConntrackEntryLine(line);
  if (out.kind !== 'issue') throw new Error(`expected an issue, got ${out.kind}`);
  expect(out.message.length).toBeGreaterThan(5);
  return out.code;
}

describe('real captures parse with no issues', () => {
  it.each([
    ['list-plain.txt', 12],
    ['list-extended.txt', 12],
    ['list-extended-id.txt', 12],
    ['list-extended-ktimestamp.txt', 12],
    ['list-ipv6.txt', 3],
    ['delete-ipv6.txt', 1],
    ['proc-nf_conntrack.txt', 12],
    ['constructed-list-extended.txt', 6],
    ['constructed-proc-nf_conntrack.txt', 5],
  ])('%s → %i entries', (name, count) => {
    const r = parseConntrackList(fixture(name));
    expect(r.issues).toEqual([]);
    expect(r.value).toHaveLength(count);
  });

  it('reports the -o labels warning of a machine without connlabel.conf, and keeps the rows', () => {
    const r = parseConntrackList(fixture('list-extended-id-labels-nomap.txt'));
    expect(r.value).toHaveLength(12);
    expect(r.issues.map((i) => [i.line, i.code])).toEqual([[13, 'conntrack.tool-message']]);
  });

  it('names every flow the same in -L and /proc (IPv6 compressed, same tuples)', () => {
    const key = (e: ConntrackEntry): string =>
      `${e.family} ${e.proto} ${e.orig.src} ${e.orig.dst} ${e.orig.sport} ${e.orig.dport} ${e.reply.src} ${e.reply.dst}`;
    const fromL = parseConntrackList(fixture('list-extended.txt')).value.map(key).sort();
    const fromProc = parseConntrackList(fixture('proc-nf_conntrack.txt')).value.map(key).sort();
    expect(fromProc).toEqual(fromL);
  });

  it('reads the same entries from plain and extended output, ids only with -o id', () => {
    const plain = parseConntrackList(fixture('list-plain.txt')).value;
    const ext = parseConntrackList(fixture('list-extended-id.txt')).value;
    expect(plain.map((e) => e.family)).toEqual(ext.map((e) => e.family));
    expect(plain.every((e) => e.id === undefined)).toBe(true);
    expect(ext.every((e) => typeof e.id === 'number' && e.id > 0)).toBe(true);
  });
});

describe('fields of representative real lines', () => {
  const list = parseConntrackList(fixture('list-extended-id.txt')).value;

  it("reads a DNAT'ed TCP entry: orig dst = VIP, reply src = backend", () => {
    const e = list.find(
      (x) => x.proto === 'tcp' && x.state === 'ESTABLISHED' && x.family === 'ipv4',
    )!;
    expect(e).toMatchObject({
      family: 'ipv4',
      proto: 'tcp',
      protonum: 6,
      timeout: 431998,
      state: 'ESTABLISHED',
      orig: { src: '10.0.0.1', dst: '10.96.0.10', sport: 38696, dport: 80 },
      reply: { src: '10.0.0.2', dst: '10.0.0.1', sport: 8080, dport: 38696 },
      origCounters: { packets: 4, bytes: 221 },
      replyCounters: { packets: 3, bytes: 169 },
      unreplied: false,
      assured: true,
      offload: false,
      hwOffload: false,
      mark: 0,
      deltaTime: 2,
      use: 1,
      id: 3998229160,
    });
    expect(e.icmp).toBeUndefined();
  });

  it("reads an UNREPLIED UDP entry that was not DNAT'ed (reply src = orig dst)", () => {
    const e = list.find((x) => x.proto === 'udp' && x.orig.dport === 54)!;
    expect(e.unreplied).toBe(true);
    expect(e.assured).toBe(false);
    expect(e.state).toBeNull();
    expect(e.timeout).toBe(28);
    expect(e.reply.src).toBe(e.orig.dst);
    expect(e.replyCounters).toEqual({ packets: 0, bytes: 0 });
  });

  it('reads ICMP type/code/id and keeps the conntrack id apart from the ICMP id', () => {
    const e = list.find((x) => x.proto === 'icmp')!;
    expect(e.icmp).toEqual({ type: 8, code: 0, id: 4660 });
    expect(e.id).toBe(4231314659);
    expect(e.orig.sport).toBeUndefined();
    const v6 = list.find((x) => x.proto === 'icmpv6')!;
    expect(v6).toMatchObject({
      family: 'ipv6',
      protonum: 58,
      icmp: { type: 128, code: 0, id: 17185 },
    });
  });

  it('reads IPv6 in compressed form, from -L and from /proc', () => {
    const e = list.find((x) => x.family === 'ipv6' && x.proto === 'tcp')!;
    expect(e.orig).toEqual({ src: 'fd00::1', dst: 'fd00::10', sport: 52114, dport: 80 });
    expect(e.reply.src).toBe('fd00::2');
    const proc = parseConntrackList(fixture('proc-nf_conntrack.txt')).value.find(
      (x) => x.family === 'ipv6' && x.proto === 'tcp',
    )!;
    expect(proc.orig).toEqual(e.orig);
    expect(proc.zone).toBe(0);
    expect(proc.use).toBe(2);
    expect(proc.id).toBeUndefined();
  });

  it("reads zone=, unknown l4, GRE (with /proc's own GRE timeouts) and UDP-Lite", () => {
    expect(list.find((x) => x.orig.dport === 7777)!.zone).toBe(5);
    expect(list.find((x) => x.proto === 'unknown')).toMatchObject({
      protonum: 253,
      timeout: 598,
      orig: { src: '10.0.0.2' },
    });
    const proc = parseConntrackList(fixture('proc-nf_conntrack.txt')).value;
    expect(proc.find((x) => x.proto === 'gre')).toMatchObject({
      protonum: 47,
      timeout: 28,
      unreplied: true,
    });
    expect(list.find((x) => x.proto === 'udplite')).toMatchObject({
      protonum: 136,
      orig: { dport: 6000 },
    });
  });

  it('family comes from the address when there is no l3 prefix', () => {
    const plain = parseConntrackList(fixture('list-plain.txt')).value;
    expect(
      plain
        .filter((e) => e.family === 'ipv6')
        .map((e) => e.proto)
        .sort(),
    ).toEqual(['icmpv6', 'tcp', 'udp']);
  });

  it('reads -o ktimestamp [start=…]', () => {
    const e = parseConntrackList(fixture('list-extended-ktimestamp.txt')).value[0]!;
    expect(e.start).toBe('Mon Nov 23 04:42:36 2026');
    expect(e.use).toBe(1);
  });

  it('skips the stderr summary line', () => {
    expect(
      parseConntrackEntryLine(
        'conntrack v1.4.7 (conntrack-tools): 12 flow entries have been shown.',
      ),
    ).toEqual({ kind: 'skip' });
    expect(
      parseConntrackEntryLine(
        'conntrack v1.4.7 (conntrack-tools): 1 flow entries have been deleted.',
      ),
    ).toEqual({ kind: 'skip' });
  });
});

describe('constructed lines for what this kernel cannot show', () => {
  const list = parseConntrackList(fixture('constructed-list-extended.txt')).value;

  it('OFFLOAD / HW_OFFLOAD entries have no timeout', () => {
    expect(list[0]).toMatchObject({
      timeout: null,
      state: 'ESTABLISHED',
      offload: true,
      assured: false,
      id: 1111111111,
    });
    expect(list[1]).toMatchObject({ proto: 'udp', timeout: null, state: null, hwOffload: true });
    expect(list[5]).toMatchObject({ family: 'ipv6', timeout: null, offload: true });
  });

  it('reads sctp, dccp, zone, labels, secmark, secctx and helper', () => {
    expect(list[2]).toMatchObject({
      proto: 'sctp',
      protonum: 132,
      timeout: 210,
      state: 'ESTABLISHED',
      zone: 7,
      labels: 'kdiag-a,kdiag-b',
    });
    expect(list[3]).toMatchObject({ proto: 'dccp', protonum: 33, state: 'OPEN' });
    expect(list[4]).toMatchObject({
      mark: 16384,
      secmark: 7,
      secctx: 'system_u:object_r:unlabeled_t:s0',
      zone: 0,
      helper: 'ftp',
    });
  });

  it('/proc offloaded entries, full-form and IPv4-mapped IPv6', () => {
    const proc = parseConntrackList(fixture('constructed-proc-nf_conntrack.txt')).value;
    expect(proc[0]).toMatchObject({ timeout: null, offload: true, deltaTime: 42, zone: 0 });
    expect(proc[1]).toMatchObject({
      timeout: null,
      hwOffload: true,
      orig: { src: 'fd00::1', dst: 'fd00::10' },
    });
    expect(proc[4]!.orig).toEqual({
      src: '::ffff:10.0.0.1',
      dst: '2001:db8:0:1::53',
      sport: 40005,
      dport: 53,
    });
  });
});

describe('malformed and garbage input', () => {
  it('list-malformed.txt: one issue per bad line, with its code and line number', () => {
    const r = parseConntrackList(fixture('list-malformed.txt'));
    expect(r.value).toHaveLength(1);
    expect(r.issues.map((i) => [i.line, i.code])).toEqual([
      [2, 'conntrack.bad-tuple'],
      [3, 'conntrack.bad-number'],
      [4, 'conntrack.bad-address'],
      [5, 'conntrack.bad-number'],
      [6, 'conntrack.unknown-token'],
      [7, 'conntrack.unknown-token'],
      [8, 'conntrack.bad-l3'],
      [9, 'conntrack.bad-proto'],
      [10, 'conntrack.bad-state'],
      [11, 'conntrack.unterminated-bracket'],
      [12, 'conntrack.bad-proto'],
      [14, 'conntrack.tool-message'],
      [15, 'conntrack.duplicate-field'],
      [16, 'conntrack.bad-tuple'],
      [17, 'conntrack.bad-address'],
      [18, 'conntrack.bad-tuple'],
      [19, 'conntrack.bad-number'],
    ]);
    for (const i of r.issues) expect(i.message).not.toBe('');
  });

  it('list-garbage.txt: every line is an issue (control bytes, NUL, NaN, Infinity, 1e400, bad UTF-8)', () => {
    const text = fixture('list-garbage.txt');
    const r = parseConntrackList(text);
    expect(r.value).toEqual([]);
    expect(r.issues).toHaveLength(text.trimEnd().split('\n').length);
    expect(r.issues.every((i) => i.code.startsWith('conntrack.'))).toBe(true);
    expect(r.issues.find((i) => i.line === 11)!.code).toBe('conntrack.bad-state');
    expect(r.issues.find((i) => i.line === 12)!.code).toBe('conntrack.bad-number');
    expect(r.issues.find((i) => i.line === 13)!.code).toBe('conntrack.bad-number');
    expect(r.issues.find((i) => i.line === 5)!.code).toBe('conntrack.bad-address');
  });

  it('a 1 MB line is refused without being scanned', () => {
    const line = `tcp      6 1 ESTABLISHED src=10.0.0.1 ${'x'.repeat(1 << 20)}`;
    expect(issueOf(line)).toBe('conntrack.line-too-long');
    const r = parseConntrackList(`${line}\n${line}`);
    expect(r.issues).toHaveLength(2);
    expect(r.issues[0]!.text!.length).toBeLessThanOrEqual(201);
  });

  it('never throws on random bytes', () => {
    let seed = 12345;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const real = fixture('list-extended-id.txt').split('\n')[0]!;
    for (let n = 0; n < 3000; n++) {
      let line: string;
      if (n % 3 === 0) {
        line = Array.from({ length: Math.floor(rnd() * 300) }, () =>
          String.fromCharCode(Math.floor(rnd() * 256)),
        ).join('');
      } else {
        // mutate a real line: replace, delete or insert a few characters
        const chars = real.split('');
        for (let m = 0; m < 1 + Math.floor(rnd() * 4); m++) {
          const at = Math.floor(rnd() * chars.length);
          const ch = String.fromCharCode(
            [0, 32, 61, 91, 93, 58, 46, 48, 57, 65, 0xfffd][Math.floor(rnd() * 11)]!,
          );
          if (m % 3 === 0) chars[at] = ch;
          else if (m % 3 === 1) chars.splice(at, 1);
          else chars.splice(at, 0, ch);
        }
        line = chars.join('');
      }
      const out = parseConntrackEntryLine(line);
      expect(['row', 'issue', 'skip']).toContain(out.kind);
      if (out.kind === 'row') {
        for (const v of [
          out.value.orig.sport,
          out.value.orig.dport,
          out.value.use,
          out.value.id,
          out.value.timeout,
        ]) {
          if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
        }
      }
    }
  });

  it('names the problem in each kind of failure', () => {
    expect(issueOf('tcp      6 120 SYN_SENT src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2')).toBe(
      'conntrack.bad-tuple',
    );
    expect(issueOf('tcp      6 120 SYN_SENT dst=10.0.0.2 src=10.0.0.1')).toBe(
      'conntrack.bad-tuple',
    );
    expect(
      issueOf(
        'tcp      6 120 SYN_SENT src=10.0.0.1 dst=10.0.0.2 sport=1 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1',
      ),
    ).toBe('conntrack.bad-tuple');
    expect(
      issueOf(
        'icmp     1 29 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 src=10.0.0.2 dst=10.0.0.1 type=0 code=0 id=1 mark=0 use=1',
      ),
    ).toBe('conntrack.bad-tuple');
    expect(
      issueOf('ipv5     2 tcp      6 1 src=10.0.0.1 dst=10.0.0.2 src=10.0.0.2 dst=10.0.0.1'),
    ).toBe('conntrack.bad-l3');
    expect(
      issueOf(
        'tcp      6 1 CLOSE src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 mark=4294967296',
      ),
    ).toBe('conntrack.bad-number');
    expect(
      issueOf(
        'tcp      6 1 CLOSE src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 mark=0 use=1 extra',
      ),
    ).toBe('conntrack.unknown-token');
    expect(
      issueOf(
        'tcp      6 1 CLOSE src=1:2 dst=10.0.0.2 sport=1 dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1',
      ),
    ).toBe('conntrack.bad-address');
    expect(
      issueOf(
        'tcp      6 1 CLOSE src=10.0.0.1 dst=fd00::1 sport=1 dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1',
      ),
    ).toBe('conntrack.bad-address');
  });
});

describe('the byte scanner decides as the text says', () => {
  const tcp = (o: string, r: string, tail = ''): string =>
    `ipv4     2 tcp      6 10 ESTABLISHED ${o} sport=1 dport=2 ${r} sport=2 dport=1 [ASSURED] mark=0 use=1${tail}`;

  it('reads dotted quads with leading zeros as written and refuses octets it cannot hold', () => {
    const e = entryOf(tcp('src=010.000.0.1 dst=10.0.0.2', 'src=10.0.0.2 dst=010.000.0.1'));
    expect([e.orig.src, e.reply.dst]).toEqual(['010.000.0.1', '010.000.0.1']);
    for (const bad of [
      '1234.0.0.1',
      '256.0.0.1',
      '1.2.3',
      '1.2.3.4.5',
      '1..2.3',
      '1.2.3.4x',
      '.1.2.3',
    ]) {
      expect(issueOf(tcp(`src=${bad} dst=10.0.0.2`, 'src=10.0.0.2 dst=10.0.0.1'))).toBe(
        'conntrack.bad-address',
      );
    }
  });

  it('reads IPv4-mapped IPv6 (dots after colons) as IPv6', () => {
    const line =
      'ipv6     10 udp      17 20 src=::ffff:10.0.0.1 dst=fd00::2 sport=1 dport=2 src=fd00::2 dst=::ffff:10.0.0.1 sport=2 dport=1 mark=0 use=1';
    expect(entryOf(line)).toMatchObject({ family: 'ipv6', orig: { src: '::ffff:10.0.0.1' } });
  });

  it('reads numbers of every length exactly, up to the field limits', () => {
    const e = entryOf(
      tcp(
        'src=10.0.0.1 dst=10.0.0.2 packets=123456789 bytes=1234567890123',
        'src=10.0.0.2 dst=10.0.0.1 packets=0 bytes=18446744073709551615',
        ' id=4294967295',
      ),
    );
    expect(e.origCounters).toEqual({ packets: 123456789, bytes: 1234567890123 });
    expect(e.replyCounters?.bytes).toBe(18446744073709551615);
    expect(e.id).toBe(4294967295);
    expect(
      issueOf(tcp('src=10.0.0.1 dst=10.0.0.2', 'src=10.0.0.2 dst=10.0.0.1', ' id=4294967296')),
    ).toBe('conntrack.bad-number');
    expect(
      issueOf(
        tcp('src=10.0.0.1 dst=10.0.0.2', 'src=10.0.0.2 dst=10.0.0.1', ' id=123456789012345678901'),
      ),
    ).toBe('conntrack.bad-number');
  });

  it('does not take a character above 255 for the ASCII one in its low byte', () => {
    // U+0120 and U+0100 end in 0x20 (space) and 0x00
    const line = tcp('src=10.0.0.1 dst=10.0.0.2', 'src=10.0.0.2 dst=10.0.0.1');
    expect(issueOf(line.replace('ESTABLISHED ', 'ESTABLISHED\u0120'))).toBe('conntrack.bad-state');
    expect(issueOf(line.replace(' [ASSURED]', '\u0100[ASSURED]'))).toBe('conntrack.bad-number');
    expect(entryOf(`${line} secctx=système_u:s0`).secctx).toBe('système_u:s0');
  });
});

describe('bench input', () => {
  it('the generated -o extended,id lines are all valid entries (the bench measures real rows)', async () => {
    const { benchParseConntrack, generateConntrackExtendedLines } =
      await import('../../bench/parse-conntrack.js');
    const lines = generateConntrackExtendedLines(50);
    expect(new Set(lines).size).toBe(50);
    const r = parseConntrackList(lines.join('\n'));
    expect(r.issues).toEqual([]);
    expect(r.value.filter((e) => e.state === 'TIME_WAIT').length).toBeGreaterThan(0);
    expect(r.value.filter((e) => e.proto === 'udp' && e.unreplied).length).toBeGreaterThan(0);
    const res = await benchParseConntrack(2000);
    expect(res).toMatchObject({ entries: 2000, issues: 0, list: { rows: 2000 } });
  });
});

describe('IPv4 addresses as numbers (what the FlowTable interns)', () => {
  it('gives each canonical dotted quad its int32, and none to other spellings', () => {
    const e = entryOf(
      'tcp      6 86399 ESTABLISHED src=192.168.1.10 dst=10.96.0.1 sport=40000 dport=443 src=0.0.0.0 dst=255.255.255.255 sport=6443 dport=40000 [ASSURED] mark=0 use=1',
    );
    expect([e.orig.src4, e.orig.dst4, e.reply.src4, e.reply.dst4]).toEqual([
      0xc0a8010a | 0,
      0x0a600001,
      0,
      -1,
    ]);
    // A leading zero names the address differently from the canonical text: no number, the text decides.
    const z = entryOf(
      'tcp      6 10 ESTABLISHED src=010.0.0.1 dst=10.0.0.01 sport=1 dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 mark=0 use=1',
    );
    expect([z.orig.src4, z.orig.dst4, z.reply.src4, z.reply.dst4]).toEqual([
      undefined,
      undefined,
      0x0a000002,
      0x0a000001,
    ]);
    const v6 = entryOf(
      'ipv6     10 tcp      6 10 ESTABLISHED src=2001:db8::1 dst=2001:db8::2 sport=1 dport=2 src=2001:db8::2 dst=2001:db8::1 sport=2 dport=1 mark=0 use=1',
    );
    expect([v6.orig.src4, v6.orig.dst4]).toEqual([undefined, undefined]);
  });
});

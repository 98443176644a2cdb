import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ConntrackEvent } from '../../src/model/conntrack.js';
import { parseConntrackEventLine, parseConntrackEvents } from '../../src/parse/conntrack-events.js';

const dir = fileURLToPath(new URL('../../fixtures/tools/conntrack/', import.meta.url));
const fixture = (name: string): string => readFileSync(dir + name, 'utf8');

function eventOf(line: string): ConntrackEvent {
  const out = parseConntrackEventLine(line);
  if (out.kind !== 'row') throw new Error(`expected a row, got ${JSON.stringify(out)}`);
  return out.value;
}

describe('real conntrack -E captures', () => {
  it.each(['events-plain.txt', 'events-timestamp.txt', 'events-timestamp-extended-id.txt'])(
    '%s: 34 events, summary skipped',
    (name) => {
      const r = parseConntrackEvents(fixture(name));
      expect(r.issues).toEqual([]);
      expect(r.value).toHaveLength(34);
      const types = r.value.map((e) => e.type);
      expect(types.filter((t) => t === 'NEW')).toHaveLength(14);
      expect(types.filter((t) => t === 'DESTROY')).toHaveLength(3);
    },
  );

  const ts = parseConntrackEvents(fixture('events-timestamp.txt')).value;

  it('reads the [sec.usec] timestamp; lines without it have none', () => {
    expect(ts[0]!.ts).toBeCloseTo(1795408956.882435, 6);
    expect(ts.every((e, i) => i === 0 || e.ts! >= ts[i - 1]!.ts!)).toBe(true);
    expect(
      parseConntrackEvents(fixture('events-plain.txt')).value.every((e) => e.ts === undefined),
    ).toBe(true);
  });

  it("NEW of a DNAT'ed connection: UNREPLIED, reply src = backend", () => {
    expect(ts[0]).toMatchObject({
      type: 'NEW',
      entry: {
        proto: 'tcp',
        timeout: 120,
        state: 'SYN_SENT',
        unreplied: true,
        orig: { src: '10.0.0.1', dst: '10.96.0.10', sport: 38696, dport: 80 },
        reply: { src: '10.0.0.2', dst: '10.0.0.1', sport: 8080, dport: 38696 },
      },
    });
    expect(ts[0]!.userspace).toBeUndefined();
  });

  it('DESTROY of an expired entry has no timeout (null) and keeps the final state and counters', () => {
    const e = ts.find((x) => x.type === 'DESTROY' && x.entry.timeout === null)!;
    expect(e.entry).toMatchObject({
      state: 'ESTABLISHED',
      assured: true,
      deltaTime: 7,
      origCounters: { packets: 6, bytes: 326 },
    });
  });

  it('UPDATE without a state word (status-only change after a mid-stream pickup)', () => {
    const e = ts.find(
      (x) => x.type === 'UPDATE' && x.entry.proto === 'tcp' && x.entry.state === null,
    )!;
    expect(e.entry).toMatchObject({
      timeout: 5,
      assured: false,
      unreplied: false,
      orig: { sport: 38696 },
    });
  });

  it('DESTROY by conntrack -D carries [USERSPACE] portid and a timeout', () => {
    const e = ts.find((x) => x.userspace !== undefined)!;
    expect(e.type).toBe('DESTROY');
    expect(e.userspace).toEqual({ portid: 3688245532 });
    expect(e.entry).toMatchObject({
      family: 'ipv6',
      timeout: 431990,
      orig: { src: 'fd00::1', dst: 'fd00::10' },
    });
  });

  it('-o extended,id: l3 prefix, conntrack id, ICMP id kept apart', () => {
    const ext = parseConntrackEvents(fixture('events-timestamp-extended-id.txt')).value;
    expect(ext[0]!.entry.id).toBe(3998229160);
    const icmp = ext.find((x) => x.entry.proto === 'icmp')!;
    expect(icmp.entry.icmp).toEqual({ type: 8, code: 0, id: 4660 });
    expect(icmp.entry.id).toBe(4231314659);
    const us = ext.find((x) => x.userspace)!;
    expect(us.entry.id).toBe(371863660);
    expect(us.userspace!.portid).toBe(3688245532);
    // the same flow keeps its id across expiry and pickup
    expect(ext.filter((x) => x.entry.id === 3998229160).map((x) => x.type)).toContain('DESTROY');
  });
});

describe('constructed events', () => {
  const r = parseConntrackEvents(fixture('constructed-events.txt'));

  it('parses all with no issues', () => {
    expect(r.issues).toEqual([]);
    expect(r.value).toHaveLength(5);
  });

  it('reads [start=…] [stop=…], progname, sctp, OFFLOAD and a bare [USERSPACE]', () => {
    expect(r.value[0]!.entry).toMatchObject({
      timeout: null,
      start: 'Mon Nov 23 04:42:36 2026',
      stop: 'Mon Nov 23 04:42:45 2026',
    });
    expect(r.value[1]!.userspace).toEqual({ portid: 4242, progname: 'conntrack' });
    expect(r.value[2]!.entry).toMatchObject({
      proto: 'sctp',
      state: 'COOKIE_WAIT',
      zone: 7,
      id: 3333333333,
    });
    expect(r.value[3]!.entry).toMatchObject({ timeout: null, offload: true });
    expect(r.value[4]!.userspace).toEqual({ portid: 0 });
  });
});

describe('malformed events', () => {
  it('events-malformed.txt: codes and line numbers', () => {
    const r = parseConntrackEvents(fixture('events-malformed.txt'));
    // line 3's stamp is damaged (`x` in it) but its event is whole: kept, its time unknown (issue 20)
    expect(r.value.map((e) => [e.type, e.ts])).toEqual([
      ['NEW', 1795408956.882435],
      ['NEW', undefined],
      ['NEW', undefined],
    ]);
    expect(r.issues.map((i) => [i.line, i.code])).toEqual([
      [2, 'conntrack.bad-event-type'],
      [4, 'conntrack.bad-timestamp'],
      [5, 'conntrack.bad-userspace'],
      [6, 'conntrack.bad-tuple'],
      [8, 'conntrack.bad-timestamp'],
    ]);
  });

  it('never throws on garbage, NUL bytes or a 1 MB line', () => {
    const lines = [
      '\u0000\u0000\u0000',
      '[',
      '[1',
      '[1.]\t[NEW] ',
      ' [UPDATE] ',
      '[DESTROY] [USERSPACE]',
      `    [NEW] tcp      6 1 ${'src=10.0.0.1 '.repeat(100_000)}`,
      '[NEW] tcp      6 120 SYN_SENT src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 [USERSPACE] portid=99999999999',
    ];
    for (const line of lines) {
      const out = parseConntrackEventLine(line);
      expect(out.kind).toBe('issue');
    }
    expect(
      eventOf(
        ' [UPDATE] udp      17 30 src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1',
      ).type,
    ).toBe('UPDATE');
  });
});

describe("the event prefix, read from the line's bytes", () => {
  const body =
    'ipv4     2 tcp      6 120 SYN_SENT src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2 [UNREPLIED] src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 id=7';

  it('takes the timestamp only with its ] in the first 33 characters and a tab after it', () => {
    expect(eventOf(`[1795408956.882616]\t    [NEW] ${body}`).ts).toBeCloseTo(1795408956.882616, 6);
    expect(parseConntrackEventLine(`[1${'0'.repeat(31)}]\t    [NEW] ${body}`)).toMatchObject({
      code: 'conntrack.bad-timestamp',
    });
    expect(parseConntrackEventLine(`[1795408956.882616] [NEW] ${body}`)).toMatchObject({
      code: 'conntrack.bad-timestamp',
    });
    // a stamp that is no number keeps its event, of unknown time
    expect(eventOf(`[17954089\u0130.882616]\t[NEW] ${body}`).ts).toBeUndefined();
    expect(
      eventOf(
        '[99999999999999999999.1]\t[NEW] tcp 6 1 src=10.0.0.1 dst=10.0.0.2 src=10.0.0.2 dst=10.0.0.1',
      ).ts,
    ).toBeUndefined();
    // conntrack-tools <= 1.4.6: `%-6ld` microseconds, blank-padded on the right
    expect(eventOf(`[1795408956.9041  ]\t[NEW] ${body}`).ts).toBeCloseTo(1795408956.009041, 6);
  });

  it('reads the tag however it is aligned, and [USERSPACE] with trailing spaces', () => {
    expect(eventOf(`[NEW] ${body}`).type).toBe('NEW');
    expect(eventOf(` [UPDATE] ${body}`).type).toBe('UPDATE');
    const d = eventOf(`[DESTROY] ${body} [USERSPACE] portid=42   `);
    expect(d).toMatchObject({ type: 'DESTROY', userspace: { portid: 42 }, entry: { id: 7 } });
    expect(parseConntrackEventLine(`[NEW]${body}`)).toMatchObject({
      code: 'conntrack.bad-event-type',
    });
    expect(parseConntrackEventLine(`[NEW]\u0120${body}`)).toMatchObject({
      code: 'conntrack.bad-event-type',
    });
  });
});

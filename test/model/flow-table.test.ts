import { describe, expect, it } from 'vitest';
import { FlowTable } from '../../src/model/flow-table.js';
import { TIMELINE_KIND_BIT } from '../../src/model/timeline.js';
import { T0, ct, ctSnapshot, ka, obs, sock, ssSnapshot, tableOf } from '../helpers/builders.js';

const ORIG = '10.0.0.1:42766>10.96.0.10:80';
const REPLY = '10.0.0.2:8080>10.0.0.1:42766';

describe('FlowTable join across NAT', () => {
  const clientSock = sock('10.0.0.1:42766', '10.96.0.10:80', {
    timer: ka(50_000),
    lastrcvMs: 1000,
    lastsndMs: 1000,
    lastackMs: 1000,
  });
  const serverSock = sock('10.0.0.2:8080', '10.0.0.1:42766');
  const drop = obs.probe(T0 + 3000, {
    kind: 'drop',
    reason: 'NO_SOCKET',
    location: 'tcp_v4_rcv',
    netns: 0,
    tuple: { proto: 'tcp', saddr: '10.0.0.2', sport: 8080, daddr: '10.0.0.1', dport: 42766 },
  });

  it('puts client socket, conntrack, backend socket and a drop on one flow (conntrack first)', () => {
    const t = tableOf([
      ...ctSnapshot(T0, [ct(ORIG, REPLY)]),
      ...ssSnapshot(T0 + 1000, [clientSock], 'client'),
      ...ssSnapshot(T0 + 2000, [serverSock], 'server'),
      drop,
    ]);
    expect(t.size).toBe(1);
    const f = [...t.flows()][0]!;
    expect(t.flowId(f)).toBe('tcp 10.0.0.1:42766>10.96.0.10:80');
    expect(t.backend(f)).toEqual({ addr: '10.0.0.2', port: 8080 });
    expect(f.client?.scope).toBe('client');
    expect(f.server?.scope).toBe('server');
    expect(f.timeline?.map((i) => [i.kind, i.dir])).toEqual([['drop', 'reply']]);
  });

  it('joins the same pieces when sockets and the drop come before conntrack', () => {
    const t = tableOf([
      ...ssSnapshot(T0, [serverSock], 'server'),
      ...ssSnapshot(T0 + 1000, [clientSock], 'client'),
      drop,
      ...ctSnapshot(T0 + 4000, [ct(ORIG, REPLY)]),
    ]);
    expect(t.size).toBe(1);
    const f = [...t.flows()][0]!;
    expect(f.client?.scope).toBe('client');
    expect(f.server?.scope).toBe('server');
    expect(f.timeline?.length).toBe(1);
    expect(
      t.lookup('tcp', { addr: '10.0.0.2', port: 8080 }, { addr: '10.0.0.1', port: 42766 })?.flow,
    ).toBe(f);
  });

  it('joins a masqueraded backend socket through the reply tuple destination', () => {
    const t = tableOf([
      ...ctSnapshot(T0, [ct(ORIG, '10.0.0.2:8080>192.168.1.5:61000')]),
      ...ssSnapshot(T0 + 1000, [sock('10.0.0.2:8080', '192.168.1.5:61000')], 'server'),
    ]);
    expect(t.size).toBe(1);
    expect([...t.flows()][0]!.server?.scope).toBe('server');
  });

  it('joins an IPVS connection by client and virtual address', () => {
    const t = tableOf([
      ...ctSnapshot(T0, [ct(ORIG, REPLY)]),
      obs.begin(T0, 'ipvs-conns'),
      obs.ipvsConn(T0, {
        proto: 'TCP',
        expiresSec: 800,
        state: 'ESTABLISHED',
        client: { addr: '10.0.0.1', port: 42766 },
        virtual: { addr: '10.96.0.10', port: 80 },
        dest: { addr: '10.0.0.2', port: 8080 },
        template: false,
      }),
      obs.end(T0, 'ipvs-conns'),
    ]);
    expect(t.size).toBe(1);
    expect([...t.flows()][0]!.ipvs?.expiresSec).toBe(800);
  });
});

describe('FlowTable snapshots', () => {
  it('forgets entries missing from the latest snapshot of their scope only', () => {
    const a = ct('10.0.0.1:1000>10.96.0.10:80', '10.0.0.2:8080>10.0.0.1:1000');
    const b = ct('10.0.0.1:1001>10.96.0.10:80', '10.0.0.2:8080>10.0.0.1:1001');
    const t = tableOf([
      ...ctSnapshot(T0, [a, b]),
      ...ctSnapshot(T0 + 1000, [a], 'pod'),
      ...ctSnapshot(T0 + 2000, [a]),
    ]);
    const ids = [...t.flows()].filter((f) => t.isLive(f)).map((f) => t.flowId(f));
    expect(ids).toEqual(['tcp 10.0.0.1:1000>10.96.0.10:80']);
    // b had no other source and no events: dropped from memory.
    expect(t.size).toBe(1);
    expect(t.conntrackCount()?.value).toBe(1);
  });

  it('keeps a gone flow with a live socket and records when conntrack lost it', () => {
    const a = ct('10.0.0.1:1000>10.96.0.10:80', '10.0.0.2:8080>10.0.0.1:1000');
    const t = tableOf([
      ...ctSnapshot(T0, [a]),
      ...ssSnapshot(T0, [sock('10.0.0.1:1000', '10.96.0.10:80')]),
      ...ctSnapshot(T0 + 5000, []),
    ]);
    const f = [...t.flows()][0]!;
    expect(f.ctPresent).toBe(false);
    expect(f.ctGoneT).toBe(T0 + 5000);
    expect(t.isLive(f)).toBe(true);
    expect(f.timeline?.[0]?.kind).toBe('ct-gone');
  });

  // Seen in a CI run of the lab: `cat /proc/net/nf_conntrack` began at .515 and found the table
  // empty; the connection's events (.532) reached kdiag before the snapshot's records (stamped
  // .515), and the flow was declared gone before it was born, which hid its INVALID drop.
  it('does not declare gone an entry that a conntrack event shows at or after the snapshot began', () => {
    const a = ct('10.0.0.1:1000>10.96.0.10:80', '10.0.0.2:8080>10.0.0.1:1000', {
      state: 'ESTABLISHED',
    });
    const t = tableOf([obs.event(T0 + 17, { type: 'NEW', entry: a }), ...ctSnapshot(T0, [])]);
    const f = [...t.flows()][0]!;
    expect(f.ctPresent).toBe(true);
    expect(f.ctGoneT).toBe(-1);
    expect(f.timeline?.map((i) => i.kind)).toEqual(['ct-new']);
    // The next snapshot, begun after the event, does decide.
    const t2 = tableOf([
      obs.event(T0 + 17, { type: 'NEW', entry: a }),
      ...ctSnapshot(T0, []),
      ...ctSnapshot(T0 + 2000, []),
    ]);
    const g = [...t2.flows()][0]!;
    expect(g.ctPresent).toBe(false);
    expect(g.ctGoneT).toBe(T0 + 2000);
    expect(g.timeline?.map((i) => i.kind)).toEqual(['ct-new', 'ct-gone']);
  });

  // The same race the other way: the table was read while the entry was still there, and its
  // change or DESTROY came in before the snapshot's rows.
  it("keeps what an event after the snapshot began said over that snapshot's row", () => {
    const est = ct('10.0.0.1:1000>10.96.0.10:80', '10.0.0.2:8080>10.0.0.1:1000', {
      state: 'ESTABLISHED',
      timeout: 86_400,
    });
    const fin = { ...est, state: 'FIN_WAIT', timeout: 120 };
    const t = tableOf([
      obs.event(T0 - 5000, { type: 'NEW', entry: est }),
      obs.event(T0 + 17, { type: 'UPDATE', entry: fin }),
      ...ctSnapshot(T0, [est]),
    ]);
    const f = [...t.flows()][0]!;
    expect(f.ctState).toBe('FIN_WAIT');
    expect(f.ctPresent).toBe(true);

    const gone = tableOf([
      obs.event(T0 - 5000, { type: 'NEW', entry: est }),
      obs.event(T0 + 17, { type: 'DESTROY', entry: { ...fin, state: 'TIME_WAIT', timeout: null } }),
      ...ctSnapshot(T0, [est]),
      ...ctSnapshot(T0 + 2000, []),
    ]);
    const g = [...gone.flows()][0]!;
    expect(g.ctPresent).toBe(false);
    expect(g.ctGoneT).toBe(T0 + 17);
    expect(g.ctState).toBe('TIME_WAIT');
    // Gone once, by its DESTROY: no second 'gone' from the next snapshot.
    expect(g.timeline?.map((i) => i.kind)).toEqual(['ct-new', 'ct-destroy']);
    expect(gone.conntrackCount()?.value).toBe(0);
  });

  it('re-indexes the reply tuple when a pickup re-DNATs to another backend', () => {
    const t = new FlowTable();
    t.apply(obs.entry(T0, ct('10.0.0.1:1000>10.96.0.10:80', '10.0.0.2:8080>10.0.0.1:1000')));
    t.apply(
      obs.event(T0 + 1000, {
        type: 'NEW',
        entry: ct('10.0.0.1:1000>10.96.0.10:80', '10.0.0.3:8081>10.0.0.1:1000', {
          timeout: 300,
          unreplied: true,
          assured: false,
        }),
      }),
    );
    expect(t.size).toBe(1);
    const hit = t.lookup('tcp', { addr: '10.0.0.1', port: 1000 }, { addr: '10.0.0.3', port: 8081 });
    expect(hit?.dir).toBe('reply-rev');
    expect(
      t.lookup('tcp', { addr: '10.0.0.2', port: 8080 }, { addr: '10.0.0.1', port: 1000 })?.dir,
    ).toBe('reply');
  });

  it('bounds the timeline', () => {
    const t = new FlowTable({ timelineLength: 4 });
    for (let i = 0; i < 10; i++) {
      t.apply(
        obs.probe(T0 + i, {
          kind: 'retransmit',
          state: 'ESTABLISHED',
          netns: 0,
          tuple: { proto: 'tcp', saddr: '10.0.0.1', sport: 1000, daddr: '10.0.0.9', dport: 80 },
        }),
      );
    }
    const f = [...t.flows()][0]!;
    expect(f.timeline?.length).toBe(4);
    expect(f.timeline?.[0]?.t).toBe(T0 + 6);
    expect(f.lastAct).toBe(T0 + 9);
  });

  it('remembers the kinds its timeline held, past eviction', () => {
    const t = new FlowTable({ timelineLength: 2 });
    const tuple = {
      proto: 'tcp',
      saddr: '10.0.0.1',
      sport: 1000,
      daddr: '10.0.0.9',
      dport: 80,
    } as const;
    t.apply(
      obs.probe(T0, { kind: 'drop', reason: 'NO_SOCKET', location: 'tcp_v4_rcv', netns: 0, tuple }),
    );
    for (let i = 1; i < 4; i++)
      t.apply(obs.probe(T0 + i, { kind: 'retransmit', state: 'ESTABLISHED', netns: 0, tuple }));
    const f = [...t.flows()][0]!;
    expect(f.timeline?.map((i) => i.kind)).toEqual(['retransmit', 'retransmit']);
    expect(f.timelineKinds).toBe(TIMELINE_KIND_BIT.drop | TIMELINE_KIND_BIT.retransmit);
    expect(f.timelineKinds & TIMELINE_KIND_BIT.reset).toBe(0);
  });

  it('normalises sysctl keys and keeps them per scope', () => {
    const t = tableOf([
      obs.sysctls(T0, { 'net/ipv4/tcp_keepalive_time': '60' }, 'pod'),
      obs.sysctls(T0, { 'net.ipv4.tcp_keepalive_time': '7200' }),
    ]);
    expect(t.sysctlNum('net.ipv4.tcp_keepalive_time', 'pod')).toBe(60);
    expect(t.sysctlNum('net.ipv4.tcp_keepalive_time')).toBe(7200);
  });
});

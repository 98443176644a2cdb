// Event sequences as the real kernel produced them in the lab (Linux 6.18, `kdiag trace` recordings of
// src/lab scenarios), reduced to the records the rules read.
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/engine/diagnose.js';
import type { Observation } from '../../src/model/observation.js';
import type { ProbeEvent } from '../../src/model/probe-event.js';
import { T0, ct, ctSnapshot, obs, tableOf } from '../helpers/builders.js';

const NODE = 'kdiag-lab-node';
const CLIENT = '192.0.2.10:40048';
const VIP = '203.0.113.10:80';
const BE_OLD = '198.51.100.12:8080';
const BE_NEW = '198.51.100.11:8080';
const FLOW = `tcp ${CLIENT}>${VIP}`;
const ORIG = `${CLIENT}>${VIP}`;

const split = (e: string) => {
  const i = e.lastIndexOf(':');
  return { addr: e.slice(0, i), port: Number(e.slice(i + 1)) };
};
const tuple = (from: string, to: string) => {
  const a = split(from);
  const b = split(to);
  return { proto: 'tcp', saddr: a.addr, sport: a.port, daddr: b.addr, dport: b.port };
};
const reset = (
  from: string,
  to: string,
  o: Partial<Extract<ProbeEvent, { kind: 'reset' }>> = {},
): ProbeEvent => ({
  kind: 'reset',
  direction: 'sent',
  mode: 'passive',
  reason: 'NO_SOCKET',
  state: 'UNKNOWN',
  netns: 0,
  tuple: tuple(from, to),
  ...o,
});
const received = (from: string, to: string): ProbeEvent => ({
  kind: 'reset',
  direction: 'received',
  mode: 'active',
  state: 'ESTABLISHED',
  netns: 0,
  tuple: tuple(from, to),
});
const drop = (from: string, to: string, reason = 'NETFILTER_DROP'): ProbeEvent => ({
  kind: 'drop',
  reason,
  location: 'nft_do_chain',
  netns: 0,
  tuple: tuple(from, to),
});
const rtx = (from: string, to: string): ProbeEvent => ({
  kind: 'retransmit',
  state: 'ESTABLISHED',
  netns: 0,
  tuple: tuple(from, to),
});
const scoped = (o: Observation, scope: string): Observation => ({ ...o, scope });
const ev = (
  t: number,
  type: 'NEW' | 'UPDATE' | 'DESTROY',
  entry: ReturnType<typeof ct>,
  scope = NODE,
): Observation => scoped(obs.event(t, { type, entry }), scope);
const findings = (list: Observation[]) => diagnose(tableOf(list)).findings;
const onFlow = (list: Observation[], flow = FLOW) =>
  findings(list).filter((f) => f.flows.includes(flow));

/** Handshake with established=5 in the node netns, then idle. */
const connect = (timeout = 5): Observation[] => [
  obs.sysctls(
    T0,
    {
      'net.netfilter.nf_conntrack_tcp_timeout_established': String(timeout),
      'net.netfilter.nf_conntrack_tcp_loose': '1',
    },
    NODE,
  ),
  ev(
    T0,
    'NEW',
    ct(ORIG, `${BE_OLD}>${CLIENT}`, {
      timeout: 120,
      state: 'SYN_SENT',
      unreplied: true,
      assured: false,
    }),
  ),
  ev(T0 + 1, 'UPDATE', ct(ORIG, `${BE_OLD}>${CLIENT}`, { timeout: timeout, state: 'ESTABLISHED' })),
];
const expire = (t: number): Observation =>
  ev(t, 'DESTROY', ct(ORIG, `${BE_OLD}>${CLIENT}`, { timeout: null }));
const pickup = (t: number, be = BE_NEW, timeout = 5): Observation =>
  ev(t, 'NEW', ct(ORIG, `${be}>${CLIENT}`, { timeout, unreplied: true, assured: false }));

describe('FM-1 on the real kernel: expiry, pickup to the other backend, listener RST', () => {
  // conntrack-expiry: the new backend's listener answers TCP_FLAGS at LISTEN (not NO_SOCKET); later the
  // old backend's FIN reaches the client un-NAT'ed and draws a NO_SOCKET reset from the client.
  const seq: Observation[] = [
    ...connect(),
    expire(T0 + 5560),
    pickup(T0 + 7040),
    obs.probe(T0 + 7041, reset(CLIENT, BE_NEW, { reason: 'TCP_FLAGS', state: 'LISTEN' })),
    obs.probe(T0 + 7042, received(CLIENT, VIP)),
    obs.probe(T0 + 7260, reset(BE_OLD, CLIENT)),
  ];

  it('is conntrack.established-expired, certain, naming both resets', () => {
    const f = onFlow(seq).find((x) => x.rule === 'conntrack.established-expired');
    expect(f?.confidence).toBe('certain');
    expect(f?.cause).toContain('after 5 s idle');
    expect(f?.cause).toContain(`DNAT'ed to ${BE_NEW} instead of ${BE_OLD}`);
    expect(f?.cause).toContain('its listener answered RST (TCP_FLAGS)');
    expect(f?.cause).toContain(`the client has no socket for ${BE_OLD}`);
    expect(f?.cause).toContain('idle 7.0 s when its next packet came');
  });

  it("is not conntrack.invalid-reset: the un-NAT'ed late FIN is a consequence of the expiry", () => {
    expect(onFlow(seq).map((f) => f.rule)).not.toContain('conntrack.invalid-reset');
    // The same NO_SOCKET reset without the expiry before it is FM-5.
    const fm5 = [...connect(), obs.probe(T0 + 2000, reset(BE_OLD, CLIENT))];
    expect(onFlow(fm5).map((f) => f.rule)).toContain('conntrack.invalid-reset');
  });

  it('keeps the configuration findings that predicted the death (so a replay shows what live showed)', () => {
    const probeKa: Observation = obs.probe(T0 + 2, {
      kind: 'state',
      oldState: 'SYN_SENT',
      newState: 'ESTABLISHED',
      netns: 0,
      tuple: tuple(CLIENT, VIP),
      keepalive: { enabled: false, idleSec: 0, intervalSec: 0, probes: 0 },
    });
    const rules = onFlow([probeKa, ...seq]).map((f) => f.rule);
    expect(rules).toEqual(
      expect.arrayContaining([
        'conntrack.established-expired',
        'conntrack.timeout-shorter-than-keepalive',
        'socket.keepalive-off',
      ]),
    );
  });

  it('suggests only fixes the race says save the flow: app keepalive, no longer timeout, no keepalive sysctl', () => {
    const d = diagnose(tableOf(seq));
    const f = d.findings.find((x) => x.rule === 'conntrack.established-expired');
    expect(f?.suggestions).toContain('app-keepalive');
    // Nothing refreshes the picked-up flow (no keepalive seen): a longer timeout only delays its end.
    expect(f?.suggestions).not.toContain('node-conntrack-established');
    expect(f?.suggestions.some((s) => s.includes('keepalive-time'))).toBe(false);
  });
});

describe('FM-1: the timeout stated is the one observed, not a lagging sysctl', () => {
  it('prefers the timeout conntrack set on the entry over a sysctl read before the change', () => {
    // The sysctl snapshot still says 86400 (read before the scenario set 5); the UPDATE carries 5.
    const list: Observation[] = [
      obs.sysctls(
        T0 - 1000,
        { 'net.netfilter.nf_conntrack_tcp_timeout_established': '86400' },
        NODE,
      ),
      ev(T0 + 1, 'UPDATE', ct(ORIG, `${BE_OLD}>${CLIENT}`, { timeout: 5 })),
      expire(T0 + 5560),
      pickup(T0 + 7040),
    ];
    const f = onFlow(list).find((x) => x.rule === 'conntrack.established-expired');
    expect(f?.cause).toContain('after 5 s idle');
    expect(f?.cause).not.toContain('86400');
  });

  it("uses the pickup's min(established, unacknowledged) when no entry event is left", () => {
    const list: Observation[] = [
      obs.sysctls(
        T0 - 1000,
        { 'net.netfilter.nf_conntrack_tcp_timeout_established': '86400' },
        NODE,
      ),
      ...ctSnapshot(T0, [ct(ORIG, `${BE_OLD}>${CLIENT}`, { timeout: 86400 })], NODE),
      obs.probe(T0 + 10, {
        kind: 'state',
        oldState: 'ESTABLISHED',
        newState: 'ESTABLISHED',
        netns: 0,
        tuple: tuple(CLIENT, VIP),
      }),
      expire(T0 + 5560),
      pickup(T0 + 7040),
    ];
    const f = onFlow(list).find((x) => x.rule === 'conntrack.established-expired');
    expect(f?.cause).toContain('after 5 s idle');
    expect(f?.cause).toContain('pickup');
  });

  it('states only the observed bound when every known value is contradicted', () => {
    const list: Observation[] = [
      obs.sysctls(
        T0 - 1000,
        { 'net.netfilter.nf_conntrack_tcp_timeout_established': '86400' },
        NODE,
      ),
      ...ctSnapshot(T0, [ct(ORIG, `${BE_OLD}>${CLIENT}`, { timeout: 86400 })], NODE),
      obs.probe(T0 + 10, {
        kind: 'state',
        oldState: 'ESTABLISHED',
        newState: 'ESTABLISHED',
        netns: 0,
        tuple: tuple(CLIENT, VIP),
      }),
      expire(T0 + 6000),
    ];
    const f = onFlow(list).find((x) => x.rule === 'conntrack.established-expired');
    expect(f?.cause).toContain('at most 5 s');
    expect(f?.cause).not.toContain('86400 s');
  });

  it('reads the sysctl in force at the DESTROY, not a later value', () => {
    const t = tableOf([
      obs.sysctls(T0, { 'net.netfilter.nf_conntrack_tcp_timeout_established': '86400' }, NODE),
      obs.sysctls(T0 + 2000, { 'net.netfilter.nf_conntrack_tcp_timeout_established': '5' }, NODE),
      obs.sysctls(T0 + 4000, { 'net.netfilter.nf_conntrack_tcp_timeout_established': '5' }, NODE),
      obs.sysctls(
        T0 + 9000,
        { 'net.netfilter.nf_conntrack_tcp_timeout_established': '86400' },
        NODE,
      ),
    ]);
    const key = 'net.netfilter.nf_conntrack_tcp_timeout_established';
    expect(t.sysctlAt(key, NODE, T0 + 5000)?.value).toBe('5');
    expect(t.sysctlAt(key, NODE, T0 + 1000)?.value).toBe('86400');
    expect(t.sysctlAt(key, NODE, T0 + 9500)?.value).toBe('86400');
    expect(t.sysctlHistory(key, NODE).map((s) => s.value)).toEqual(['86400', '5', '86400']);
  });
});

describe("server-push-after-expiry: the backend's packet is picked up as a flow of its own", () => {
  const seq: Observation[] = [
    ...connect(),
    expire(T0 + 5140),
    ev(
      T0 + 7010,
      'NEW',
      ct(`${BE_OLD}>${CLIENT}`, undefined, { timeout: 5, unreplied: true, assured: false }),
    ),
    ev(
      T0 + 7011,
      'DESTROY',
      ct(`${BE_OLD}>${CLIENT}`, undefined, {
        timeout: 5,
        state: 'CLOSE',
        unreplied: true,
        assured: false,
      }),
    ),
    obs.probe(T0 + 7012, reset(BE_OLD, CLIENT)),
    pickup(T0 + 7013, BE_OLD),
    obs.probe(T0 + 7014, reset(CLIENT, BE_OLD, { reason: 'TCP_FLAGS', state: 'LISTEN' })),
    obs.probe(T0 + 7015, received(CLIENT, VIP)),
  ];

  it("joins the reverse pickup and the client's NO_SOCKET reset to the client's flow", () => {
    const t = tableOf(seq);
    const flows = [...t.flows()].map((f) => t.flowId(f));
    expect(flows).toEqual([FLOW]);
    const f = [...t.flows()][0];
    // The reverse entry's DESTROY (CLOSE) is not the client entry's: the client's pickup is what is current.
    expect(f?.ctState).toBe('ESTABLISHED');
    expect(f?.ctUnreplied).toBe(true);
    expect(f?.timeline?.some((i) => i.kind === 'ct-new' && i.dir === 'reply')).toBe(true);
  });

  it('is established-expired (certain), not invalid-reset', () => {
    const rules = onFlow(seq);
    expect(rules.find((f) => f.rule === 'conntrack.established-expired')?.confidence).toBe(
      'certain',
    );
    expect(rules.find((f) => f.rule === 'conntrack.established-expired')?.cause).toContain(
      'without reverse NAT',
    );
    expect(rules.map((f) => f.rule)).not.toContain('conntrack.invalid-reset');
  });
});

describe('FM-7 on the real kernel: retransmissions clamp the timeout and the entry expires', () => {
  const seq: Observation[] = [
    obs.sysctls(
      T0,
      {
        'net.netfilter.nf_conntrack_tcp_timeout_established': '86400',
        'net.netfilter.nf_conntrack_tcp_timeout_unacknowledged': '2',
        'net.netfilter.nf_conntrack_tcp_timeout_max_retrans': '2',
      },
      NODE,
    ),
    ev(T0, 'UPDATE', ct(ORIG, `${BE_NEW}>${CLIENT}`, { timeout: 86400 })),
    obs.probe(T0 + 250, rtx(CLIENT, VIP)),
    obs.probe(T0 + 1710, rtx(CLIENT, VIP)),
    obs.probe(T0 + 3370, rtx(CLIENT, VIP)),
    obs.probe(T0 + 6700, rtx(CLIENT, VIP)),
    ev(T0 + 6701, 'DESTROY', ct(ORIG, `${BE_NEW}>${CLIENT}`, { timeout: null })),
    pickup(T0 + 6702, BE_OLD, 2),
    obs.probe(T0 + 6703, reset(CLIENT, BE_OLD, { reason: 'TCP_FLAGS', state: 'LISTEN' })),
  ];

  it('is conntrack.clamped-unacked on the flow, and established-expired defers to it', () => {
    const rules = onFlow(seq);
    const f = rules.find((x) => x.id === `conntrack.clamped-unacked:${FLOW}`);
    expect(f?.confidence).toBe('certain');
    expect(f?.cause).toContain('after 2 s without an acknowledgement');
    expect(f?.cause).not.toContain('86400');
    expect(rules.map((x) => x.rule)).not.toContain('conntrack.established-expired');
    expect(rules.map((x) => x.rule)).not.toContain('socket.keepalive-off');
  });

  it('sees the clamp from the retransmissions while the flow is still alive', () => {
    const live = seq.slice(0, 4);
    const f = diagnose(tableOf(live), { now: T0 + 1800 }).findings.find(
      (x) => x.rule === 'conntrack.clamped-unacked',
    );
    expect(f?.flows).toEqual([FLOW]);
    expect(f?.id).toBe(`conntrack.clamped-unacked:unacknowledged:tcp ${VIP}`);
  });
});

describe('conntrack.suspicious-300s only for a remaining timeout a 300 s clamp explains', () => {
  const base = (remaining: number, idleMs: number): Observation[] => [
    obs.sysctls(T0, { 'net.netfilter.nf_conntrack_tcp_timeout_established': '86400' }, NODE),
    obs.probe(T0 + 100_000 - idleMs, {
      kind: 'state',
      oldState: 'ESTABLISHED',
      newState: 'ESTABLISHED',
      netns: 0,
      tuple: tuple(CLIENT, VIP),
    }),
    ...ctSnapshot(T0 + 100_000, [ct(ORIG, `${BE_OLD}>${CLIENT}`, { timeout: remaining })], NODE),
  ];
  const sus = (list: Observation[]) =>
    findings(list).filter((f) => f.rule === 'conntrack.suspicious-300s');

  it('does not fire for 5 s left after 3 s idle (a short sysctl read late, not a clamp)', () => {
    expect(sus(base(5, 3000))).toEqual([]);
  });

  it('fires for 290 s left after 10 s idle, with an id naming the Service', () => {
    const [f] = sus(base(290, 10_000));
    expect(f?.id).toBe(`conntrack.suspicious-300s:suspicious:tcp ${VIP}`);
    expect(f?.flows).toEqual([FLOW]);
  });

  it('does not fire when the state timeout itself is 300 s or less', () => {
    const list = base(290, 10_000);
    list[0] = obs.sysctls(
      T0,
      { 'net.netfilter.nf_conntrack_tcp_timeout_established': '300' },
      NODE,
    );
    expect(sus(list)).toEqual([]);
  });
});

describe('conntrack.invalid-dropped only while the entry existed, in the conntrack netns', () => {
  const dropped: Observation[] = [
    ...connect(86400),
    scoped(obs.probe(T0 + 170, drop(BE_OLD, CLIENT)), NODE),
    ev(T0 + 1920, 'UPDATE', ct(ORIG, `${BE_OLD}>${CLIENT}`, { timeout: 120, state: 'TIME_WAIT' })),
  ];

  it('still fires after the flow closed normally (replay sees what live saw)', () => {
    expect(onFlow(dropped).map((f) => f.rule)).toContain('conntrack.invalid-dropped');
  });

  it('ignores drops after an expiry (FM-1 with loose=0) and drops in another netns (a middlebox)', () => {
    const loose0: Observation[] = [
      ...connect(),
      obs.sysctls(T0 + 2, { 'net.netfilter.nf_conntrack_tcp_loose': '0' }, NODE),
      expire(T0 + 5030),
      scoped(obs.probe(T0 + 7080, drop(CLIENT, VIP)), NODE),
      obs.probe(T0 + 7210, rtx(CLIENT, VIP)),
    ];
    const rules = onFlow(loose0).map((f) => f.rule);
    expect(rules).not.toContain('conntrack.invalid-dropped');
    expect(rules).toContain('conntrack.expired-blackhole');
    const mbox = [
      ...connect(86400),
      scoped(obs.probe(T0 + 4000, drop(CLIENT, VIP)), 'kdiag-lab-mbox'),
    ];
    expect(onFlow(mbox).map((f) => f.rule)).not.toContain('conntrack.invalid-dropped');
  });
});

describe('FM-4 from the events: the CLOSE_WAIT entry expired and the late FIN was lost', () => {
  it('fires (certain) after the socket left CLOSE-WAIT', () => {
    const list: Observation[] = [
      ...connect(86400),
      ev(T0 + 60, 'UPDATE', ct(ORIG, `${BE_OLD}>${CLIENT}`, { timeout: 3, state: 'CLOSE_WAIT' })),
      ev(
        T0 + 3780,
        'DESTROY',
        ct(ORIG, `${BE_OLD}>${CLIENT}`, { timeout: null, state: 'CLOSE_WAIT' }),
      ),
      scoped(obs.probe(T0 + 5120, drop(CLIENT, VIP)), NODE),
      obs.probe(T0 + 5220, rtx(CLIENT, VIP)),
    ];
    const f = onFlow(list).find((x) => x.rule === 'conntrack.close-wait-expired');
    expect(f?.confidence).toBe('certain');
    expect(f?.cause).toContain('after 3 s in CLOSE_WAIT');
    expect(onFlow(list).map((x) => x.rule)).not.toContain('conntrack.invalid-dropped');
  });
});

describe('FM-11 on the real kernel: a middlebox drops keepalive probes, the kernel resets', () => {
  it('fires although conntrack moved to FIN_WAIT just after (probe times are late by up to a second)', () => {
    const list: Observation[] = [
      ...connect(86400),
      ...Array.from({ length: 10 }, (_, i) =>
        scoped(obs.probe(T0 + 3600 + i * 1000, drop(CLIENT, VIP)), 'kdiag-lab-mbox'),
      ),
      obs.probe(T0 + 13_840, {
        kind: 'reset',
        direction: 'sent',
        mode: 'active',
        reason: 'TCP_KEEPALIVE_TIMEOUT',
        state: 'ESTABLISHED',
        netns: 0,
        tuple: tuple(CLIENT, VIP),
      }),
      ev(
        T0 + 13_700,
        'UPDATE',
        ct(ORIG, `${BE_OLD}>${CLIENT}`, { timeout: 120, state: 'FIN_WAIT' }),
      ),
      ev(
        T0 + 13_910,
        'UPDATE',
        ct(ORIG, `${BE_OLD}>${CLIENT}`, { timeout: 30, state: 'LAST_ACK' }),
      ),
    ];
    const f = onFlow(list).find((x) => x.rule === 'path.idle-reset');
    expect(f?.cause).toContain('dropped in kdiag-lab-mbox');
    expect(f?.confidence).toBe('likely');
    expect(onFlow(list).map((x) => x.rule)).not.toContain('conntrack.invalid-dropped');
  });
});

describe('predictions on short timeouts', () => {
  it('predict the idle client flow with conntrack first, and never a flow keepalive refreshes', () => {
    const idle: Observation[] = [
      ...connect(),
      obs.probe(T0 + 2, {
        kind: 'state',
        oldState: 'SYN_SENT',
        newState: 'ESTABLISHED',
        netns: 0,
        tuple: tuple(CLIENT, VIP),
        keepalive: { enabled: false, idleSec: 0, intervalSec: 0, probes: 0 },
      }),
      ...ctSnapshot(T0 + 3000, [ct(ORIG, `${BE_OLD}>${CLIENT}`, { timeout: 2 })], NODE),
    ];
    const p = diagnose(tableOf(idle), { now: T0 + 3000 }).predictions;
    expect(p.map((x) => [x.flow, x.layer])).toEqual([[FLOW, 'conntrack']]);
    const kept: Observation[] = [
      ...idle.slice(0, 3),
      obs.probe(T0 + 2, {
        kind: 'state',
        oldState: 'SYN_SENT',
        newState: 'ESTABLISHED',
        netns: 0,
        tuple: tuple(CLIENT, VIP),
        keepalive: { enabled: true, idleSec: 1, intervalSec: 1, probes: 3 },
      }),
      ...ctSnapshot(T0 + 3000, [ct(ORIG, `${BE_OLD}>${CLIENT}`, { timeout: 5 })], NODE),
    ];
    expect(diagnose(tableOf(kept), { now: T0 + 3000 }).predictions).toEqual([]);
  });
});

describe('conntrack.table-near-full in a traced netns', () => {
  it('reads the netns count and drop counter', () => {
    const list: Observation[] = [
      obs.sysctls(
        T0,
        {
          'net.netfilter.nf_conntrack_max': '262144',
          'net.netfilter.nf_conntrack_count': '262144',
        },
        NODE,
      ),
      scoped(obs.stats(T0, { drop: 0, early_drop: 0 }), NODE),
      scoped(obs.stats(T0 + 5000, { drop: 4, early_drop: 0 }), NODE),
    ];
    const f = findings(list).find((x) => x.rule === 'conntrack.table-near-full');
    expect(f?.id).toBe(`conntrack.table-near-full:${NODE}`);
    expect(f?.confidence).toBe('certain');
  });
});

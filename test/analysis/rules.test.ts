import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/engine/diagnose.js';
import type { Observation } from '../../src/model/observation.js';
import type { ProbeEvent } from '../../src/model/probe-event.js';
import {
  T0,
  ct,
  ctSnapshot,
  ipvsConn,
  kubeProxy,
  obs,
  ruleset,
  sock,
  ssSnapshot,
  tableOf,
} from '../helpers/builders.js';
import { ipvsScenario } from '../helpers/ipvs-scenario.js';

const rst = (
  saddr: string,
  sport: number,
  daddr: string,
  dport: number,
  extra: Partial<Extract<ProbeEvent, { kind: 'reset' }>> = {},
): ProbeEvent => ({
  kind: 'reset',
  direction: 'sent',
  mode: 'passive',
  reason: 'NO_SOCKET',
  state: 'UNKNOWN',
  netns: 0,
  tuple: { proto: 'tcp', saddr, sport, daddr, dport },
  ...extra,
});
const rules = (list: Observation[], opts = {}) => diagnose(tableOf(list), opts).findings;
const byRule = (list: Observation[], rule: string, opts = {}) =>
  rules(list, opts).filter((f) => f.rule === rule);

describe('FM-1 conntrack.established-expired (events)', () => {
  const orig = '10.0.0.1:37818>10.96.0.10:80';
  const base: Observation[] = [
    obs.sysctls(T0, { 'net.netfilter.nf_conntrack_tcp_timeout_established': '5' }),
    obs.entry(T0, ct(orig, '10.0.0.2:8080>10.0.0.1:37818', { timeout: 5 })),
  ];
  const destroy = obs.event(
    T0 + 7000,
    { type: 'DESTROY', entry: ct(orig, '10.0.0.2:8080>10.0.0.1:37818', { timeout: null }) },
    '[1795407467.064126]\t[DESTROY] tcp      6 ESTABLISHED src=10.0.0.1 dst=10.96.0.10 sport=37818 dport=80 src=10.0.0.2 dst=10.0.0.1 sport=8080 dport=37818 [ASSURED]',
  );
  const pickup = obs.event(
    T0 + 15000,
    {
      type: 'NEW',
      entry: ct(orig, '10.0.0.3:8081>10.0.0.1:37818', {
        timeout: 5,
        unreplied: true,
        assured: false,
      }),
    },
    '[1795407475.478983]\t    [NEW] tcp      6 5 ESTABLISHED src=10.0.0.1 dst=10.96.0.10 sport=37818 dport=80 [UNREPLIED] src=10.0.0.3 dst=10.0.0.1 sport=8081 dport=37818',
  );
  const reset = obs.probe(
    T0 + 15001,
    rst('10.0.0.1', 37818, '10.0.0.3', 8081),
    'RST-OUT reason=1 state=0 trigger 10.0.0.1:37818 -> 10.0.0.3:8081',
  );

  it('is certain with DESTROY, re-DNAT to another backend and a NO_SOCKET reset', () => {
    const [f] = byRule([...base, destroy, pickup, reset], 'conntrack.established-expired');
    expect(f?.confidence).toBe('certain');
    expect(f?.severity).toBe('critical');
    expect(f?.cause).toContain('after 5 s idle');
    expect(f?.cause).toContain("DNAT'ed to 10.0.0.3:8081 instead of 10.0.0.2:8080");
    expect(f?.flows).toEqual(['tcp 10.0.0.1:37818>10.96.0.10:80']);
    expect(f?.evidence.map((e) => e.text)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('[DESTROY]'),
        expect.stringContaining('[NEW]'),
        'RST sent passive 10.0.0.1:37818 > 10.0.0.3:8081 NO_SOCKET state UNKNOWN',
      ]),
    );
    expect(f?.suggestions[0]).toBe('app-keepalive');
  });

  it('does not fire for a userspace delete ([USERSPACE], timeout present)', () => {
    const del = obs.event(T0 + 7000, {
      type: 'DESTROY',
      userspace: { portid: 1 },
      entry: ct(orig, '10.0.0.2:8080>10.0.0.1:37818', { timeout: 431998 }),
    });
    expect(byRule([...base, del, pickup], 'conntrack.established-expired')).toEqual([]);
  });

  it('does not fire for a TIME_WAIT entry expiring normally', () => {
    const tw = obs.event(T0 + 7000, {
      type: 'DESTROY',
      entry: ct(orig, '10.0.0.2:8080>10.0.0.1:37818', { timeout: null, state: 'TIME_WAIT' }),
    });
    expect(byRule([...base, tw], 'conntrack.established-expired')).toEqual([]);
  });

  it('with loose=0, retransmits after the expiry are a black hole', () => {
    const rtx = obs.probe(T0 + 20000, {
      kind: 'retransmit',
      state: 'ESTABLISHED',
      netns: 0,
      tuple: { proto: 'tcp', saddr: '10.0.0.1', sport: 37818, daddr: '10.96.0.10', dport: 80 },
    });
    const list = [
      obs.sysctls(T0, { 'net.netfilter.nf_conntrack_tcp_loose': '0' }),
      ...base,
      destroy,
      rtx,
    ];
    expect(byRule(list, 'conntrack.expired-blackhole')[0]?.fm).toBe('FM-1');
    expect(byRule([...base, destroy, rtx], 'conntrack.expired-blackhole')).toEqual([]);
  });

  it('says the segments are dropped only where a rule drops INVALID', () => {
    // kube-proxy's nftables mode installs no INVALID DROP rule: such segments pass, without their NAT.
    const rtx = obs.probe(T0 + 20000, {
      kind: 'retransmit',
      state: 'ESTABLISHED',
      netns: 0,
      tuple: { proto: 'tcp', saddr: '10.0.0.1', sport: 37818, daddr: '10.96.0.10', dport: 80 },
    });
    const loose0 = obs.sysctls(T0, { 'net.netfilter.nf_conntrack_tcp_loose': '0' });
    const cause = (rules: Observation[]) =>
      byRule([loose0, ...rules, ...base, destroy, rtx], 'conntrack.expired-blackhole')[0]?.cause;
    expect(cause([obs.iptables(T0, ruleset({ kubeProxyChains: false }))])).toContain(
      'INVALID and pass, since no rule here drops INVALID, but leave without their NAT',
    );
    const drop = ruleset({
      invalidDropRules: [{ table: 'filter', chain: 'KUBE-FORWARD', hook: 'FORWARD', line: 3 }],
    });
    expect(cause([obs.iptables(T0, drop)])).toContain('INVALID and are dropped');
    // No ruleset read: kdiag keeps the usual case (iptables mode drops them).
    expect(cause([])).toContain('INVALID and are dropped');
  });
});

describe('FM-2 ipvs.conn-expired (events)', () => {
  const client = '10.244.1.7:53124';
  const vip = '10.96.0.1:443';
  const setup: Observation[] = [
    obs.kubeProxy(T0, kubeProxy({ mode: 'ipvs' })),
    obs.ipvsServices(T0, [
      {
        proto: 'TCP',
        addr: '10.96.0.1',
        port: 443,
        scheduler: 'rr',
        flags: [],
        realServers: [
          {
            addr: '172.18.0.2',
            port: 6443,
            forward: 'Masq',
            weight: 1,
            activeConn: 1,
            inactConn: 0,
          },
        ],
      },
    ]),
    obs.entry(T0, ct(`${client}>${vip}`, `172.18.0.2:6443>10.244.1.7:53124`)),
  ];
  const kill = obs.event(T0 + 900_000, {
    type: 'DESTROY',
    entry: ct(`${client}>${vip}`, `172.18.0.2:6443>10.244.1.7:53124`, { timeout: 85500 }),
  });
  const reset = obs.probe(T0 + 1_000_000, rst('10.244.1.7', 53124, '10.96.0.1', 443));

  it('is certain with the IPVS-expiry DESTROY and a RST from the VIP', () => {
    const [f] = byRule([...setup, kill, reset], 'ipvs.conn-expired');
    expect(f?.confidence).toBe('certain');
    expect(f?.cause).toContain('IPVS forgets this flow after 900 s (15 min) idle');
    expect(f?.cause).toContain('answered RST from the ClusterIP');
  });

  it('does not fire for a userspace delete, nor in iptables mode', () => {
    const del = obs.event(T0 + 900_000, {
      type: 'DESTROY',
      userspace: { portid: 7 },
      entry: ct(`${client}>${vip}`, `172.18.0.2:6443>10.244.1.7:53124`, { timeout: 85500 }),
    });
    expect(byRule([...setup, del], 'ipvs.conn-expired')).toEqual([]);
    const ipt = setup.map((o) =>
      o.kind === 'kube-proxy' ? obs.kubeProxy(T0, kubeProxy({ mode: 'iptables' })) : o,
    );
    expect(byRule([...ipt, kill, reset], 'ipvs.conn-expired')).toEqual([]);
  });
});

describe('FM-5 INVALID', () => {
  const flow: Observation[] = [
    obs.sysctls(T0, { 'net.netfilter.nf_conntrack_tcp_be_liberal': '0' }),
    obs.iptables(T0, ruleset()),
    obs.stats(T0, { invalid: 0 }),
    obs.entry(T0, ct('10.0.0.1:56942>10.96.0.10:80', '10.0.0.2:8080>10.0.0.1:56942')),
    obs.stats(T0 + 5000, { invalid: 4 }),
  ];
  const rstFromBackend = obs.probe(
    T0 + 4000,
    rst('10.0.0.2', 8080, '10.0.0.1', 56942),
    'RST-OUT reason=1 state=0 trigger 10.0.0.2:8080 -> 10.0.0.1:56942',
  );

  it('conntrack.invalid-reset: a NO_SOCKET reset triggered by the un-NATed backend reply', () => {
    const [f] = byRule([...flow, rstFromBackend], 'conntrack.invalid-reset');
    expect(f?.confidence).toBe('certain');
    expect(f?.cause).toContain('source 10.0.0.2:8080 instead of 10.96.0.10:80');
    expect(f?.cause).toContain('invalid rose by 4');
    expect(f?.suggestions).toEqual([
      'node-conntrack-be-liberal',
      'node-invalid-drop-forward',
      'kube-proxy-conntrack-be-liberal',
    ]);
  });

  it('conntrack.invalid-reset does not fire on a normal reset in the client direction of an un-NATed flow', () => {
    const list: Observation[] = [
      obs.entry(T0, ct('10.0.0.1:5000>10.0.0.9:80', undefined)),
      obs.probe(T0 + 1, rst('10.0.0.9', 80, '10.0.0.1', 5000)),
    ];
    expect(byRule(list, 'conntrack.invalid-reset')).toEqual([]);
  });

  it('conntrack.invalid-drop-rule-missing: no DROP rule and be_liberal=0, not when be_liberal=1', () => {
    expect(byRule(flow, 'conntrack.invalid-drop-rule-missing')[0]?.severity).toBe('critical');
    const liberal = [
      ...flow,
      obs.sysctls(T0 + 1, { 'net.netfilter.nf_conntrack_tcp_be_liberal': '1' }),
    ];
    expect(byRule(liberal, 'conntrack.invalid-drop-rule-missing')).toEqual([]);
  });

  it('conntrack.invalid-dropped: NETFILTER_DROP on an established flow with the rule present and invalid rising', () => {
    const withRule = flow.map((o) =>
      o.kind === 'iptables'
        ? obs.iptables(
            T0,
            ruleset({
              invalidDropRules: [
                { table: 'filter', chain: 'KUBE-FORWARD', hook: 'FORWARD', line: 12 },
              ],
            }),
          )
        : o,
    );
    const drop = obs.probe(T0 + 4000, {
      kind: 'drop',
      reason: 'NETFILTER_DROP',
      location: 'nf_hook_slow',
      netns: 0,
      tuple: { proto: 'tcp', saddr: '10.0.0.2', sport: 8080, daddr: '10.0.0.1', dport: 56942 },
    });
    const [f] = byRule([...withRule, drop], 'conntrack.invalid-dropped');
    expect(f?.confidence).toBe('certain');
    expect(f?.severity).toBe('info');
    expect(byRule(withRule, 'conntrack.invalid-dropped')).toEqual([]);
    expect(byRule(withRule, 'conntrack.invalid-drop-rule-missing')).toEqual([]);
  });
});

describe('FM-3 / FM-4 half-closed flows', () => {
  it('ipvs.fin-timeout-half-closed: IPVS FIN_WAIT with a socket still in CLOSE-WAIT', () => {
    const list: Observation[] = [
      obs.kubeProxy(T0, kubeProxy({ mode: 'ipvs' })),
      obs.ipvsTimeouts(T0, 900, 120, 300),
      obs.ipvsConn(
        T0 + 1000,
        ipvsConn('10.244.1.7:53100', '10.96.0.1:443', '172.18.0.2:6443', 'FIN_WAIT', 100),
      ),
      obs.socket(
        T0 + 1000,
        sock('10.244.1.7:53100', '10.96.0.1:443', { state: 'CLOSE-WAIT' }),
        'client',
      ),
    ];
    const [f] = byRule(list, 'ipvs.fin-timeout-half-closed');
    expect(f?.fm).toBe('FM-3');
    expect(f?.suggestions).toContain('ipvs-tcpfin-timeout');
    const healthy = list.map((o) =>
      o.kind === 'ipvs-conn'
        ? obs.ipvsConn(
            T0 + 1000,
            ipvsConn('10.244.1.7:53100', '10.96.0.1:443', '172.18.0.2:6443', 'ESTABLISHED', 800),
          )
        : o,
    );
    expect(byRule(healthy, 'ipvs.fin-timeout-half-closed')).toEqual([]);
  });

  it('conntrack.close-wait-expired: the entry is gone while the socket stays in CLOSE-WAIT', () => {
    const e = ct('10.0.0.1:6000>10.96.0.10:80', '10.0.0.2:8080>10.0.0.1:6000', {
      state: 'CLOSE_WAIT',
      timeout: 30,
    });
    const list: Observation[] = [
      obs.sysctls(T0, { 'net.netfilter.nf_conntrack_tcp_timeout_close_wait': '60' }),
      ...ctSnapshot(T0, [e]),
      ...ssSnapshot(
        T0,
        [
          sock('10.0.0.1:6000', '10.96.0.10:80', {
            state: 'CLOSE-WAIT',
            lastsndMs: 30_000,
            lastrcvMs: 30_000,
          }),
        ],
        'client',
      ),
      ...ctSnapshot(T0 + 120_000, []),
    ];
    const [f] = byRule(list, 'conntrack.close-wait-expired');
    expect(f?.confidence).toBe('certain');
    expect(f?.cause).toContain('after 60 s in CLOSE_WAIT');
    expect(f?.suggestions).toEqual([
      'node-conntrack-close-wait',
      'kube-proxy-conntrack-close-wait',
    ]);
    // Still present and idle 5 s of 60 s: the application closes in time.
    const fresh = [
      list[0]!,
      ...ctSnapshot(T0, [e]),
      ...ssSnapshot(
        T0,
        [
          sock('10.0.0.1:6000', '10.96.0.10:80', {
            state: 'CLOSE-WAIT',
            lastsndMs: 5000,
            lastrcvMs: 5000,
          }),
        ],
        'client',
      ),
    ];
    expect(byRule(fresh, 'conntrack.close-wait-expired')).toEqual([]);
  });
});

describe('FM-6 / FM-7 300 s clamps', () => {
  it('conntrack.clamped-unacked: unacknowledged data clamps ESTABLISHED to 300 s', () => {
    const list: Observation[] = [
      obs.sysctls(T0, { 'net.netfilter.nf_conntrack_tcp_timeout_established': '86400' }),
      ...ctSnapshot(T0, [
        ct('10.0.0.1:7000>10.96.0.10:80', '10.0.0.2:8080>10.0.0.1:7000', { timeout: 250 }),
      ]),
      ...ssSnapshot(
        T0,
        [
          sock('10.0.0.1:7000', '10.96.0.10:80', {
            sendQ: 4096,
            timer: { name: 'on', remainingMs: 2000, count: 1 },
            lastsndMs: 50_000,
            lastrcvMs: 50_000,
            lastackMs: 50_000,
          }),
        ],
        'client',
      ),
    ];
    const [f] = byRule(list, 'conntrack.clamped-unacked');
    expect(f?.cause).toContain(
      'only 300 s (5 min) idle because data is sent and not acknowledged; it expires in 250 s',
    );
    expect(f?.suggestions).toEqual(['node-conntrack-unacknowledged']);
  });

  it('conntrack.suspicious-300s: an ASSURED entry refreshed to 300 s without another explanation', () => {
    const list: Observation[] = [
      obs.sysctls(T0, { 'net.netfilter.nf_conntrack_tcp_timeout_established': '86400' }),
      ...ctSnapshot(T0, [
        ct('10.0.0.1:7001>10.96.0.10:80', '10.0.0.2:8080>10.0.0.1:7001', { timeout: 299 }),
      ]),
    ];
    expect(byRule(list, 'conntrack.suspicious-300s')[0]?.fm).toBe('FM-6');
    const normal = [
      list[0]!,
      ...ctSnapshot(T0, [
        ct('10.0.0.1:7001>10.96.0.10:80', '10.0.0.2:8080>10.0.0.1:7001', { timeout: 86399 }),
      ]),
    ];
    expect(byRule(normal, 'conntrack.suspicious-300s')).toEqual([]);
  });
});

describe('FM-8 conntrack.table-near-full', () => {
  it('fires at 95% of nf_conntrack_max and not at 50%', () => {
    const full = [
      obs.sysctls(T0, {
        'net.netfilter.nf_conntrack_max': '1000',
        'net.netfilter.nf_conntrack_count': '950',
      }),
    ];
    const [f] = byRule(full, 'conntrack.table-near-full');
    expect(f?.cause).toContain('950 entries of nf_conntrack_max 1000 (95%)');
    expect(f?.suggestions).toEqual(['node-conntrack-max', 'kube-proxy-conntrack-max']);
    expect(
      byRule(
        [
          obs.sysctls(T0, {
            'net.netfilter.nf_conntrack_max': '1000',
            'net.netfilter.nf_conntrack_count': '500',
          }),
        ],
        'conntrack.table-near-full',
      ),
    ).toEqual([]);
  });

  it('is critical and certain when the kernel logs table full', () => {
    const [f] = byRule(
      [obs.meta(T0, 'kernel-log', 'nf_conntrack: nf_conntrack: table full, dropping packet')],
      'conntrack.table-near-full',
    );
    expect(f).toMatchObject({ severity: 'critical', confidence: 'certain' });
  });
});

describe('FM-9 conntrack.stale-udp', () => {
  const svc = {
    namespace: 'kube-system',
    name: 'kube-dns',
    portName: 'dns',
    clusterIP: '10.96.0.10',
    port: 53,
    proto: 'udp',
    endpoints: [{ addr: '10.244.0.3', port: 53 }],
  };
  const udp = (backend: string) =>
    ct('10.0.0.1:35604>10.96.0.10:53', `${backend}>10.0.0.1:35604`, {
      proto: 'udp',
      protonum: 17,
      state: null,
      timeout: 28,
      assured: false,
    });
  it("fires for an entry DNAT'ed to an endpoint that is gone", () => {
    const [f] = byRule(
      [obs.iptables(T0, ruleset({ services: [svc] })), ...ctSnapshot(T0, [udp('10.244.0.9:53')])],
      'conntrack.stale-udp',
    );
    expect(f?.cause).toContain('kube-system/kube-dns:dns point at 10.244.0.9:53');
    expect(f?.suggestions).toEqual(['node-flush-stale-udp-10.96.0.10-53']);
  });
  it('does not fire when the backend is a current endpoint', () => {
    expect(
      byRule(
        [obs.iptables(T0, ruleset({ services: [svc] })), ...ctSnapshot(T0, [udp('10.244.0.3:53')])],
        'conntrack.stale-udp',
      ),
    ).toEqual([]);
  });
});

describe('FM-10 ipvs.weight-zero-active', () => {
  const svc = (weight: number) =>
    obs.ipvsServices(T0, [
      {
        proto: 'TCP',
        addr: '10.96.0.20',
        port: 80,
        scheduler: 'rr',
        flags: [],
        realServers: [
          { addr: '10.244.2.9', port: 80, forward: 'Masq', weight, activeConn: 3, inactConn: 1 },
        ],
      },
    ]);
  it('fires for a weight-0 real server with connections, warning with conn_reuse_mode=0', () => {
    const [f] = byRule(
      [svc(0), obs.sysctls(T0, { 'net.ipv4.vs.conn_reuse_mode': '0' })],
      'ipvs.weight-zero-active',
    );
    expect(f).toMatchObject({ fm: 'FM-10', severity: 'warning' });
    expect(f?.suggestions).toEqual(['node-ipvs-conn-reuse-mode']);
    expect(byRule([svc(1)], 'ipvs.weight-zero-active')).toEqual([]);
  });
  it('ipvs.conn-reuse: conn_reuse_mode=1 on a 5.4 kernel', () => {
    const list = [
      obs.kubeProxy(T0, kubeProxy({ mode: 'ipvs' })),
      obs.sysctls(T0, { 'net.ipv4.vs.conn_reuse_mode': '1' }),
      obs.meta(T0, 'kernel-release', '5.4.0-150-generic'),
    ];
    expect(byRule(list, 'ipvs.conn-reuse')[0]?.fm).toBe('FM-10');
    expect(
      byRule([...list.slice(0, 2), obs.meta(T0, 'kernel-release', '6.1.0')], 'ipvs.conn-reuse'),
    ).toEqual([]);
  });
});

describe('FM-11 path', () => {
  const flow = (idleSec: number, kaSec?: number): Observation[] => [
    ...(kaSec ? [obs.sysctls(T0, { 'net.ipv4.tcp_keepalive_time': String(kaSec) }, 'app')] : []),
    ...ctSnapshot(T0 + 1_000_000, [
      ct('10.0.0.1:5555>52.1.2.3:443', '52.1.2.3:443>192.168.1.5:61000', {
        timeout: 86400 - idleSec,
      }),
    ]),
    ...ssSnapshot(
      T0 + 1_000_000,
      [
        sock('10.0.0.1:5555', '52.1.2.3:443', {
          ...(kaSec
            ? {
                timer: {
                  name: 'keepalive' as const,
                  remainingMs: (kaSec - idleSec) * 1000,
                  count: 0,
                },
              }
            : {}),
          lastsndMs: idleSec * 1000,
          lastrcvMs: idleSec * 1000,
          lastackMs: idleSec * 1000,
        }),
      ],
      'app',
    ),
    obs.sysctls(T0, { 'net.netfilter.nf_conntrack_tcp_timeout_established': '86400' }),
  ];
  it('path.idle-timeout: the AWS NAT gateway forgets a flow whose keepalive fires at 7200 s', () => {
    const [f] = byRule(flow(200, 7200), 'path.idle-timeout', { cloud: 'aws-nat' });
    expect(f?.cause).toBe(
      'The cloud idle timer forgets this flow after 350 s idle (--cloud aws-nat (AWS NAT gateway idle timeout)); it has been idle 200 s; its keepalive fires at 7200 s (2 h). Then it forgets the flow silently and answers its next packet with RST (ECONNRESET).',
    );
    expect(f?.suggestions).toEqual([
      'app-keepalive',
      'pod-keepalive-time',
      'external-idle-timeout',
    ]);
  });
  it('path.idle-timeout does not apply AWS NAT to private destinations, nor fire with keepalive 60 s', () => {
    expect(byRule(flow(200, 60), 'path.idle-timeout', { cloud: 'aws-nat' })).toEqual([]);
    expect(byRule(flow(200, 7200), 'path.idle-timeout', {})).toEqual([]);
  });
  it('path.idle-reset: a reset from the remote after 352 s idle while conntrack is ESTABLISHED', () => {
    const list: Observation[] = [
      obs.entry(T0, ct('10.0.0.1:5555>52.1.2.3:443', '52.1.2.3:443>192.168.1.5:61000')),
      obs.probe(T0 + 1000, {
        kind: 'retransmit',
        state: 'ESTABLISHED',
        netns: 0,
        tuple: { proto: 'tcp', saddr: '10.0.0.1', sport: 5555, daddr: '52.1.2.3', dport: 443 },
      }),
      obs.probe(T0 + 353_000, {
        kind: 'reset',
        direction: 'received',
        mode: 'active',
        netns: 0,
        tuple: { proto: 'tcp', saddr: '10.0.0.1', sport: 5555, daddr: '52.1.2.3', dport: 443 },
      }),
    ];
    const [f] = byRule(list, 'path.idle-reset');
    expect(f?.cause).toContain('after 352 s idle (matches aws-nlb 350 s)');
    expect(f?.confidence).toBe('likely');
    const destroyed: Observation[] = [
      list[0]!,
      obs.event(T0 + 2000, {
        type: 'DESTROY',
        entry: ct('10.0.0.1:5555>52.1.2.3:443', '52.1.2.3:443>192.168.1.5:61000', {
          timeout: null,
        }),
      }),
      list[1]!,
      list[2]!,
    ];
    expect(byRule(destroyed, 'path.idle-reset')).toEqual([]);
  });
});

describe('FM-12 keepalive', () => {
  const trap: Observation[] = [
    obs.sysctls(T0, { 'net.netfilter.nf_conntrack_tcp_timeout_established': '86400' }),
    obs.sysctls(T0, { 'net.ipv4.tcp_keepalive_time': '60' }, 'app'),
    ...ctSnapshot(T0 + 50_000_000, [
      ct('10.0.0.1:5000>10.96.0.20:5432', '10.0.0.7:5432>10.0.0.1:5000', { timeout: 56400 }),
    ]),
    ...ssSnapshot(
      T0 + 50_000_000,
      [
        sock('10.0.0.1:5000', '10.96.0.20:5432', {
          lastsndMs: 30_000_000,
          lastrcvMs: 30_000_000,
          lastackMs: 30_000_000,
        }),
      ],
      'app',
    ),
  ];
  it('the trap: a netns keepalive sysctl does nothing for a socket without SO_KEEPALIVE', () => {
    const d = diagnose(tableOf(trap));
    const f = d.findings.find((x) => x.rule === 'socket.keepalive-off');
    expect(f?.cause).toContain('never enabled SO_KEEPALIVE');
    expect(f?.cause).toContain('net.ipv4.tcp_keepalive_time = 60 in netns app does not apply');
    expect(f?.suggestions).toEqual(['app-keepalive']);
    expect(
      d.suggestions.some(
        (s) =>
          s.id.startsWith('pod-keepalive') ||
          s.id === 'node-keepalive-time' ||
          s.id === 'node-conntrack-established',
      ),
    ).toBe(false);
  });
  it('socket.keepalive-off does not fire on a healthy keepalive socket', () => {
    expect(byRule(ipvsScenario({ kaTime: 60, idleSec: 20 }), 'socket.keepalive-off')).toEqual([]);
  });
  it('socket.keepalive-too-long: keepalive 7200 s against IPVS 900 s', () => {
    const [f] = byRule(ipvsScenario({ kaTime: 7200, idleSec: 600 }), 'socket.keepalive-too-long');
    expect(f?.cause).toContain('sends keepalive only after 7200 s (2 h) idle');
    expect(
      byRule(ipvsScenario({ kaTime: 600, idleSec: 100 }), 'socket.keepalive-too-long'),
    ).toEqual([]);
  });
});

describe('kube-proxy', () => {
  it('kube-proxy.drift: 1.22–1.28 leave the kernel 432000 s in place', () => {
    const list = [
      obs.kubeProxy(T0, kubeProxy()),
      obs.meta(T0, 'kube-proxy-version', 'v1.25.3'),
      obs.sysctls(T0, {
        'net.netfilter.nf_conntrack_tcp_timeout_established': '432000',
        'net.netfilter.nf_conntrack_tcp_timeout_close_wait': '3600',
      }),
    ];
    const fs = byRule(list, 'kube-proxy.drift');
    expect(fs).toHaveLength(1);
    expect(fs[0]?.cause).toContain('kube-proxy v1.25.3 only raises this sysctl');
    expect(fs[0]?.severity).toBe('info');
  });
  it('kube-proxy.drift: a lowered close_wait is a warning with a fix; matching values are silent', () => {
    const list = [
      obs.kubeProxy(T0, kubeProxy()),
      obs.sysctls(T0, {
        'net.netfilter.nf_conntrack_tcp_timeout_established': '86400',
        'net.netfilter.nf_conntrack_tcp_timeout_close_wait': '60',
      }),
    ];
    const [f] = byRule(list, 'kube-proxy.drift');
    expect(f).toMatchObject({
      fm: 'FM-4',
      severity: 'warning',
      suggestions: ['node-conntrack-close-wait', 'kube-proxy-conntrack-close-wait'],
    });
    expect(
      byRule(
        [
          list[0]!,
          obs.sysctls(T0, {
            'net.netfilter.nf_conntrack_tcp_timeout_established': '86400',
            'net.netfilter.nf_conntrack_tcp_timeout_close_wait': '3600',
          }),
        ],
        'kube-proxy.drift',
      ),
    ).toEqual([]);
  });
  it('kube-proxy.flags-ignored: flags beside --config', () => {
    const kp = kubeProxy({
      configPath: '/var/lib/kube-proxy/config.conf',
      ignoredFlags: ['--conntrack-tcp-timeout-established=2h'],
    });
    const d = diagnose(tableOf([obs.kubeProxy(T0, kp)]));
    const f = d.findings.find((x) => x.rule === 'kube-proxy.flags-ignored');
    expect(f?.cause).toContain('ignores --conntrack-tcp-timeout-established=2h');
    const s = d.suggestions.find((x) => x.id === 'kube-proxy-flags-to-config');
    expect(s?.commands[0]?.text).toContain('conntrack:\n  tcpEstablishedTimeout: 2h');
    expect(diagnose(tableOf([obs.kubeProxy(T0, kubeProxy())])).findings).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/engine/diagnose.js';
import { T0, ct, ctSnapshot, obs, sock, ssSnapshot, tableOf } from '../helpers/builders.js';
import { ipvsScenario } from '../helpers/ipvs-scenario.js';

const TIMEOUT_RULES = [
  'conntrack.timeout-shorter-than-keepalive',
  'ipvs.idle-timeout-shorter-than-keepalive',
  'path.idle-timeout',
  'socket.keepalive-off',
  'socket.keepalive-too-long',
];

describe('healthy scenarios', () => {
  it('keepalive 60 s under conntrack 86400 s and IPVS 900 s: safe, nothing flagged or predicted', () => {
    const d = diagnose(tableOf(ipvsScenario({ kaTime: 60, idleSec: 20 })));
    expect(d.findings).toEqual([]);
    expect(d.predictions).toEqual([]);
    expect(d.flows).toHaveLength(1);
    expect(d.flows[0]?.keepalive).toMatchObject({ enabled: true, idleSec: 60 });
    expect(d.flows[0]?.firstToForget).toBeUndefined();
  });

  it('short request/response flows that closed (TIME_WAIT, no socket left): no timeout finding', () => {
    // They are left out because they are closed, not because they were idle only 2 s (issue 19).
    const entries = [1, 2, 3].map((i) =>
      ct(`10.0.0.1:${40000 + i}>10.96.0.10:80`, `10.0.0.2:8080>10.0.0.1:${40000 + i}`, {
        state: 'TIME_WAIT',
        timeout: 118,
      }),
    );
    const d = diagnose(
      tableOf([
        obs.sysctls(T0, { 'net.netfilter.nf_conntrack_tcp_timeout_established': '86400' }),
        ...ctSnapshot(T0 + 10_000, entries),
        ...ssSnapshot(T0 + 10_000, [], 'client'),
      ]),
    );
    expect(d.findings.filter((f) => TIMEOUT_RULES.includes(f.rule))).toEqual([]);
    expect(d.predictions).toEqual([]);
  });

  it('the same flows still open with no keepalive are at risk however short their idle (no idle threshold)', () => {
    const entries = [1, 2, 3].map((i) =>
      ct(`10.0.0.1:${40000 + i}>10.96.0.10:80`, `10.0.0.2:8080>10.0.0.1:${40000 + i}`, {
        timeout: 86398,
      }),
    );
    const socks = [1, 2, 3].map((i) =>
      sock(`10.0.0.1:${40000 + i}`, '10.96.0.10:80', {
        lastsndMs: 2000,
        lastrcvMs: 2000,
        lastackMs: 2000,
      }),
    );
    const d = diagnose(
      tableOf([
        obs.sysctls(T0, { 'net.netfilter.nf_conntrack_tcp_timeout_established': '86400' }),
        ...ctSnapshot(T0 + 10_000, entries),
        ...ssSnapshot(T0 + 10_000, socks, 'client'),
      ]),
    );
    expect(d.predictions.map((p) => [p.flow, p.breaksInSec])).toEqual(
      [1, 2, 3].map((i) => [`tcp 10.0.0.1:${40000 + i}>10.96.0.10:80`, 86398]),
    );
    expect(d.findings.map((f) => f.rule)).toContain('socket.keepalive-off');
  });
});

describe('FM-2 ipvs.idle-timeout-shorter-than-keepalive', () => {
  const d = diagnose(tableOf(ipvsScenario({ kaTime: 7200, idleSec: 600 })));
  const f = d.findings.find((x) => x.rule === 'ipvs.idle-timeout-shorter-than-keepalive');

  it('fires with the three numbers in one sentence', () => {
    expect(f).toBeDefined();
    expect(f?.fm).toBe('FM-2');
    expect(f?.cause).toBe(
      'IPVS forgets this flow after 900 s (15 min) idle (ipvsadm -Ln --timeout); it has been idle 600 s (10 min); its keepalive fires at 7200 s (2 h).',
    );
    expect(f?.flows).toEqual(['tcp 10.0.0.1:42766>10.96.0.10:80']);
    expect(f?.confidence).toBe('certain');
    expect(f?.evidence.map((e) => e.text)).toContain('Timeout (tcp tcpfin udp): 900 120 300');
    expect(f?.evidence.some((e) => e.text === 'net.ipv4.tcp_keepalive_time = 7200')).toBe(true);
  });

  it('suggests app keepalive, the pod sysctl, IPVS and kube-proxy values, smallest blast radius first', () => {
    expect(f?.suggestions).toEqual([
      'app-keepalive',
      'pod-keepalive-time',
      'ipvs-tcp-timeout',
      'kube-proxy-ipvs-tcp-timeout',
    ]);
    const ipvs = d.suggestions.find((s) => s.id === 'ipvs-tcp-timeout');
    expect(ipvs?.change).toEqual({ kind: 'ipvs-timeout', tcp: 8100, tcpfin: 0, udp: 0 });
    const pod = d.suggestions.find((s) => s.id === 'pod-keepalive-time');
    expect(pod?.change).toEqual({
      kind: 'sysctl',
      key: 'net.ipv4.tcp_keepalive_time',
      value: '600',
      netns: 'client',
    });
  });

  it('does not raise the conntrack timeout (conntrack is not the first layer)', () => {
    expect(d.findings.some((x) => x.rule === 'conntrack.timeout-shorter-than-keepalive')).toBe(
      false,
    );
    expect(d.suggestions.some((s) => s.id === 'node-conntrack-established')).toBe(false);
  });

  it('predicts the break at the IPVS layer', () => {
    expect(d.predictions).toEqual([
      expect.objectContaining({
        flow: 'tcp 10.0.0.1:42766>10.96.0.10:80',
        layer: 'ipvs',
        timeoutSec: 900,
        idleSec: 600,
        breaksInSec: 300,
      }),
    ]);
  });

  it('is silent in iptables mode: IPVS timers do not apply there', () => {
    const list = ipvsScenario({ kaTime: 7200, idleSec: 600 }).map((o) =>
      o.kind === 'kube-proxy'
        ? { ...o, settings: { ...o.settings, mode: 'iptables' as const } }
        : o,
    );
    const d2 = diagnose(tableOf(list));
    expect(d2.findings.some((x) => x.rule.startsWith('ipvs.'))).toBe(false);
    expect(d2.suggestions.some((s) => s.scope === 'ipvs')).toBe(false);
  });
});

describe('FM-1 conntrack.timeout-shorter-than-keepalive', () => {
  it('fires when conntrack 600 s is below keepalive 7200 s, and proposes a timeout above keepalive', () => {
    const d = diagnose(
      tableOf([
        obs.sysctls(T0, { 'net.netfilter.nf_conntrack_tcp_timeout_established': '600' }),
        obs.sysctls(T0, { 'net.ipv4.tcp_keepalive_time': '7200' }, 'app'),
        ...ctSnapshot(T0 + 580_000, [
          ct('10.0.0.1:5000>10.96.0.20:5432', '10.0.0.7:5432>10.0.0.1:5000', { timeout: 20 }),
        ]),
        ...ssSnapshot(
          T0 + 580_000,
          [
            sock('10.0.0.1:5000', '10.96.0.20:5432', {
              timer: { name: 'keepalive', remainingMs: 6_620_000, count: 0 },
              lastrcvMs: 580_000,
              lastsndMs: 580_000,
              lastackMs: 580_000,
            }),
          ],
          'app',
        ),
      ]),
    );
    const f = d.findings.find((x) => x.rule === 'conntrack.timeout-shorter-than-keepalive');
    expect(f?.cause).toBe(
      'Conntrack forgets this flow after 600 s (10 min) idle (sysctl net.netfilter.nf_conntrack_tcp_timeout_established); it has been idle 580 s; its keepalive fires at 7200 s (2 h).',
    );
    expect(f?.severity).toBe('critical');
    const node = d.suggestions.find((s) => s.id === 'node-conntrack-established');
    expect(node?.change).toEqual({
      kind: 'sysctl',
      key: 'net.netfilter.nf_conntrack_tcp_timeout_established',
      value: '8100',
    });
    expect(node?.commands[1]?.text).toBe(
      'net.netfilter.nf_conntrack_tcp_timeout_established = 8100',
    );
    expect(d.suggestions.find((s) => s.id === 'app-keepalive')?.title).toContain('idle 300 s');
    expect(d.predictions[0]).toMatchObject({ layer: 'conntrack', breaksInSec: 20 });
  });
});

describe('predictions', () => {
  it('ranks flows by time to break and leaves out safe and gone flows', () => {
    const list = [
      ...ipvsScenario({ kaTime: 7200, idleSec: 100, port: 1001 }),
      ...ipvsScenario({ kaTime: 7200, idleSec: 800, port: 1002 }).slice(5),
      ...ipvsScenario({ kaTime: 7200, idleSec: 400, port: 1003 }).slice(5),
    ];
    // Each scenario re-snapshots conntrack/ipvs/ss; only the last snapshot counts, so merge them by hand.
    const merged = list.filter((o) => o.kind !== 'snapshot-begin' && o.kind !== 'snapshot-end');
    const d = diagnose(tableOf(merged));
    expect(d.predictions.map((p) => [p.flow, p.breaksInSec])).toEqual([
      ['tcp 10.0.0.1:1002>10.96.0.10:80', 100],
      ['tcp 10.0.0.1:1003>10.96.0.10:80', 500],
      ['tcp 10.0.0.1:1001>10.96.0.10:80', 800],
    ]);
    expect(d.flows.map((f) => f.id).slice(0, 3)).toEqual(d.predictions.map((p) => p.flow));
  });

  it('does not predict a flow that left every source', () => {
    const list = [
      ...ipvsScenario({ kaTime: 7200, idleSec: 600 }),
      ...ctSnapshot(T0 + 2_000_000, []),
      obs.begin(T0 + 2_000_000, 'ipvs-conns'),
      obs.end(T0 + 2_000_000, 'ipvs-conns'),
      ...ssSnapshot(T0 + 2_000_000, [], 'client'),
    ];
    const d = diagnose(tableOf(list));
    expect(d.predictions).toEqual([]);
  });
});

describe('determinism', () => {
  it('gives an identical Diagnosis for the same observations', () => {
    const a = diagnose(tableOf(ipvsScenario({ kaTime: 7200, idleSec: 600 })));
    const b = diagnose(tableOf(ipvsScenario({ kaTime: 7200, idleSec: 600 })));
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.at).toBe(T0 + 1_000_000);
  });
});

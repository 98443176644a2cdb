import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/engine/diagnose.js';
import { friendlyAbove, keepalivePlan } from '../../src/suggest/values.js';
import { T0, ct, ctSnapshot, obs, sock, ssSnapshot, tableOf } from '../helpers/builders.js';
import { ipvsScenario } from '../helpers/ipvs-scenario.js';

describe('values', () => {
  it('keeps keepalive idle ≤ budget − interval × probes, rounded down to a friendly value', () => {
    expect(keepalivePlan(900, { intervalSec: 75, probes: 9 })).toEqual({
      idleSec: 600,
      intervalSec: 45,
      probes: 5,
      budgetSec: 900,
    });
    expect(keepalivePlan(350, { intervalSec: 75, probes: 9 })).toEqual({
      idleSec: 240,
      intervalSec: 15,
      probes: 5,
      budgetSec: 350,
    });
    expect(keepalivePlan(240, { intervalSec: 75, probes: 9 }).idleSec).toBe(180);
    for (const b of [60, 240, 300, 350, 600, 900, 1200, 86400]) {
      const p = keepalivePlan(b, { intervalSec: 75, probes: 9 });
      expect(p.idleSec + p.intervalSec * p.probes).toBeLessThanOrEqual(b);
    }
  });
  it('raises timeouts strictly above the keepalive span', () => {
    expect(friendlyAbove(7875)).toBe(8100);
    expect(friendlyAbove(600)).toBe(660);
  });
});

describe('suggestions', () => {
  const d = diagnose(tableOf(ipvsScenario({ kaTime: 7200, idleSec: 600 })));
  it('are ranked by blast radius and name the findings they fix', () => {
    expect(d.suggestions.map((s) => [s.id, s.scope, s.rank])).toEqual([
      ['app-keepalive', 'socket', 1],
      ['pod-keepalive-time', 'pod', 2],
      ['ipvs-tcp-timeout', 'ipvs', 4],
      ['kube-proxy-ipvs-tcp-timeout', 'kube-proxy', 5],
    ]);
    const ids = d.findings.map((f) => f.id);
    for (const s of d.suggestions) for (const f of s.fixes) expect(ids).toContain(f);
  });
  it('give exact snippets and patches', () => {
    const app = d.suggestions.find((s) => s.id === 'app-keepalive');
    const text = app?.commands.map((c) => c.text).join('\n') ?? '';
    expect(text).toContain(
      'net.KeepAliveConfig{Enable: true, Idle: 600 * time.Second, Interval: 45 * time.Second, Count: 5}',
    );
    expect(text).toContain('socket.setKeepAlive(true);');
    expect(text).toContain('ExtendedSocketOptions.TCP_KEEPIDLE, 600');
    expect(text).toContain('s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)');
    expect(text).toContain('socket.setKeepAlive(true, 600000);');
    const pod = d.suggestions.find((s) => s.id === 'pod-keepalive-time');
    expect(pod?.commands[0]?.text).toContain(
      '- name: net.ipv4.tcp_keepalive_time\n      value: "600"',
    );
    const kp = d.suggestions.find((s) => s.id === 'kube-proxy-ipvs-tcp-timeout');
    expect(kp?.commands.map((c) => c.text)).toEqual([
      'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nipvs:\n  tcpTimeout: 8100s',
      '--ipvs-tcp-timeout=8100s',
      'kubectl -n kube-system rollout restart daemonset/kube-proxy',
    ]);
    expect(kp?.warnings.join(' ')).toContain('Flags beside --config are ignored');
    expect(kp?.warnings.join(' ')).toContain('only at start');
    expect(kp?.change).toBeUndefined();
  });
  it('suggest the node keepalive sysctl only for host-netns sockets with SO_KEEPALIVE', () => {
    const host = diagnose(
      tableOf([
        obs.sysctls(T0, {
          'net.netfilter.nf_conntrack_tcp_timeout_established': '600',
          'net.ipv4.tcp_keepalive_time': '7200',
        }),
        ...ctSnapshot(T0, [ct('10.0.0.1:5000>10.0.0.9:5432', undefined, { timeout: 250 })]),
        ...ssSnapshot(T0, [
          sock('10.0.0.1:5000', '10.0.0.9:5432', {
            timer: { name: 'keepalive', remainingMs: 6_850_000, count: 0 },
            lastsndMs: 350_000,
            lastrcvMs: 350_000,
            lastackMs: 350_000,
          }),
        ]),
      ]),
    );
    const node = host.suggestions.find((s) => s.id === 'node-keepalive-time');
    expect(node?.change).toEqual({
      kind: 'sysctl',
      key: 'net.ipv4.tcp_keepalive_time',
      value: '300',
    });
    expect(node?.commands[1]?.text).toBe('net.ipv4.tcp_keepalive_time = 300');
    expect(host.suggestions.some((s) => s.id.startsWith('pod-'))).toBe(false);
    // Pod sockets never get the node sysctl.
    expect(d.suggestions.some((s) => s.id === 'node-keepalive-time')).toBe(false);
  });
  it('never raise a layer timeout for flows without keepalive (no finite timeout fixes them)', () => {
    const off = diagnose(tableOf(ipvsScenario({ kaTime: 7200, idleSec: 600, keepalive: false })));
    expect(off.findings.some((f) => f.rule === 'socket.keepalive-off')).toBe(true);
    expect(off.suggestions.map((s) => s.id)).toEqual(['app-keepalive']);
  });
});

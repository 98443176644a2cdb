// Each socket is judged by the keepalive sysctls of its own netns, and a value kdiag did not read
// (the kernel default) never outranks the ss keepalive timer it did read.
import { describe, expect, it } from 'vitest';
import { buildPathContext } from '../../../src/analysis/path/context.js';
import { flowKeepalive } from '../../../src/analysis/path/keepalive.js';
import { T0, ka, obs, sock, ssSnapshot, tableOf } from '../../helpers/builders.js';

const KA = 'net.ipv4.tcp_keepalive_time';

function keepalives(list: Parameters<typeof tableOf>[0]) {
  const t = tableOf(list);
  const ctx = buildPathContext(t, {});
  return new Map(
    [...t.flows()].map((f) => [
      f.client?.local.port ?? f.server?.local.port ?? 0,
      flowKeepalive(ctx, f),
    ]),
  );
}

describe('keepalive per network namespace', () => {
  it('takes each socket’s tcp_keepalive_time from its own netns, not the node’s', () => {
    const k = keepalives([
      obs.sysctls(T0, { [KA]: '7200' }),
      obs.sysctls(T0, { [KA]: '60', 'net.ipv4.tcp_keepalive_intvl': '10' }, 'pod-a'),
      obs.sysctls(T0, { [KA]: '600' }, 'pod-b'),
      ...ssSnapshot(
        T0,
        [sock('10.0.1.1:40000', '10.96.0.10:80', { timer: ka(50_000), lastrcvMs: 9_000 })],
        'pod-a',
      ),
      ...ssSnapshot(
        T0,
        [sock('10.0.2.1:40001', '10.96.0.10:80', { timer: ka(500_000), lastrcvMs: 90_000 })],
        'pod-b',
      ),
    ]);
    expect(k.get(40000)).toMatchObject({ state: 'on', idleSec: 60, intervalSec: 10 });
    expect(k.get(40000)?.source).toContain('netns pod-a');
    expect(k.get(40001)).toMatchObject({ state: 'on', idleSec: 600, intervalSec: 75 });
    expect(k.get(40001)?.source).toContain('netns pod-b');
  });

  it('keeps the ss timer when the netns sysctl was not read, even near the kernel default', () => {
    // 6,900 s seen: within 10% of the kernel's 7,200 s, which kdiag never read in this netns.
    const k = keepalives([
      obs.sysctls(T0, { [KA]: '60' }),
      ...ssSnapshot(
        T0,
        [sock('10.0.1.1:40000', '10.96.0.10:80', { timer: ka(6_890_000), lastrcvMs: 10_000 })],
        'pod-a',
      ),
    ]);
    expect(k.get(40000)).toMatchObject({
      state: 'on',
      idleSec: 6900,
      source: 'client socket: ss keepalive timer (largest remaining seen)',
    });
  });

  it('prefers the ss timer to an unread default when the probe says SO_KEEPALIVE with the netns value', () => {
    const k = keepalives([
      ...ssSnapshot(T0, [
        sock('10.0.0.1:40000', '10.0.0.9:80', { timer: ka(290_000), lastrcvMs: 10_000 }),
      ]),
      obs.probe(T0 + 1, {
        kind: 'state',
        oldState: 'SYN_SENT',
        newState: 'ESTABLISHED',
        netns: 0,
        tuple: { proto: 'tcp', saddr: '10.0.0.1', sport: 40000, daddr: '10.0.0.9', dport: 80 },
        keepalive: { enabled: true, idleSec: 0, intervalSec: 0, probes: 0 },
      }),
    ]);
    expect(k.get(40000)).toMatchObject({ state: 'on', idleSec: 300 });
    expect(k.get(40000)?.source).toContain('ss keepalive timer');
    expect(k.get(40000)?.source).not.toContain('not read');
  });

  it('uses the read sysctl with the probe', () => {
    const k = keepalives([
      obs.sysctls(T0, { [KA]: '300' }),
      obs.probe(T0, {
        kind: 'state',
        oldState: 'SYN_SENT',
        newState: 'ESTABLISHED',
        netns: 0,
        tuple: { proto: 'tcp', saddr: '10.0.0.1', sport: 40000, daddr: '10.0.0.9', dport: 80 },
        keepalive: { enabled: true, idleSec: 0, intervalSec: 0, probes: 0 },
      }),
    ]);
    expect(k.get(40000)).toMatchObject({ state: 'on', idleSec: 300 });
  });
});

import { describe, expect, it } from 'vitest';
import {
  buildPathContext,
  isRaiseOnlyKubeProxy,
  sysctlInForce,
} from '../../../src/analysis/path/context.js';
import { pathTimeouts } from '../../../src/analysis/path/path-timeouts.js';
import { CT_TCP_TIMEOUTS } from '../../../src/model/kernel-defaults.js';
import {
  T0,
  ct,
  ctSnapshot,
  kubeProxy,
  obs,
  sock,
  ssSnapshot,
  tableOf,
} from '../../helpers/builders.js';

const EST = CT_TCP_TIMEOUTS.ESTABLISHED!;

describe('path timeouts', () => {
  it('reads idle from conntrack remaining vs the full timeout', () => {
    const t = tableOf([
      obs.sysctls(T0, { [EST.sysctl]: '86400' }),
      ...ctSnapshot(T0 + 100_000, [ct('10.0.0.1:1>10.0.0.2:80', undefined, { timeout: 86000 })]),
    ]);
    const p = pathTimeouts(buildPathContext(t, {}), [...t.flows()][0]!);
    expect(p.idleSec).toBe(400);
    expect(p.first).toMatchObject({ layer: 'conntrack', timeoutSec: 86400, leftSec: 86000 });
    expect(p.keepalive.state).toBe('unknown');
    expect(p.safe).toBe(false);
  });

  it('clamps a mid-stream pickup ([UNREPLIED] ESTABLISHED) to 300 s', () => {
    const t = tableOf([
      ...ctSnapshot(T0, [
        ct('10.0.0.1:1>10.96.0.1:80', '10.0.0.3:80>10.0.0.1:1', {
          timeout: 300,
          unreplied: true,
          assured: false,
        }),
      ]),
    ]);
    const p = pathTimeouts(buildPathContext(t, {}), [...t.flows()][0]!);
    expect(p.first).toMatchObject({
      layer: 'conntrack',
      timeoutSec: 300,
      clamp: 'mid-stream-pickup',
    });
  });

  it('infers keepalive from the ss timer and applies the netns sysctl only to SO_KEEPALIVE sockets', () => {
    const t = tableOf([
      obs.sysctls(T0, { 'net.ipv4.tcp_keepalive_time': '120' }, 'a'),
      ...ssSnapshot(
        T0,
        [
          sock('10.0.0.1:40000', '10.0.0.9:80', {
            timer: { name: 'keepalive', remainingMs: 100_000, count: 0 },
            lastrcvMs: 20_000,
          }),
          sock('10.0.0.1:40001', '10.0.0.9:80'),
        ],
        'a',
      ),
    ]);
    const ctx = buildPathContext(t, {});
    const [on, off] = [...t.flows()].map((f) => pathTimeouts(ctx, f));
    expect(on?.keepalive).toMatchObject({ state: 'on', idleSec: 120 });
    expect(off?.keepalive.state).toBe('off');
  });

  it('uses the probe keepalive of the socket, with 0 meaning the netns sysctl', () => {
    const t = tableOf([
      obs.sysctls(T0, { 'net.ipv4.tcp_keepalive_time': '300' }),
      obs.probe(T0, {
        kind: 'state',
        oldState: 'SYN_SENT',
        newState: 'ESTABLISHED',
        netns: 0,
        tuple: { proto: 'tcp', saddr: '10.0.0.1', sport: 40000, daddr: '10.0.0.9', dport: 80 },
        keepalive: { enabled: true, idleSec: 0, intervalSec: 0, probes: 0 },
      }),
    ]);
    const p = pathTimeouts(buildPathContext(t, {}), [...t.flows()][0]!);
    expect(p.keepalive).toMatchObject({ state: 'on', idleSec: 300, intervalSec: 75, probes: 9 });
  });

  it('knows kube-proxy 1.22–1.28 only raise sysctls', () => {
    expect(isRaiseOnlyKubeProxy('v1.25.3')).toBe(true);
    expect(isRaiseOnlyKubeProxy('v1.29.0')).toBe(false);
    const t = tableOf([
      obs.kubeProxy(T0, kubeProxy()),
      obs.meta(T0, 'kube-proxy-version', 'v1.27.1'),
    ]);
    expect(sysctlInForce(buildPathContext(t, {}), EST, undefined).value).toBe(432000);
    const t2 = tableOf([
      obs.kubeProxy(T0, kubeProxy()),
      obs.meta(T0, 'kube-proxy-version', 'v1.30.0'),
    ]);
    expect(sysctlInForce(buildPathContext(t2, {}), EST, undefined).value).toBe(86400);
  });

  it('adds the path idle timeout from the option or the meta record', () => {
    const t = tableOf([
      obs.meta(T0, 'path-idle-timeout', '350s'),
      ...ctSnapshot(T0, [ct('10.0.0.1:1>10.0.0.2:80', undefined)]),
    ]);
    const p = pathTimeouts(buildPathContext(t, {}), [...t.flows()][0]!);
    expect(p.first).toMatchObject({ layer: 'path', timeoutSec: 350 });
  });
});

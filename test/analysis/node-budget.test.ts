import { describe, expect, it } from 'vitest';
import {
  kernelDefault,
  nodeBudget,
  NO_FLOWS_NOTE,
  type BudgetValue,
} from '../../src/analysis/budget/node-budget.js';

const read = (value: number, source: string): BudgetValue => ({ value, source, read: true });
const codes = (ms: { code: string; netns: string }[]) => ms.map((m) => `${m.code}@${m.netns}`);

describe('nodeBudget', () => {
  it('a consistent node has no mismatch', () => {
    const ms = nodeBudget({
      host: {
        netns: 'host',
        keepaliveTime: read(300, 'sysctl'),
        ctEstablished: read(86400, 'sysctl'),
        ctCloseWait: read(3600, 'sysctl'),
      },
      netns: [{ netns: 'pod-a', keepaliveTime: read(300, 'sysctl (netns pod-a)') }],
      ipvs: { tcp: read(900, 'ipvsadm'), tcpfin: read(120, 'ipvsadm'), udp: read(300, 'ipvsadm') },
      kubeProxy: {
        tcpEstablishedTimeout: read(86400, 'kube-proxy configmap'),
        tcpCloseWaitTimeout: read(3600, 'kube-proxy configmap'),
      },
      pathIdle: { name: 'cloud NAT', ...read(350, 'preset') },
    });
    expect(ms).toEqual([]);
  });

  it('IPVS 900 s below the kernel keepalive 7200 s, per netns, with both sources', () => {
    const ms = nodeBudget({
      host: { netns: 'host', keepaliveTime: read(7200, 'sysctl net.ipv4.tcp_keepalive_time') },
      netns: [{ netns: 'pod-a', keepaliveTime: read(7200, 'sysctl (netns pod-a)') }],
      ipvs: {
        tcp: read(900, 'ipvsadm -Ln --timeout'),
        tcpfin: read(120, 'ipvsadm'),
        udp: read(300, 'ipvsadm'),
      },
    });
    expect(codes(ms)).toEqual(['ipvs-below-keepalive@host', 'ipvs-below-keepalive@pod-a']);
    expect(ms[0]).toMatchObject({
      short: { value: 900, source: 'ipvsadm -Ln --timeout' },
      against: { value: 7200, source: 'sysctl net.ipv4.tcp_keepalive_time' },
      read: true,
      note: NO_FLOWS_NOTE,
    });
    expect(NO_FLOWS_NOTE).toBe('no flows in the input, so no per-flow prediction');
  });

  it('a node keepalive change that never reached an existing pod netns', () => {
    const ms = nodeBudget({
      host: {
        netns: 'host',
        keepaliveTime: read(600, 'sysctl'),
        ctEstablished: read(3600, 'sysctl'),
      },
      netns: [
        { netns: 'pod-a', keepaliveTime: read(7200, 'sysctl (netns pod-a)') },
        { netns: 'pod-b', keepaliveTime: read(600, 'sysctl (netns pod-b)') },
      ],
    });
    expect(codes(ms)).toEqual([
      'ct-established-below-keepalive@pod-a',
      'keepalive-not-in-netns@pod-a',
    ]);
    expect(ms[1]!.text).toContain('does not reach an existing netns');
  });

  it('a pod keepalive set on purpose (not the kernel default) is not a missed node change', () => {
    const ms = nodeBudget({
      host: { netns: 'host', keepaliveTime: read(600, 'sysctl'), ctEstablished: read(86400, 's') },
      netns: [{ netns: 'pod-a', keepaliveTime: read(60, 'sysctl (netns pod-a)') }],
    });
    expect(ms).toEqual([]);
  });

  it('conntrack below what kube-proxy intends, and CLOSE_WAIT below its default', () => {
    const ms = nodeBudget({
      host: {
        netns: 'host',
        keepaliveTime: read(300, 'sysctl'),
        ctEstablished: read(7200, 'sysctl'),
        ctCloseWait: read(60, 'sysctl'),
      },
      netns: [],
      kubeProxy: {
        tcpEstablishedTimeout: read(86400, 'kube-proxy --conntrack-tcp-timeout-established'),
      },
    });
    expect(codes(ms)).toEqual([
      'ct-established-below-kube-proxy@host',
      'ct-close-wait-below-kube-proxy@host',
    ]);
    // kube-proxy's CLOSE_WAIT value was not given: its default stands in, so the mismatch is not "read".
    expect(ms[1]).toMatchObject({ read: false, against: { value: 3600, read: false } });
  });

  it('a path idle timer below keepalive', () => {
    const ms = nodeBudget({
      host: { netns: 'host', keepaliveTime: read(7200, 'sysctl'), ctEstablished: read(86400, 's') },
      netns: [],
      pathIdle: { name: 'AWS NLB', ...read(350, 'cloud preset') },
    });
    expect(ms).toHaveLength(1);
    expect(ms[0]).toMatchObject({
      code: 'path-idle-below-keepalive',
      short: { what: 'AWS NLB idle timeout', value: 350 },
    });
  });

  it('a value that was not read never outranks one that was read', () => {
    const ms = nodeBudget({
      host: {
        netns: 'host',
        keepaliveTime: read(600, 'sysctl'),
        ctEstablished: read(86400, 'sysctl'),
      },
      // pod-a not read: the kernel default 7200 is assumed for it.
      netns: [
        { netns: 'pod-a' },
        { netns: 'pod-b', keepaliveTime: read(7200, 'sysctl (netns pod-b)') },
      ],
      pathIdle: { name: 'NAT', ...read(1000, 'preset') },
    });
    expect(ms.map((m) => m.read)).toEqual([true, true, false, false]);
    expect(codes(ms)).toEqual([
      'path-idle-below-keepalive@pod-b',
      'keepalive-not-in-netns@pod-b',
      'path-idle-below-keepalive@pod-a',
      'keepalive-not-in-netns@pod-a',
    ]);
    expect(ms[2]!.against.source).toBe('kernel default of net.ipv4.tcp_keepalive_time (not read)');
  });

  it('kernelDefault marks the value not read', () => {
    expect(kernelDefault(60, 'x')).toEqual({
      value: 60,
      source: 'kernel default of x (not read)',
      read: false,
    });
  });

  it('rejects a value that is not a number of seconds', () => {
    expect(() =>
      nodeBudget({ host: { netns: 'host', keepaliveTime: read(Number.NaN, 's') }, netns: [] }),
    ).toThrow(/host keepalive time NaN/);
  });
});

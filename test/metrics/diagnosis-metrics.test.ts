import { describe, expect, it } from 'vitest';
import type { Diagnosis, FlowView, Prediction } from '../../src/model/diagnosis.js';
import { METRICS, OTHER, SERVICE_CAP } from '../../src/metrics/catalog.js';
import {
  capValues,
  diagnosisMetrics,
  type SettingsView,
} from '../../src/metrics/diagnosis-metrics.js';

const NO_SETTINGS: SettingsView = {
  sysctlScopes: () => [],
  sysctlNum: () => undefined,
  kubeProxy: undefined,
  ipvsTimeouts: undefined,
};

function flow(i: number, service: string): FlowView {
  return {
    id: `tcp 10.0.0.1:${1000 + i}>10.96.0.${i % 250}:80`,
    proto: 'tcp',
    client: { addr: '10.0.0.1', port: 1000 + i },
    target: { addr: '10.96.0.1', port: 80 },
    service,
    state: 'ESTABLISHED',
    idleSec: 10,
    layers: [],
    seenBy: ['conntrack'],
  } as unknown as FlowView;
}

function diag(flows: FlowView[]): Diagnosis {
  const predictions: Prediction[] = flows.map((f) => ({
    flow: f.id,
    layer: 'conntrack',
    timeoutSec: 300,
    idleSec: 10,
    breaksInSec: 290,
    breaksAt: 0,
    cause: 'x',
  }));
  return { at: 1_000_000, findings: [], predictions, suggestions: [], flows };
}

describe('diagnosisMetrics', () => {
  it('caps Services at SERVICE_CAP and sums the rest under other', () => {
    // 60 Services: the first 10 with two flows each (kept), 50 with one (40 of them go to other).
    const flows: FlowView[] = [];
    for (let s = 0; s < 60; s++)
      for (let k = 0; k < (s < 10 ? 2 : 1); k++) flows.push(flow(flows.length, `ns/svc-${s}`));
    const m = diagnosisMetrics({
      diagnosis: diag(flows),
      settings: NO_SETTINGS,
      sources: [],
      packetCauses: [],
      parseIssues: 0,
    });
    const services = new Set(m.flowsAtRisk.map((s) => s.labels.service));
    expect(services.size).toBe(SERVICE_CAP + 1);
    expect(m.flowsAtRisk.find((s) => s.labels.service === OTHER)?.value).toBe(10);
    expect(m.flowsAtRisk.find((s) => s.labels.service === 'ns/svc-0')?.value).toBe(2);
    expect(m.flowsAtRisk.reduce((a, s) => a + s.value, 0)).toBe(flows.length);
    expect(m.flows).toEqual([{ labels: { state: 'ESTABLISHED' }, value: flows.length }]);
  });

  it('gives the shortest timeout to netns past the cap and names the host netns host', () => {
    const scopes = [
      '',
      ...Array.from({ length: 60 }, (_, i) => `pod-${String(i).padStart(2, '0')}`),
    ];
    const settings: SettingsView = {
      ...NO_SETTINGS,
      sysctlScopes: () => scopes,
      sysctlNum: (key, scope) =>
        key === 'net.netfilter.nf_conntrack_tcp_timeout_established'
          ? scope === 'pod-59'
            ? 30
            : 432000
          : undefined,
    };
    const m = diagnosisMetrics({
      diagnosis: diag([]),
      settings,
      sources: [],
      packetCauses: [],
      parseIssues: 0,
    });
    expect(m.conntrackTimeout).toHaveLength(51);
    expect(m.conntrackTimeout[0]).toEqual({
      labels: { netns: 'host', state: 'tcp_established' },
      value: 432000,
    });
    expect(m.conntrackTimeout.find((s) => s.labels.netns === OTHER)?.value).toBe(30);
  });

  it("exports kube-proxy's IPVS timeouts only in IPVS mode", () => {
    const kp = (mode: string) =>
      diagnosisMetrics({
        diagnosis: diag([]),
        settings: {
          ...NO_SETTINGS,
          kubeProxy: {
            value: {
              mode,
              conntrack: {
                tcpEstablishedTimeout: 86400,
                tcpCloseWaitTimeout: 3600,
                udpTimeout: 0,
                udpStreamTimeout: 0,
              },
              ipvs: { tcpTimeout: 900, tcpFinTimeout: 120, udpTimeout: 300 },
            } as never,
          },
        },
        sources: [],
        packetCauses: [],
        parseIssues: 0,
      }).kubeProxyTimeout.map((s) => s.labels.setting);
    expect(kp('ipvs')).toContain('ipvs_tcp');
    expect(kp('iptables')).not.toContain('ipvs_tcp');
    expect(kp('iptables')).toContain('conntrack_tcp_established');
  });

  it('keeps the heaviest values in capValues, ties by name', () => {
    const m = capValues(
      new Map([
        ['b', 1],
        ['a', 1],
        ['c', 5],
      ]),
      2,
    );
    expect([...m.entries()]).toEqual([
      ['c', 'c'],
      ['a', 'a'],
      ['b', OTHER],
    ]);
  });

  it('names every family kdiag_…', () => {
    for (const def of Object.values(METRICS)) expect(def.name).toMatch(/^kdiag_[a-z_]+$/);
  });
});

describe('docs/metrics.md', () => {
  it('documents every metric family', async () => {
    const { readFile } = await import('node:fs/promises');
    const doc = await readFile(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
    for (const def of Object.values(METRICS)) expect(doc).toContain(`\`${def.name}\``);
  });
});

// --cloud in the analysis: which flows a layer applies to, what the findings say it does at
// expiry, and a proxy's timer that keepalive cannot hold.
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/engine/diagnose.js';
import type { Observation } from '../../src/model/observation.js';
import {
  T0,
  ct,
  ctSnapshot,
  obs,
  ruleset,
  sock,
  ssSnapshot,
  tableOf,
} from '../helpers/builders.js';
import { analyze } from '../../src/analysis/analyze.js';
import { cloudScopeNotes } from '../../src/analysis/path/cloud-reach.js';

const findings = (list: Observation[], cloud: string | string[]) =>
  diagnose(tableOf(list), { cloud }).findings;
const rules = (list: Observation[], cloud: string | string[]) =>
  findings(list, cloud).map((f) => f.rule);

/** One idle flow client → target (reply from `backend`), keepalive at kaSec, idle idleSec. */
function flow(
  client: string,
  target: string,
  backend: string,
  idleSec: number,
  kaSec: number,
): Observation[] {
  const [caddr] = client.split(':');
  return [
    obs.sysctls(T0, { 'net.ipv4.tcp_keepalive_time': String(kaSec) }, 'app'),
    ...ctSnapshot(T0 + 1_000_000, [
      ct(`${client}>${target}`, `${backend}>${caddr}:${client.split(':')[1]}`, {
        timeout: 86400 - idleSec,
      }),
    ]),
    ...ssSnapshot(
      T0 + 1_000_000,
      [
        sock(client, target, {
          timer: { name: 'keepalive' as const, remainingMs: (kaSec - idleSec) * 1000, count: 0 },
          lastsndMs: idleSec * 1000,
          lastrcvMs: idleSec * 1000,
          lastackMs: idleSec * 1000,
        }),
      ],
      'app',
    ),
    obs.sysctls(T0, { 'net.netfilter.nf_conntrack_tcp_timeout_established': '86400' }),
  ];
}

const egress = flow('10.0.0.1:5555', '52.1.2.3:443', '52.1.2.3:443', 200, 7200);
const internal = flow('10.0.0.1:5556', '10.96.0.20:80', '10.0.0.7:8080', 200, 7200);
const nodePort = flow('10.0.0.9:40000', '10.0.0.1:31080', '10.0.0.7:8080', 200, 7200);
const web = obs.iptables(
  T0,
  ruleset({
    services: [
      {
        namespace: 'shop',
        name: 'web',
        portName: 'http',
        clusterIP: '10.96.0.20',
        port: 80,
        proto: 'tcp',
        endpoints: [{ addr: '10.0.0.7', port: 8080 }],
      },
    ],
  }),
);

describe('--cloud scope', () => {
  it('a NAT applies to egress only, unless @all says otherwise', () => {
    expect(rules(egress, 'aws-nat')).toContain('path.idle-timeout');
    expect(rules(internal, 'aws-nat')).not.toContain('path.idle-timeout');
    expect(rules(internal, 'aws-nat@all')).toContain('path.idle-timeout');
  });
  it('a load balancer applies to flows arriving at a NodePort, not to egress', () => {
    expect(rules(nodePort, 'aws-nlb')).toContain('path.idle-timeout');
    expect(rules(egress, 'aws-nlb')).not.toContain('path.idle-timeout');
    expect(rules(internal, 'aws-nlb')).not.toContain('path.idle-timeout');
  });
  it('@dst= matches the destination prefix', () => {
    expect(rules(egress, 'aws-nlb@dst=52.1.0.0/16')).toContain('path.idle-timeout');
    expect(rules(egress, 'aws-nlb@dst=52.2.0.0/16')).not.toContain('path.idle-timeout');
  });
  it('@svc= matches the Service by ClusterIP or endpoint, and says when it is unknown', () => {
    expect(rules([web, ...internal], 'azure-lb@svc=shop/web')).toContain('path.idle-timeout');
    expect(rules([web, ...nodePort], 'azure-lb@svc=shop/web')).toContain('path.idle-timeout');
    expect(rules([web, ...egress], 'azure-lb@svc=shop/web')).not.toContain('path.idle-timeout');
    expect(rules([web, ...internal], 'azure-lb@svc=shop/api')).not.toContain('path.idle-timeout');
    expect(cloudScopeNotes(tableOf([web]), ['azure-lb@svc=shop/api'])).toEqual([
      "--cloud azure-lb@svc=shop/api: Service shop/api is not in the capture's kube-proxy rules (iptables-save or nft): the layer applies to no flow",
    ]);
    expect(cloudScopeNotes(tableOf([web]), 'azure-lb@svc=shop/web')).toEqual([]);
  });
  it(':TIMEOUT replaces the default and the source says so', () => {
    const [f] = findings(egress, 'aws-nat:180s').filter((x) => x.rule === 'path.idle-timeout');
    expect(f?.cause).toContain(
      'after 180 s (3 min) idle (--cloud aws-nat (AWS NAT gateway idle timeout, 180 s given))',
    );
    // 180 s against 200 s idle: already past.
    expect(f?.severity).toBe('critical');
  });
  it('two layers: the shorter one is named', () => {
    const [f] = findings(egress, ['gcp-nat', 'gcp-vpc']).filter(
      (x) => x.rule === 'path.idle-timeout',
    );
    expect(f?.cause).toContain('after 600 s (10 min) idle (--cloud gcp-vpc');
  });
});

describe('behaviour at expiry', () => {
  it('the finding and the prediction say what the element does', () => {
    const f = findings(egress, 'gcp-nat:300s').find((x) => x.rule === 'path.idle-timeout');
    expect(f?.cause).toContain(
      'Then it drops its later packets silently (retransmits, then ETIMEDOUT).',
    );
    const a = analyze(tableOf(egress), { cloud: 'azure-lb-k8s@all' });
    expect(a.predictions[0]?.cause).toContain(
      'Then it sends RST to both ends at expiry (ECONNRESET).',
    );
  });
  it('a proxy is not held by keepalive: a 30 s keepalive does not save the flow from Envoy', () => {
    const healthy = flow('10.0.0.1:5557', '52.1.2.3:443', '52.1.2.3:443', 20, 30);
    // A packet-tracking element with the same timeout is kept alive by the 30 s keepalive.
    expect(rules(healthy, 'aws-nat:100s')).not.toContain('path.idle-timeout');
    const fs = findings(healthy, 'envoy:100s@all');
    const f = fs.find((x) => x.rule === 'path.idle-timeout');
    expect(f?.cause).toContain('TCP keepalive does not re-arm it');
    // Raising a timer that keepalive never re-arms does not make an idle flow safe: the race check
    // (suggest/race-check.ts) keeps no such suggestion.
    expect(f?.suggestions).toEqual([]);
    expect(fs.map((x) => x.rule)).not.toContain('socket.keepalive-too-long');
    const a = analyze(tableOf(healthy), { cloud: 'envoy:100s@all' });
    expect(a.predictions[0]?.breaksInSec).toBe(80);
    expect(a.predictions[0]?.cause).toContain('counts application data only');
  });
});

describe('path.idle-reset names only an element that behaves so', () => {
  const tuple = { proto: 'tcp', saddr: '10.0.0.1', sport: 5555, daddr: '52.1.2.3', dport: 443 };
  const died = (how: 'reset' | 'timeout'): Observation[] => [
    obs.entry(T0, ct('10.0.0.1:5555>52.1.2.3:443', '52.1.2.3:443>192.168.1.5:61000')),
    obs.probe(T0 + 1000, { kind: 'retransmit', state: 'ESTABLISHED', netns: 0, tuple }),
    how === 'reset'
      ? obs.probe(T0 + 601_000, {
          kind: 'reset',
          direction: 'received',
          mode: 'active',
          netns: 0,
          tuple,
        })
      : obs.probe(T0 + 601_000, {
          kind: 'reset',
          direction: 'sent',
          mode: 'active',
          reason: 'TCP_KEEPALIVE_TIMEOUT',
          state: 'ESTABLISHED',
          netns: 0,
          tuple,
        }),
  ];
  const cause = (how: 'reset' | 'timeout', cloud: string | string[] = []) =>
    findings(died(how), cloud).find((x) => x.rule === 'path.idle-reset')?.cause ?? '';
  it('600 s then ETIMEDOUT matches the silent GCP VPC tracking', () => {
    expect(cause('timeout')).toContain('(matches gcp-vpc 600 s)');
  });
  it('600 s then a received RST matches no silent element', () => {
    expect(cause('reset')).not.toContain('gcp-vpc');
    expect(cause('reset')).toContain('the remote end answered with a reset');
  });
  it('a declared element that cannot have done it is ruled out', () => {
    expect(cause('timeout', 'azure-lb-k8s:10m@all')).toContain(
      'Not --cloud azure-lb-k8s (Azure Load Balancer rule made by Kubernetes (TCP reset on), 600 s given, flows all): it resets both ends at expiry.',
    );
    expect(cause('reset', 'azure-lb-k8s:10m@all')).toContain('(matches --cloud azure-lb-k8s');
  });
});

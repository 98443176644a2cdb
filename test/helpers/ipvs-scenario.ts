// Scenario builders shared by the analysis and suggest tests.
import type { Observation } from '../../src/model/observation.js';
import { T0, ct, ctSnapshot, ipvsConn, ka, kubeProxy, obs, sock, ssSnapshot } from './builders.js';

export const VIP = '10.96.0.10:80';
export const BACKEND = '10.0.0.2:8080';

/** One client flow through an IPVS VIP, idle `idleSec`, keepalive per the client's netns sysctl. */
export function ipvsScenario(o: {
  kaTime: number;
  idleSec: number;
  port?: number;
  ipvsTcp?: number;
  keepalive?: boolean;
}): Observation[] {
  const port = o.port ?? 42766;
  const client = `10.0.0.1:${port}`;
  const t = T0 + 1_000_000;
  const idleMs = o.idleSec * 1000;
  const timer = o.keepalive === false ? {} : { timer: ka(o.kaTime * 1000 - idleMs) };
  return [
    obs.sysctls(T0, {
      'net.netfilter.nf_conntrack_tcp_timeout_established': '86400',
      'net.netfilter.nf_conntrack_max': '262144',
      'net.ipv4.vs.conntrack': '1',
    }),
    obs.sysctls(T0, { 'net.ipv4.tcp_keepalive_time': String(o.kaTime) }, 'client'),
    obs.kubeProxy(T0, kubeProxy({ mode: 'ipvs' })),
    obs.ipvsTimeouts(T0, o.ipvsTcp ?? 900, 120, 300),
    obs.ipvsServices(T0, [
      {
        proto: 'TCP',
        addr: '10.96.0.10',
        port: 80,
        scheduler: 'rr',
        flags: [],
        realServers: [
          { addr: '10.0.0.2', port: 8080, forward: 'Masq', weight: 1, activeConn: 1, inactConn: 0 },
        ],
      },
    ]),
    ...ctSnapshot(t, [
      ct(`${client}>${VIP}`, `${BACKEND}>${client}`, { timeout: 86400 - o.idleSec }),
    ]),
    obs.begin(t, 'ipvs-conns'),
    obs.ipvsConn(
      t,
      ipvsConn(client, VIP, BACKEND, 'ESTABLISHED', Math.max(0, (o.ipvsTcp ?? 900) - o.idleSec)),
    ),
    obs.end(t, 'ipvs-conns'),
    ...ssSnapshot(
      t,
      [sock(client, VIP, { ...timer, lastsndMs: idleMs, lastrcvMs: idleMs, lastackMs: idleMs })],
      'client',
    ),
  ];
}

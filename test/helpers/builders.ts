// Hand-built observations for model/analysis/suggest tests (the parsers are written in parallel).
import type { ConntrackEntry, ConntrackEvent } from '../../src/model/conntrack.js';
import type { IptablesRuleset } from '../../src/model/iptables.js';
import type { IpvsConn, IpvsService } from '../../src/model/ipvs.js';
import type { KubeProxySettings } from '../../src/model/kube-proxy.js';
import type { Observation } from '../../src/model/observation.js';
import type { ProbeEvent } from '../../src/model/probe-event.js';
import type { SocketInfo, SocketTimer } from '../../src/model/socket.js';
import { FlowTable } from '../../src/model/flow-table.js';

export const T0 = 1_795_407_000_000;

export function ep(s: string): { addr: string; port: number } {
  const i = s.lastIndexOf(':');
  return { addr: s.slice(0, i), port: Number(s.slice(i + 1)) };
}

/** conntrack entry: orig a→b, reply c→d (reply defaults to the reverse of orig). */
export function ct(
  orig: string,
  reply: string | undefined,
  o: Partial<ConntrackEntry> = {},
): ConntrackEntry {
  const [a, b] = orig.split('>') as [string, string];
  const [c, d] = (reply ?? `${b}>${a}`).split('>') as [string, string];
  const A = ep(a),
    B = ep(b),
    C = ep(c),
    D = ep(d);
  return {
    family: 'ipv4',
    proto: 'tcp',
    protonum: 6,
    timeout: 86000,
    state: 'ESTABLISHED',
    orig: { src: A.addr, dst: B.addr, sport: A.port, dport: B.port },
    reply: { src: C.addr, dst: D.addr, sport: C.port, dport: D.port },
    unreplied: false,
    assured: true,
    offload: false,
    hwOffload: false,
    ...o,
  };
}

export function sock(
  local: string,
  peer: string,
  o: Partial<SocketInfo> & { timer?: SocketTimer } = {},
): SocketInfo {
  return { state: 'ESTAB', recvQ: 0, sendQ: 0, local: ep(local), peer: ep(peer), ...o };
}

export function ka(remainingMs: number): SocketTimer {
  return { name: 'keepalive', remainingMs, count: 0 };
}

export const obs = {
  begin: (
    t: number,
    what: 'conntrack' | 'ipvs-conns' | 'sockets',
    scope?: string,
  ): Observation => ({
    kind: 'snapshot-begin',
    what,
    t,
    src: `${what}:list`,
    ...(scope ? { scope } : {}),
  }),
  end: (t: number, what: 'conntrack' | 'ipvs-conns' | 'sockets', scope?: string): Observation => ({
    kind: 'snapshot-end',
    what,
    t,
    src: `${what}:list`,
    ...(scope ? { scope } : {}),
  }),
  entry: (t: number, entry: ConntrackEntry, scope?: string): Observation => ({
    kind: 'conntrack-entry',
    entry,
    t,
    src: 'conntrack:list',
    ...(scope ? { scope } : {}),
  }),
  event: (t: number, event: ConntrackEvent, raw?: string): Observation => ({
    kind: 'conntrack-event',
    event,
    t,
    src: 'conntrack:events',
    ...(raw ? { raw } : {}),
  }),
  socket: (t: number, socket: SocketInfo, scope?: string, raw?: string): Observation => ({
    kind: 'socket',
    socket,
    t,
    src: `ss:sockets${scope ? `@${scope}` : ''}`,
    ...(scope ? { scope } : {}),
    ...(raw ? { raw } : {}),
  }),
  sysctls: (t: number, values: Record<string, string>, scope?: string): Observation => ({
    kind: 'sysctls',
    values,
    t,
    src: `sysctl:all${scope ? `@${scope}` : ''}`,
    ...(scope ? { scope } : {}),
  }),
  probe: (t: number, event: ProbeEvent, raw?: string): Observation => ({
    kind: 'probe',
    event,
    t,
    src: 'bpftrace:drops',
    ...(raw ? { raw } : {}),
  }),
  ipvsConn: (t: number, conn: IpvsConn): Observation => ({
    kind: 'ipvs-conn',
    conn,
    t,
    src: 'ipvsadm:conns',
  }),
  ipvsServices: (t: number, services: IpvsService[]): Observation => ({
    kind: 'ipvs-services',
    services,
    t,
    src: 'ipvsadm:services',
  }),
  ipvsTimeouts: (t: number, tcp: number, tcpfin: number, udp: number): Observation => ({
    kind: 'ipvs-timeouts',
    timeouts: { tcp, tcpfin, udp },
    t,
    src: 'ipvsadm:timeout',
    raw: `Timeout (tcp tcpfin udp): ${tcp} ${tcpfin} ${udp}`,
  }),
  stats: (t: number, counters: Record<string, number>, entries?: number): Observation => ({
    kind: 'conntrack-stats',
    cpus: [
      { cpu: 0, counters, ...(entries !== undefined ? { entries } : {}) },
      { cpu: 1, counters: {} },
    ],
    t,
    src: 'conntrack:stats',
  }),
  kubeProxy: (t: number, settings: KubeProxySettings): Observation => ({
    kind: 'kube-proxy',
    settings,
    t,
    src: 'kube-proxy:config',
  }),
  iptables: (t: number, ruleset: IptablesRuleset): Observation => ({
    kind: 'iptables',
    ruleset,
    t,
    src: 'iptables-save',
  }),
  meta: (t: number, key: string, value: unknown): Observation => ({
    kind: 'meta',
    key,
    value,
    t,
    src: 'session',
  }),
};

export function ipvsConn(
  client: string,
  vip: string,
  dest: string,
  state = 'ESTABLISHED',
  expiresSec = 880,
): IpvsConn {
  return {
    proto: 'TCP',
    expiresSec,
    state,
    client: ep(client),
    virtual: ep(vip),
    dest: ep(dest),
    template: false,
  };
}

export function kubeProxy(
  o: {
    mode?: KubeProxySettings['mode'];
    established?: number;
    closeWait?: number;
    beLiberal?: boolean;
    ipvsTcp?: number;
    ignoredFlags?: string[];
    configPath?: string;
  } = {},
): KubeProxySettings {
  return {
    mode: o.mode ?? 'iptables',
    conntrack: {
      maxPerCore: 32768,
      min: 131072,
      tcpEstablishedTimeout: o.established ?? 86400,
      tcpCloseWaitTimeout: o.closeWait ?? 3600,
      tcpBeLiberal: o.beLiberal ?? false,
      udpTimeout: 0,
      udpStreamTimeout: 0,
    },
    ipvs: {
      scheduler: 'rr',
      tcpTimeout: o.ipvsTcp ?? 0,
      tcpFinTimeout: 0,
      udpTimeout: 0,
      strictARP: false,
    },
    origin: o.configPath ? 'config-file' : 'defaults',
    ...(o.configPath ? { configPath: o.configPath } : {}),
    ignoredFlags: o.ignoredFlags ?? [],
    defaulted: [],
  };
}

export function ruleset(o: Partial<IptablesRuleset> = {}): IptablesRuleset {
  return { rules: [], chains: {}, invalidDropRules: [], services: [], kubeProxyChains: true, ...o };
}

/** A FlowTable fed with the observations, in order. */
export function tableOf(list: readonly Observation[]): FlowTable {
  const t = new FlowTable();
  for (const o of list) t.apply(o);
  return t;
}

/** One conntrack snapshot of the given entries. */
export function ctSnapshot(t: number, entries: ConntrackEntry[], scope?: string): Observation[] {
  return [
    obs.begin(t, 'conntrack', scope),
    ...entries.map((e) => obs.entry(t, e, scope)),
    obs.end(t, 'conntrack', scope),
  ];
}

/** One ss snapshot of the given sockets in one scope. */
export function ssSnapshot(t: number, sockets: SocketInfo[], scope?: string): Observation[] {
  return [
    obs.begin(t, 'sockets', scope),
    ...sockets.map((s) => obs.socket(t, s, scope)),
    obs.end(t, 'sockets', scope),
  ];
}

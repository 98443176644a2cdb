// TEST DATA, hand-made: a small diagnosis (two findings, three suggestions, flows at risk) for UI tests.
// Addresses are in documentation ranges; nothing here was recorded from a real host.
import type { Diagnosis, FlowView, Suggestion } from '../../src/model/diagnosis.js';
import type { SessionSnapshot } from '../../src/model/session.js';

const T0 = Date.UTC(2025, 0, 15, 10, 0, 0);

function flow(i: number, over: Partial<FlowView> = {}): FlowView {
  return {
    id: `tcp 192.0.2.${10 + i}:${40000 + i}>198.51.100.10:5432`,
    proto: 'tcp',
    client: { addr: `192.0.2.${10 + i}`, port: 40000 + i },
    target: { addr: '198.51.100.10', port: 5432 },
    backend: { addr: '203.0.113.7', port: 5432 },
    service: 'db/postgres',
    owner: { pod: { namespace: 'shop', name: `api-7d9f-${i}` } },
    state: 'ESTABLISHED',
    idleSec: 300 + i * 10,
    keepalive: { enabled: false, idleSec: 7200, intervalSec: 75, probes: 9, source: 'ss -tinoe' },
    layers: [
      { layer: 'keepalive', timeoutSec: null, source: 'ss timer', leftSec: null },
      {
        layer: 'conntrack',
        timeoutSec: 600,
        source: 'sysctl net.netfilter.nf_conntrack_tcp_timeout_established',
        leftSec: 600 - (300 + i * 10),
      },
      {
        layer: 'ipvs',
        timeoutSec: 900,
        source: 'ipvsadm -Ln --timeout',
        leftSec: 900 - (300 + i * 10),
      },
      {
        layer: 'path',
        timeoutSec: 350,
        source: '--path-idle-timeout 350s',
        leftSec: Math.max(0, 350 - (300 + i * 10)),
      },
    ],
    firstToForget: 'path',
    seenBy: ['conntrack', 'ss', 'ipvs'],
    ...over,
  };
}

export const TEST_SUGGESTIONS: readonly Suggestion[] = [
  {
    id: 'pod-keepalive-time',
    scope: 'pod',
    rank: 2,
    title: 'Send keepalives every 60 s from the api pods',
    rationale: 'A keepalive before 350 s of idle refreshes the path, conntrack and IPVS at once.',
    fixes: ['fm3.path-idle-timeout'],
    commands: [
      {
        label: 'pod securityContext',
        text: 'securityContext:\n  sysctls:\n  - name: net.ipv4.tcp_keepalive_time\n    value: "60"',
      },
      {
        label: 'check',
        text: 'kubectl -n shop exec deploy/api -- sysctl net.ipv4.tcp_keepalive_time',
      },
    ],
    warnings: ['The application must set SO_KEEPALIVE for the sysctl to matter.'],
  },
  {
    id: 'node-conntrack-established',
    scope: 'node',
    rank: 3,
    title: 'Raise the conntrack established timeout to 1 day',
    rationale: 'conntrack forgets idle flows after 600 s; kube-proxy would set 86400.',
    fixes: ['fm1.conntrack-expiry'],
    commands: [
      { label: 'now', text: 'sysctl -w net.netfilter.nf_conntrack_tcp_timeout_established=86400' },
    ],
    warnings: [],
    change: {
      kind: 'sysctl',
      key: 'net.netfilter.nf_conntrack_tcp_timeout_established',
      value: '86400',
    },
  },
];

const FLOWS = [
  flow(0),
  flow(1),
  flow(2, {
    owner: { process: { pid: 4242, comm: 'psql' } },
    idleSec: 20,
    firstToForget: undefined,
  }),
  flow(3, {
    client: { addr: '2001:db8::5', port: 51000 },
    id: 'tcp [2001:db8::5]:51000>198.51.100.10:5432',
  }),
];

export const TEST_DIAGNOSIS: Diagnosis = {
  at: T0 + 60_000,
  flows: FLOWS,
  predictions: [],
  suggestions: TEST_SUGGESTIONS,
  findings: [
    {
      id: `fm3.path-idle-timeout:${FLOWS[0]!.id}`,
      rule: 'path.idle-timeout',
      fm: 'FM-3',
      severity: 'critical',
      confidence: 'likely',
      title: 'Cloud NAT forgets idle flows after 350 s',
      cause: 'The path drops flows idle 350 s; api flows idle 300–330 s; keepalive is off.',
      flows: [FLOWS[0]!.id, FLOWS[1]!.id],
      evidence: [
        {
          t: T0 + 1000,
          src: 'ss',
          text: 'ESTAB 0 0 192.0.2.10:40000 198.51.100.10:5432 timer:(off)',
          note: 'keepalive off',
        },
        {
          t: T0 + 2000,
          src: 'conntrack:events',
          text: '[DESTROY] tcp 6 src=192.0.2.10 dst=198.51.100.10 sport=40000 dport=5432',
          note: 'the flow ended',
        },
        {
          t: T0 + 3000,
          src: 'bpftrace:resets',
          text: 'RST rcvd 198.51.100.10:5432 > 192.0.2.10:40000',
        },
      ],
      suggestions: ['pod-keepalive-time', 'node-conntrack-established'],
      t: T0 + 3000,
    },
    {
      id: 'fm1.conntrack-expiry:node',
      rule: 'conntrack.established-expired',
      fm: 'FM-1',
      severity: 'warning',
      confidence: 'possible',
      title: 'conntrack established timeout is 600 s',
      cause: 'nf_conntrack_tcp_timeout_established = 600, below the 86400 kube-proxy sets.',
      flows: [FLOWS[1]!.id],
      evidence: [
        { t: T0, src: 'sysctl', text: 'net.netfilter.nf_conntrack_tcp_timeout_established = 600' },
      ],
      suggestions: ['node-conntrack-established'],
      t: T0,
    },
  ],
};

/** A live session snapshot around TEST_DIAGNOSIS. */
export function testSnapshot(over: Partial<SessionSnapshot> = {}): SessionSnapshot {
  return {
    mode: 'live',
    diagnosis: TEST_DIAGNOSIS,
    feed: [
      {
        t: T0 + 2000,
        kind: 'conntrack',
        text: 'DESTROY tcp 192.0.2.10:40000 > 198.51.100.10:5432',
        src: 'conntrack:events',
        flow: FLOWS[0]!.id,
      },
      {
        t: T0 + 3000,
        kind: 'reset',
        text: 'RST rcvd 198.51.100.10:5432 > 192.0.2.10:40000',
        src: 'bpftrace:resets',
        flow: FLOWS[0]!.id,
        finding: `fm3.path-idle-timeout:${FLOWS[0]!.id}`,
      },
      {
        t: T0 + 4000,
        kind: 'drop',
        text: 'drop 192.0.2.99:1234 > 198.51.100.10:5432 NO_SOCKET',
        src: 'bpftrace:drops',
      },
    ],
    sources: [
      { id: 'conntrack:events', state: 'running', records: 1200, rate: 40, lost: 0 },
      { id: 'bpftrace:drops', state: 'running', records: 300, rate: 2.5, lost: 3 },
      { id: 'ss', state: 'failed', records: 0, rate: 0, lost: 0, message: 'ss: not found' },
    ],
    missing: ['BTF'],
    paused: false,
    applied: [],
    issues: 2,
    ...over,
  };
}

/** A snapshot with nothing in it yet. */
export function emptySnapshot(): SessionSnapshot {
  return {
    mode: 'live',
    diagnosis: { at: 0, flows: [], findings: [], predictions: [], suggestions: [] },
    feed: [],
    sources: [],
    missing: [],
    paused: false,
    applied: [],
    issues: 0,
  };
}

/** `n` flows, many more than fit on a screen, with long owner names. */
export function manyFlows(n: number): FlowView[] {
  return Array.from({ length: n }, (_, i) =>
    flow(i % 200, {
      id: `tcp 192.0.2.${i % 250}:${30000 + i}>198.51.100.10:5432`,
      client: { addr: `192.0.2.${i % 250}`, port: 30000 + i },
      owner: {
        pod: {
          namespace: 'a-very-long-namespace-name',
          name: `a-very-long-deployment-name-5f6d8c9b7-${i}`,
        },
      },
    }),
  );
}

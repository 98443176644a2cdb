// SAMPLE DATA for the UI gallery (`kdiag ui-gallery`): hand-made, documentation addresses, not a recording.
import type { Diagnosis, FlowView } from '../model/diagnosis.js';
import type { SessionSnapshot } from '../model/session.js';

const T0 = Date.UTC(2025, 0, 15, 10, 0, 0);

function sampleFlow(i: number, idle: number, first: FlowView['firstToForget']): FlowView {
  return {
    id: `tcp 192.0.2.${20 + i}:${41000 + i}>198.51.100.20:6379`,
    proto: 'tcp',
    client: { addr: `192.0.2.${20 + i}`, port: 41000 + i },
    target: { addr: '198.51.100.20', port: 6379 },
    backend: { addr: `203.0.113.${30 + (i % 3)}`, port: 6379 },
    service: 'cache/redis',
    owner:
      i % 2 === 0
        ? { pod: { namespace: 'checkout', name: `worker-6c5d-${i}` } }
        : { process: { pid: 3100 + i, comm: 'java' } },
    state: 'ESTABLISHED',
    idleSec: idle,
    keepalive: {
      enabled: i % 3 === 0,
      idleSec: 7200,
      intervalSec: 75,
      probes: 9,
      source: 'ss -tinoe',
    },
    layers: [
      {
        layer: 'keepalive',
        timeoutSec: i % 3 === 0 ? 7200 : null,
        source: 'ss timer',
        leftSec: i % 3 === 0 ? 7200 - idle : null,
      },
      {
        layer: 'conntrack',
        timeoutSec: 432_000,
        source: 'sysctl net.netfilter.nf_conntrack_tcp_timeout_established',
        leftSec: 432_000 - idle,
      },
      { layer: 'ipvs', timeoutSec: 900, source: 'ipvsadm -Ln --timeout', leftSec: 900 - idle },
    ],
    ...(first ? { firstToForget: first } : {}),
    seenBy: ['conntrack', 'ipvs', 'ss'],
  };
}

const FLOWS: FlowView[] = [
  sampleFlow(0, 850, 'ipvs'),
  sampleFlow(1, 610, 'ipvs'),
  sampleFlow(2, 120, 'ipvs'),
  sampleFlow(3, 30, undefined),
];

/** A diagnosis showing an IPVS idle timeout shorter than the application's idle periods. */
export const SAMPLE_DIAGNOSIS: Diagnosis = {
  at: T0 + 120_000,
  flows: FLOWS,
  predictions: [],
  suggestions: [
    {
      id: 'ipvs-tcp-timeout',
      scope: 'ipvs',
      rank: 4,
      title: 'Raise the IPVS tcp timeout to 2 hours',
      rationale:
        'IPVS forgets idle connections after 900 s, before the application sends anything.',
      fixes: ['fm2.ipvs-idle-timeout'],
      commands: [
        { label: 'now', text: 'ipvsadm --set 7200 120 300' },
        { label: 'kube-proxy', text: 'ipvs:\n  tcpTimeout: 2h0m0s' },
      ],
      warnings: ['kube-proxy resets the value on restart unless its configuration has it.'],
      change: { kind: 'ipvs-timeout', tcp: 7200, tcpfin: 120, udp: 300 },
    },
  ],
  findings: [
    {
      id: `fm2.ipvs-idle-timeout:${FLOWS[0]!.id}`,
      rule: 'ipvs.idle-timeout',
      fm: 'FM-2',
      severity: 'critical',
      confidence: 'certain',
      title: 'IPVS forgets redis connections after 900 s idle',
      cause: 'ipvsadm tcp timeout is 900 s; the workers idle up to 850 s with keepalive off.',
      flows: [FLOWS[0]!.id, FLOWS[1]!.id],
      evidence: [
        { t: T0 + 1000, src: 'ipvsadm:timeout', text: 'Timeout (tcp tcpfin udp): 900 120 300' },
        {
          t: T0 + 90_000,
          src: 'ipvsadm:conns',
          text: 'TCP 14:10  ESTABLISHED 192.0.2.20:41000 198.51.100.20:6379 203.0.113.30:6379',
          note: '14:10 left',
        },
      ],
      suggestions: ['ipvs-tcp-timeout'],
      t: T0 + 90_000,
    },
  ],
};

/** A live snapshot around SAMPLE_DIAGNOSIS, with one applied change. */
export function sampleSnapshot(): SessionSnapshot {
  return {
    mode: 'live',
    diagnosis: SAMPLE_DIAGNOSIS,
    feed: [
      {
        t: T0 + 100_000,
        kind: 'reset',
        text: 'RST sent 203.0.113.30:6379 > 192.0.2.20:41000 NO_SOCKET',
        src: 'bpftrace:resets',
        flow: FLOWS[0]!.id,
        finding: SAMPLE_DIAGNOSIS.findings[0]!.id,
      },
      {
        t: T0 + 101_000,
        kind: 'retransmit',
        text: 'retrans 192.0.2.21:41001 > 198.51.100.20:6379',
        src: 'bpftrace:retrans',
      },
    ],
    sources: [
      { id: 'conntrack:events', state: 'running', records: 5210, rate: 87, lost: 0 },
      { id: 'bpftrace:resets', state: 'starting', records: 0, rate: 0, lost: 0 },
    ],
    recording: { path: 'session.ndjson', records: 5210 },
    missing: [],
    paused: false,
    applied: [
      {
        journalId: 'j-0001',
        suggestion: 'ipvs-tcp-timeout',
        summary: 'ipvsadm --set 7200 120 300 (was 900 120 300)',
        reverted: false,
      },
    ],
    issues: 0,
  };
}

import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/engine/diagnose.js';
import { buildPathContext } from '../../src/analysis/path/context.js';
import { calicoTimeoutInForce } from '../../src/analysis/path/calico-ct.js';
import { CALICO_CT_META, CALICO_FELIX_META } from '../../src/model/calico.js';
import { OVS_CT_META } from '../../src/model/ovs.js';
import type { Observation } from '../../src/model/observation.js';
import { parseCalicoDump } from '../../src/parse/calico-conntrack.js';
import { parseFelixConfig } from '../../src/parse/calico-felix-config.js';
import { parseOvsDump } from '../../src/parse/ovs-conntrack.js';
import { isOvsDropReason } from '../../src/analysis/rules/ovs-invalid-drop.js';
import { obs, sock, ssSnapshot, tableOf } from '../helpers/builders.js';

const T0 = Date.UTC(2026, 8, 14, 8, 30);

const meta = (key: string, value: unknown, src: string): Observation => ({
  kind: 'meta',
  key,
  value,
  t: T0,
  src,
});
const felix = (yaml: string): Observation =>
  meta(
    CALICO_FELIX_META,
    parseFelixConfig(`kind: FelixConfiguration\nmetadata:\n  name: default\nspec:\n${yaml}`).value,
    'calico:felixconfig',
  );
const dump = (lines: string[]): Observation =>
  meta(CALICO_CT_META, parseCalicoDump(lines.join('\n')).value, 'calico:conntrack');

describe('bpfConntrackTimeouts in force', () => {
  const inForce = (list: Observation[], field: Parameters<typeof calicoTimeoutInForce>[1]) =>
    calicoTimeoutInForce(buildPathContext(tableOf(list), { now: T0 }), field);

  it("takes the FelixConfiguration's duration", () => {
    const v = inForce(
      [felix('  bpfConntrackTimeouts:\n    tcpEstablished: 10m\n')],
      'tcpEstablished',
    );
    expect(v.value).toBe(600);
    expect(v.source).toContain('= 10m');
    expect(v.evidence?.src).toBe('calico:felixconfig');
  });

  it("uses Felix's defaults when unset (TCPEstablished 1 h), and says the config was not read", () => {
    expect(inForce([felix('  bpfEnabled: true\n')], 'tcpEstablished').value).toBe(3600);
    const none = inForce([], 'udpTimeout');
    expect(none.value).toBe(60);
    expect(none.source).toContain('not read');
  });

  it("resolves Auto from the node's sysctl, and TCPFinsSeen is Auto by default", () => {
    const sys = obs.sysctls(T0, {
      'net.netfilter.nf_conntrack_tcp_timeout_established': '1200',
      'net.netfilter.nf_conntrack_tcp_timeout_time_wait': '120',
    });
    const auto = inForce(
      [sys, felix('  bpfConntrackTimeouts:\n    tcpEstablished: Auto\n')],
      'tcpEstablished',
    );
    expect(auto.value).toBe(1200);
    expect(auto.source).toContain('Auto');
    expect(inForce([sys, felix('  bpfEnabled: true\n')], 'tcpFinsSeen').value).toBe(120);
    // Auto on a field with no sysctl behind it keeps Felix's default.
    expect(
      inForce([felix('  bpfConntrackTimeouts:\n    udpTimeout: Auto\n')], 'udpTimeout').value,
    ).toBe(60);
  });
});

const entry = (ago: string) =>
  `TCP 10.65.1.14:43812 -> 10.65.3.21:5432  Active ago ${ago} ESTABLISHED`;

describe('calico.ct-expired', () => {
  const base = (
    sockIdleMs: number,
    ago: string | undefined,
    timer?: { name: 'on'; remainingMs: number; count: number },
  ) =>
    diagnose(
      tableOf([
        felix('  bpfConntrackTimeouts:\n    tcpEstablished: 10m\n'),
        dump([
          ...(ago ? [entry(ago)] : []),
          'TCP 10.65.1.14:43999 -> 10.65.3.21:5432  Active ago 2s ESTABLISHED',
        ]),
        ...ssSnapshot(
          T0,
          [
            sock('10.65.1.14:43812', '10.65.3.21:5432', {
              lastsndMs: timer ? 4000 : sockIdleMs,
              lastrcvMs: sockIdleMs,
              lastackMs: sockIdleMs,
              ...(timer ? { timer } : {}),
            }),
          ],
          'pod_a',
        ),
      ]),
      { now: T0 },
    );
  const rule = (d: ReturnType<typeof diagnose>) =>
    d.findings.filter((f) => f.rule === 'calico.ct-expired');

  it('fires on an entry held past its timeout (cleanup pending)', () => {
    const [f] = rule(base(605_000, '10m5s'));
    expect(f?.severity).toBe('warning');
    expect(f?.cause).toContain('past bpfConntrackTimeouts.tcpEstablished 600 s');
  });

  it('fires on a socket idle past the timeout with no entry, critical when it retransmits', () => {
    expect(rule(base(700_000, undefined))[0]?.severity).toBe('warning');
    const [f] = rule(base(700_000, undefined, { name: 'on', remainingMs: 3000, count: 4 }));
    expect(f?.severity).toBe('critical');
    expect(f?.cause).toContain('4 retransmits');
    expect(f?.evidence.some((e) => e.text.includes('none for this flow'))).toBe(true);
  });

  it('stays quiet for a fresh entry and for a socket of an address Calico does not track', () => {
    expect(rule(base(30_000, '30s'))).toEqual([]);
    const other = diagnose(
      tableOf([
        dump(['TCP 10.65.9.9:1 -> 10.65.9.8:2  Active ago 2s ESTABLISHED']),
        ...ssSnapshot(
          T0,
          [sock('10.65.1.14:43812', '10.65.3.21:5432', { lastrcvMs: 9e6, lastackMs: 9e6 })],
          'pod_a',
        ),
      ]),
      { now: T0 },
    );
    expect(rule(other)).toEqual([]);
  });

  it('predicts the flow whose entry ages out first, with the deadline from its age', () => {
    const d = base(581_000, '9m41s');
    expect(d.predictions).toHaveLength(1);
    expect(d.predictions[0]?.breaksInSec).toBe(19);
    expect(d.findings.map((f) => f.rule)).toContain('calico.ct-timeout-shorter-than-keepalive');
    expect(d.suggestions.map((s) => s.id)).toContain('app-keepalive');
  });
});

describe('ovs.invalid-drop', () => {
  const ovs = meta(
    OVS_CT_META,
    parseOvsDump(
      'tcp,orig=(src=10.10.1.5,dst=10.10.2.8,sport=39012,dport=6379),reply=(src=10.10.2.8,dst=10.10.1.5,sport=6379,dport=39012),zone=65520,timeout=431990,protoinfo=(state=ESTABLISHED)',
    ).value,
    'ovs:conntrack',
  );
  const drop = (reason: string) =>
    obs.probe(T0 + 2000, {
      kind: 'drop',
      reason,
      location: 'ovs_execute_actions',
      netns: 0,
      tuple: { proto: 'tcp', saddr: '10.10.1.5', sport: 39012, daddr: '10.10.2.8', dport: 6379 },
    });
  const sockets = ssSnapshot(
    T0,
    [sock('10.10.1.5:39012', '10.10.2.8:6379', { lastrcvMs: 1000, lastackMs: 1000 })],
    'pod_b',
  );

  it('recognises the OVS subsystem reasons by name and by number', () => {
    expect(isOvsDropReason('OVS_DROP_EXPLICIT')).toBe(true);
    expect(isOvsDropReason('UNKNOWN(196611)')).toBe(true); // 0x30003
    expect(isOvsDropReason('UNKNOWN(12)')).toBe(false);
    expect(isOvsDropReason('NETFILTER_DROP')).toBe(false);
  });

  it('reports drops inside OVS on an OVS node, naming what does not count them', () => {
    const d = diagnose(tableOf([ovs, ...sockets, drop('OVS_DROP_EXPLICIT')]), { now: T0 + 3000 });
    const [f] = d.findings.filter((x) => x.rule === 'ovs.invalid-drop');
    expect(f?.flows).toEqual(['tcp 10.10.1.5:39012>10.10.2.8:6379']);
    expect(f?.cause).toContain('kubeproxy_iptables_ct_state_invalid_dropped_packets_total');
    expect(f?.evidence.some((e) => e.text.includes('zone 65520'))).toBe(true);
  });

  it('stays quiet without OVS, and for drops with other reasons', () => {
    const none = (list: Observation[]) =>
      diagnose(tableOf(list), { now: T0 + 3000 }).findings.filter(
        (x) => x.rule === 'ovs.invalid-drop',
      );
    expect(none([...sockets, drop('OVS_DROP_EXPLICIT')])).toEqual([]);
    expect(none([ovs, ...sockets, drop('NO_SOCKET')])).toEqual([]);
  });
});

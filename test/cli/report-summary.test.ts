// The summary's per-namespace timeout rows: one row per distinct value, the host first.
import { describe, expect, it } from 'vitest';
import { byScope, renderSummary } from '../../src/cli/output/report-text.js';
import type { CaptureSummary } from '../../src/engine/summary.js';

function summary(keepalive: CaptureSummary['timeouts']['keepalive']): CaptureSummary {
  return {
    conntrack: { snapshots: 0, entries: 0, byState: {}, byProto: {}, nat: 0, unreplied: 0 },
    conntrackEvents: { NEW: 0, UPDATE: 0, DESTROY: 0, userspace: 0, expired: 0 },
    ipvs: { services: 0, realServers: 0, conns: 0 },
    sockets: { snapshots: 0, sockets: 0, keepaliveTimers: 0, scopes: [] },
    probes: {},
    timeouts: { conntrack: {}, keepalive },
    scopes: [],
  };
}

describe('timeouts per namespace', () => {
  it('groups namespaces with the same values, host first, naming at most three', () => {
    const rows = byScope(
      { pod_b: 1, pod_a: 1, host: 1, pod_c: 2, pod_d: 1, pod_e: 1, ab: 3 },
      (v) => `v${v}`,
    );
    expect(rows).toEqual([
      ['host, pod_a and 3 more', 'v1'],
      ['ab', 'v3'],
      ['pod_c', 'v2'],
    ]);
    expect(byScope({ pod_x: 1, host: 1 }, String)).toEqual([['host, pod_x', '1']]);
  });

  it("shows a pod's own keepalive apart from the pods that keep the kernel's", () => {
    const ka = { time: 7200, intvl: 75, probes: 9 };
    const text = renderSummary(
      summary({
        host: ka,
        pod_shop_web: ka,
        pod_shop_api: ka,
        pod_crm_contacts: { time: 600, intvl: 75, probes: 9 },
        pod_shop_db: ka,
      }),
    ).join('\n');
    expect(text).toContain(
      'keepalive   host, pod_shop_api and 2 more: time 7200, intvl 75, probes 9',
    );
    expect(text).toContain('keepalive   pod_crm_contacts: time 600, intvl 75, probes 9');
    expect(text.match(/keepalive /g)?.length).toBe(2);
  });
});

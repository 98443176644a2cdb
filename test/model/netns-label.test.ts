import { describe, expect, it } from 'vitest';
import { netnsScope, type NetnsOwner, type PodOwner } from '../../src/host/owners.js';
import { netnsLabel } from '../../src/model/netns-label.js';
import { ownersToLines } from '../../src/sources/owners.js';

const UID = '0f5b7c2e-4d3a-4b1c-9e8f-7a6b5c4d3e2f';
// A StatefulSet pod name near the 63-character limit: pod_<namespace>_<name> is longer than 64.
const LONG = 'payments-reconciliation-worker-with-a-very-long-name-0';

const pod = (name: string, namespace = 'production'): PodOwner => ({
  type: 'pod',
  uid: UID,
  namespace,
  name,
  netns: [4026532300],
  hostNetwork: false,
});
const ns = (names: string[] = []): NetnsOwner => ({
  type: 'netns',
  ino: 4026532300,
  names,
  host: false,
  pids: [100],
  pods: [UID],
  enterPid: 100,
});

describe('netnsLabel', () => {
  it('names a pod namespace by the pod when that fits a file name', () => {
    expect(
      netnsLabel({ ino: 1, names: [], pod: { uid: UID, namespace: 'default', name: 'web-0' } }),
    ).toBe('pod_default_web-0');
  });

  it('falls back to the pod uid when pod_<namespace>_<name> is longer than 64 characters', () => {
    expect(`pod_production_${LONG}`.length).toBeGreaterThan(64);
    expect(
      netnsLabel({ ino: 1, names: [], pod: { uid: UID, namespace: 'production', name: LONG } }),
    ).toBe(`pod_${UID}`);
  });

  it('prefers a /run/netns name, skips one unfit for a file name, and ends at the inode', () => {
    expect(
      netnsLabel({ ino: 7, names: ['kdiag-x'], pod: { uid: UID, namespace: 'a', name: 'b' } }),
    ).toBe('kdiag-x');
    expect(netnsLabel({ ino: 7, names: ['bad name'] })).toBe('netns_7');
    expect(netnsLabel({ ino: 7, names: [] })).toBe('netns_7');
  });

  it('gives a long-named pod one label, whether from the live table or from its recorded owner lines', () => {
    const table = { netns: [ns()], pods: [pod(LONG)], pids: [] };
    const live = netnsScope(table.netns[0]!, table.pods);
    // What a replay sees: the JSON lines kdiag:owners recorded.
    const items = ownersToLines(table).map(
      (l) =>
        JSON.parse(l) as {
          type: string;
          uid?: string;
          namespace?: string;
          name?: string;
          ino?: number;
          names?: string[];
          pods?: string[];
        },
    );
    const n = items.find((i) => i.type === 'netns')!;
    const p = items.find((i) => i.type === 'pod' && i.uid === n.pods![0])!;
    const replayed = netnsLabel({
      ino: n.ino!,
      names: n.names!,
      pod: { uid: p.uid!, namespace: p.namespace, name: p.name },
    });
    expect(live).toBe(`pod_${UID}`);
    expect(replayed).toBe(live);
  });
});

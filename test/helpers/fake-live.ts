// An in-memory LiveSystem for unit tests: no root, no kernel, and it can misbehave on demand.
import type { IpvsTimeouts } from '../../src/apply/allowlist.js';
import type { LiveSystem } from '../../src/apply/live-system.js';
import { describeTarget, type Target } from '../../src/apply/target.js';

export interface FakeLive extends LiveSystem {
  readonly values: Map<string, string>;
  ipvs: IpvsTimeouts | undefined;
  namespaces: Map<string, string>;
  /** Replace what a write stores (clamping kernels, buggy writers). */
  transform: (key: string, value: string) => string;
  writes: string[];
}

export const at = (key: string, target: Target = { kind: 'node' }): string =>
  `${describeTarget(target)}|${key}`;

/** A fake system holding `values` (keys from `at()`). */
export function fakeLive(
  values: Record<string, string>,
  namespaces: Record<string, string> = {},
): FakeLive {
  const fake: FakeLive = {
    values: new Map(Object.entries(values)),
    ipvs: undefined,
    namespaces: new Map(Object.entries({ node: 'init', ...namespaces })),
    transform: (_k, v) => v,
    writes: [],
    async readSysctl(key, target) {
      const v = fake.values.get(at(key, target));
      if (v === undefined) throw new Error(`no ${key}`);
      return v;
    },
    async writeSysctl(key, value, target) {
      if (!fake.values.has(at(key, target))) throw new Error(`no ${key}`);
      fake.writes.push(`${at(key, target)}=${value}`);
      fake.values.set(at(key, target), fake.transform(key, value));
    },
    async readIpvsTimeouts() {
      if (!fake.ipvs) throw new Error('no ipvs');
      return fake.ipvs;
    },
    async setIpvsTimeouts(t) {
      if (!fake.ipvs) throw new Error('no ipvs');
      fake.writes.push(`ipvs=${t.tcp},${t.tcpfin},${t.udp}`);
      fake.ipvs = {
        tcp: t.tcp || fake.ipvs.tcp,
        tcpfin: t.tcpfin || fake.ipvs.tcpfin,
        udp: t.udp || fake.ipvs.udp,
      };
    },
    async conntrack() {
      throw new Error('no conntrack');
    },
    async namespaceId(target) {
      return fake.namespaces.get(
        target.kind === 'node'
          ? 'node'
          : target.kind === 'netns'
            ? target.name
            : `pid:${target.pid}`,
      );
    },
  };
  return fake;
}

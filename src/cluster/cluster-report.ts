// One report over many nodes' diagnoses (kdiag merge): the same finding across nodes grouped, the
// nodes whose timeouts differ from the majority, per Service the flows at risk on each node, and
// the one suggestion that fixes findings on the most nodes. Pure.
import type { LayerTimeouts } from '../engine/summary.js';
import type { Diagnosis, Layer } from '../model/diagnosis.js';

export interface NodeInput {
  /** The node's name: the bundle's hostname, else the file or folder name. */
  readonly node: string;
  readonly path: string;
  /** Absent when the bundle could not be read. */
  readonly diagnosis?: Diagnosis;
  readonly timeouts?: LayerTimeouts;
  readonly redacted?: boolean;
  /** Why nothing of this bundle could be used. */
  readonly problem?: string;
}

export interface FindingGroup {
  readonly rule: string;
  readonly fm: string;
  readonly severity: string;
  readonly title: string;
  readonly nodes: readonly string[];
  /** The cause as the first node (by name) words it. */
  readonly example: { readonly node: string; readonly cause: string };
  readonly flows: number;
}

export interface SettingSpread {
  /** `conntrack established`, `keepalive time`, `ipvs tcp`, `kube-proxy tcpEstablishedTimeout`. */
  readonly key: string;
  readonly majority: string;
  readonly majorityNodes: readonly string[];
  readonly outliers: readonly { readonly node: string; readonly value: string }[];
}

export interface ServiceRisk {
  /** The Service name, else the address:port the flows went to. */
  readonly service: string;
  readonly nodes: readonly {
    readonly node: string;
    readonly flows: readonly {
      readonly id: string;
      readonly firstToForget: Layer;
      readonly idleSec: number | null;
    }[];
  }[];
}

export interface BestFix {
  readonly id: string;
  readonly title: string;
  readonly nodes: readonly string[];
  readonly findings: number;
  readonly commands: readonly { readonly label: string; readonly text: string }[];
  /** Its values differ between nodes (each node's own report has them); the commands are the first node's. */
  readonly variesByNode?: boolean;
}

export interface ClusterReport {
  readonly nodes: readonly {
    readonly node: string;
    readonly path: string;
    readonly findings: number;
    readonly atRisk: number;
    readonly redacted: boolean;
    readonly problem?: string;
  }[];
  readonly groups: readonly FindingGroup[];
  readonly settings: readonly SettingSpread[];
  readonly services: readonly ServiceRisk[];
  readonly bestFix?: BestFix;
  /** Nodes with at least one finding. */
  readonly nodesWithFindings: number;
  readonly redacted: boolean;
}

/** The timeouts compared across nodes, flattened to `key → value` (host scope only). */
export function settingValues(t: LayerTimeouts | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (t === undefined) return out;
  const ct = t.conntrack.host;
  for (const k of ['established', 'close_wait', 'fin_wait', 'time_wait', 'unacknowledged', 'max']) {
    const v = ct?.[k];
    if (v !== undefined) out.set(`conntrack ${k}`, String(v));
  }
  const ka = t.keepalive.host;
  for (const k of ['time', 'intvl', 'probes'] as const) {
    const v = ka?.[k];
    if (v !== undefined) out.set(`keepalive ${k}`, String(v));
  }
  if (t.ipvs)
    for (const k of ['tcp', 'tcpfin', 'udp'] as const) out.set(`ipvs ${k}`, String(t.ipvs[k]));
  if (t.kubeProxy) {
    out.set('kube-proxy mode', t.kubeProxy.mode);
    out.set('kube-proxy tcpEstablishedTimeout', String(t.kubeProxy.tcpEstablishedTimeout));
    out.set('kube-proxy tcpCloseWaitTimeout', String(t.kubeProxy.tcpCloseWaitTimeout));
  }
  return out;
}

function byCountThenName<T>(count: (x: T) => number, name: (x: T) => string) {
  return (a: T, b: T): number =>
    count(b) - count(a) || (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0);
}

/** Merges per-node diagnoses into one cluster report. */
export function clusterReport(inputs: readonly NodeInput[]): ClusterReport {
  const nodes = [...inputs].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  const read = nodes.filter((n) => n.diagnosis !== undefined);

  const groups = new Map<
    string,
    { g: Omit<FindingGroup, 'nodes' | 'flows'>; nodes: Set<string>; flows: Set<string> }
  >();
  for (const n of read) {
    for (const f of n.diagnosis!.findings) {
      const key = `${f.rule}\u0000${f.title}`;
      let e = groups.get(key);
      if (e === undefined) {
        e = {
          g: {
            rule: f.rule,
            fm: f.fm,
            severity: f.severity,
            title: f.title,
            example: { node: n.node, cause: f.cause },
          },
          nodes: new Set(),
          flows: new Set(),
        };
        groups.set(key, e);
      }
      e.nodes.add(n.node);
      for (const fl of f.flows) e.flows.add(`${n.node}\u0000${fl}`);
    }
  }
  const sev = (s: string): number => (s === 'critical' ? 0 : s === 'warning' ? 1 : 2);
  const groupList: FindingGroup[] = [...groups.values()]
    .map((e) => ({ ...e.g, nodes: [...e.nodes], flows: e.flows.size }))
    .sort(
      (a, b) =>
        sev(a.severity) - sev(b.severity) ||
        byCountThenName<FindingGroup>(
          (g) => g.nodes.length,
          (g) => g.rule,
        )(a, b),
    );

  // Settings: per key, the value most nodes have; nodes with another value are outliers.
  const values = new Map<string, Map<string, string[]>>();
  for (const n of read) {
    for (const [k, v] of settingValues(n.timeouts)) {
      const byValue = values.get(k) ?? new Map<string, string[]>();
      byValue.set(v, [...(byValue.get(v) ?? []), n.node]);
      values.set(k, byValue);
    }
  }
  const settings: SettingSpread[] = [];
  for (const [key, byValue] of values) {
    if (byValue.size < 2) continue;
    const ranked = [...byValue.entries()].sort(
      byCountThenName<[string, string[]]>(
        (e) => e[1].length,
        (e) => e[0],
      ),
    );
    const [majority, majorityNodes] = ranked[0]!;
    settings.push({
      key,
      majority,
      majorityNodes,
      outliers: ranked.slice(1).flatMap(([value, ns]) => ns.map((node) => ({ node, value }))),
    });
  }

  // Per Service, the flows at risk (some layer forgets them before anything refreshes them).
  const services = new Map<string, Map<string, ServiceRisk['nodes'][number]['flows'][number][]>>();
  for (const n of read) {
    for (const f of n.diagnosis!.flows) {
      if (f.firstToForget === undefined) continue;
      const svc = f.service ?? `${f.target.addr}:${f.target.port}`;
      const perNode = services.get(svc) ?? new Map();
      perNode.set(n.node, [
        ...(perNode.get(n.node) ?? []),
        { id: f.id, firstToForget: f.firstToForget, idleSec: f.idleSec },
      ]);
      services.set(svc, perNode);
    }
  }
  const serviceList: ServiceRisk[] = [...services.entries()]
    .map(([service, perNode]) => ({
      service,
      nodes: [...perNode.entries()].map(([node, flows]) => ({ node, flows })),
    }))
    .sort(
      byCountThenName<ServiceRisk>(
        (s) => s.nodes.length,
        (s) => s.service,
      ),
    );

  // The suggestion that fixes findings on the most nodes (then the most findings).
  const fixes = new Map<
    string,
    { s: BestFix; nodes: Set<string>; findings: number; titles: Set<string> }
  >();
  for (const n of read) {
    const d = n.diagnosis!;
    for (const s of d.suggestions) {
      if (s.fixes.length === 0) continue;
      // One suggestion id is one change; its values (a keepalive idle) may differ per node.
      const key = s.id;
      const e = fixes.get(key) ?? {
        s: { id: s.id, title: s.title, nodes: [], findings: 0, commands: s.commands },
        nodes: new Set<string>(),
        findings: 0,
        titles: new Set<string>(),
      };
      e.nodes.add(n.node);
      e.findings += s.fixes.length;
      e.titles.add(s.title);
      fixes.set(key, e);
    }
  }
  const best = [...fixes.values()].sort(
    (a, b) => b.nodes.size - a.nodes.size || b.findings - a.findings || (a.s.id < b.s.id ? -1 : 1),
  )[0];

  return {
    nodes: nodes.map((n) => ({
      node: n.node,
      path: n.path,
      findings: n.diagnosis?.findings.length ?? 0,
      atRisk: n.diagnosis?.flows.filter((f) => f.firstToForget !== undefined).length ?? 0,
      redacted: Boolean(n.redacted),
      ...(n.problem === undefined ? {} : { problem: n.problem }),
    })),
    groups: groupList,
    settings,
    services: serviceList,
    ...(best === undefined
      ? {}
      : {
          bestFix: {
            ...best.s,
            nodes: [...best.nodes],
            findings: best.findings,
            ...(best.titles.size > 1 ? { variesByNode: true } : {}),
          },
        }),
    nodesWithFindings: read.filter((n) => n.diagnosis!.findings.length > 0).length,
    redacted: nodes.some((n) => n.redacted),
  };
}

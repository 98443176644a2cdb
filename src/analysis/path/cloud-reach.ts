// Which flows cross an external layer (--cloud's scope): a NAT sees egress to outside addresses,
// a load balancer the flows arriving through it, `@dst=` a destination prefix, `@svc=` one Service.
// pathTimeouts and screenPath both ask here, so the cheap screen and the full path agree.
import { isLoopback, isPrivateAddr } from '../../model/cloud-presets.js';
import {
  cidrContains,
  NODE_PORT_MAX,
  NODE_PORT_MIN,
  parseCloudSpec,
} from '../../model/cloud-scope.js';
import type { Flow } from '../../model/flow.js';
import type { FlowTable } from '../../model/flow-table.js';
import type { PathLayerSpec } from './context.js';

/** True when the flow crosses the layer. */
export function crossesLayer(table: FlowTable, p: PathLayerSpec, f: Flow): boolean {
  const c = table.addr(f.clientAddrId);
  const tg = table.addr(f.targetAddrId);
  if (isLoopback(c) || isLoopback(tg)) return false;
  const s = p.scope;
  switch (s.kind) {
    case 'all':
      return true;
    case 'external':
      return !isPrivateAddr(tg);
    case 'ingress':
      return (
        !isPrivateAddr(c) ||
        (f.targetPort >= NODE_PORT_MIN &&
          f.targetPort <= NODE_PORT_MAX &&
          !isClusterIp(table, tg, f.targetPort))
      );
    case 'dst':
      return s.cidrs.some((x) => cidrContains(x, tg));
    case 'svc':
      return serviceMatches(table, s.namespace, s.name, f, tg);
  }
}

function isClusterIp(table: FlowTable, addr: string, port: number): boolean {
  for (const sv of table.iptables()?.value.services ?? [])
    if (sv.clusterIP === addr && (sv.port === undefined || sv.port === port)) return true;
  return false;
}

function serviceMatches(
  table: FlowTable,
  ns: string,
  name: string,
  f: Flow,
  target: string,
): boolean {
  const backend = table.backend(f);
  for (const sv of table.iptables()?.value.services ?? []) {
    if (sv.namespace !== ns || sv.name !== name) continue;
    if (sv.clusterIP === target && (sv.port === undefined || sv.port === f.targetPort)) return true;
    for (const e of sv.endpoints) {
      if (backend && e.addr === backend.addr && e.port === backend.port) return true;
      if (e.addr === target && e.port === f.targetPort) return true;
    }
  }
  return false;
}

/**
 * What the `--cloud` values cannot apply to in this capture: a `@svc=` Service its kube-proxy
 * rules do not show (the layer then crosses no flow, and its silence must not read as health).
 */
export function cloudScopeNotes(
  table: FlowTable,
  cloud: string | readonly string[] | undefined,
): string[] {
  const known = new Set(
    (table.iptables()?.value.services ?? []).map((s) => `${s.namespace}/${s.name}`),
  );
  const out: string[] = [];
  for (const text of typeof cloud === 'string' ? [cloud] : (cloud ?? [])) {
    const r = parseCloudSpec(text);
    if (!r.ok || r.value.scope.kind !== 'svc') continue;
    const id = `${r.value.scope.namespace}/${r.value.scope.name}`;
    if (!known.has(id))
      out.push(
        `--cloud ${text}: Service ${id} is not in the capture's kube-proxy rules (iptables-save or nft): the layer applies to no flow`,
      );
  }
  return out;
}

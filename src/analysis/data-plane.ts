// Which data plane moves the node's Service traffic, decided from facts (a host's processes, BPF
// maps and rules, or a bundle's files), and what kdiag can and cannot see on it. Pure: the host
// reader (host/data-plane-facts.ts) and the bundle reader gather the facts.
import type { FlowTable } from '../model/flow-table.js';
import type { DataPlaneFacts } from '../parse/data-plane-facts.js';

export type { DataPlaneFacts };

export type DataPlaneName = 'kube-proxy' | 'cilium' | 'calico' | 'ovs';

export interface DataPlaneItem {
  readonly name: DataPlaneName;
  /** `iptables`, `ipvs`, `nftables`, `BPF`, `iptables` (Calico), … when known. */
  readonly mode?: string;
  /** The facts it was found by. */
  readonly evidence: readonly string[];
  /** What kdiag reads of it, and what it cannot (with why). */
  readonly sees: readonly string[];
  readonly blind: readonly string[];
}

/** The bundle files a data-plane reader writes: their presence proves the reader ran. */
export const DATA_PLANE_FILES = {
  cilium: 'cilium-ct.txt',
  calico: 'calico-ct.txt',
  ovs: 'ovs-conntrack.txt',
  nft: 'nft-ruleset.txt',
} as const;

const has = (xs: readonly string[] | undefined, x: string) => xs?.includes(x) === true;

/** Every data plane the facts show, kube-proxy first; empty when none is seen. */
export function detectDataPlane(f: DataPlaneFacts): DataPlaneItem[] {
  const out: DataPlaneItem[] = [];
  const kp = kubeProxy(f);
  if (kp) out.push(kp);
  const cilium = ciliumOf(f);
  if (cilium) out.push(cilium);
  const calico = calicoOf(f);
  if (calico) out.push(calico);
  const ovs = ovsOf(f);
  if (ovs) out.push(ovs);
  return out;
}

function kubeProxy(f: DataPlaneFacts): DataPlaneItem | undefined {
  const ev: string[] = [];
  if (has(f.processes, 'kube-proxy')) ev.push('kube-proxy process');
  let mode: string | undefined;
  if (f.kubeProxyMode !== undefined) {
    mode = f.kubeProxyMode === '' ? 'iptables' : f.kubeProxyMode;
    ev.push(
      `mode ${f.kubeProxyMode === '' ? 'default (iptables)' : f.kubeProxyMode} from ${f.kubeProxyModeSource ?? 'its config'}`,
    );
  }
  const nftKp = (f.nftTables ?? []).some((t) => /^ip6? kube-proxy$/.test(t));
  if (nftKp) ev.push('nft table kube-proxy');
  if (f.kubeServicesChain) ev.push('KUBE-SERVICES chain');
  if ((f.ipvsServices ?? 0) > 0) ev.push(`${f.ipvsServices} IPVS services`);
  // Rules decide when the config does not: the mode's own tables are what moves packets.
  mode ??= nftKp
    ? 'nftables'
    : (f.ipvsServices ?? 0) > 0
      ? 'ipvs'
      : f.kubeServicesChain
        ? 'iptables'
        : undefined;
  if (ev.length === 0) return undefined;
  const sees = ['conntrack (nf_conntrack)'];
  const blind: string[] = [];
  if (mode === 'ipvs') sees.push('IPVS connections (ipvsadm)');
  if (mode === 'nftables') {
    if (f.files === undefined || has(f.files, DATA_PLANE_FILES.nft))
      sees.push('nft rules (nft list ruleset)');
    else blind.push(`nft rules: no ${DATA_PLANE_FILES.nft}`);
  }
  if (mode === 'iptables') sees.push('iptables rules (iptables-save)');
  return { name: 'kube-proxy', ...(mode ? { mode } : {}), evidence: ev, sees, blind };
}

function ciliumOf(f: DataPlaneFacts): DataPlaneItem | undefined {
  const ev: string[] = [];
  if (has(f.processes, 'cilium-agent')) ev.push('cilium-agent process');
  const maps = (f.bpfMaps ?? []).filter((m) => m.startsWith('cilium_'));
  if (maps.length > 0) ev.push(`${maps.length} cilium_* BPF maps`);
  if (has(f.files, DATA_PLANE_FILES.cilium)) ev.push(DATA_PLANE_FILES.cilium);
  if (ev.length === 0) return undefined;
  const sees: string[] = [];
  const blind: string[] = [];
  const ct = 'BPF conntrack (cilium_ct*)';
  if (f.files !== undefined) {
    if (has(f.files, DATA_PLANE_FILES.cilium)) sees.push(`${ct} from ${DATA_PLANE_FILES.cilium}`);
    else blind.push(`${ct} not read — no ${DATA_PLANE_FILES.cilium} in the bundle`);
  } else if (has(f.tools, 'cilium-dbg') || has(f.tools, 'cilium')) sees.push(`${ct} (cilium-dbg)`);
  else blind.push(`${ct} not read — cilium-dbg not found`);
  // Cilium's kube-proxy replacement keeps Service flows out of nf_conntrack entirely.
  blind.push('Service NAT done in BPF does not appear in conntrack -L');
  return { name: 'cilium', mode: 'BPF', evidence: ev, sees, blind };
}

function calicoOf(f: DataPlaneFacts): DataPlaneItem | undefined {
  const ev: string[] = [];
  if (has(f.processes, 'calico-node')) ev.push('calico-node process');
  const maps = (f.bpfMaps ?? []).filter((m) => m.startsWith('cali_'));
  if (maps.length > 0) ev.push(`${maps.length} cali_* BPF maps`);
  if (f.calicoBpf) ev.push('FelixConfiguration bpfEnabled');
  if (has(f.files, DATA_PLANE_FILES.calico)) ev.push(DATA_PLANE_FILES.calico);
  if (ev.length === 0) return undefined;
  const bpf = maps.length > 0 || f.calicoBpf === true || has(f.files, DATA_PLANE_FILES.calico);
  const sees: string[] = [];
  const blind: string[] = [];
  if (!bpf) sees.push('conntrack (Calico iptables mode uses nf_conntrack)');
  else {
    const ct = 'BPF conntrack (cali_v4_ct*)';
    if (f.files !== undefined) {
      if (has(f.files, DATA_PLANE_FILES.calico)) sees.push(`${ct} from ${DATA_PLANE_FILES.calico}`);
      else blind.push(`${ct} not read — no ${DATA_PLANE_FILES.calico} in the bundle`);
    } else if (has(f.tools, 'calico-node') || has(f.tools, 'calicoctl'))
      sees.push(`${ct} (calico-node -bpf conntrack dump)`);
    else blind.push(`${ct} not read — calico-node binary not found on this host's PATH`);
  }
  return { name: 'calico', mode: bpf ? 'BPF' : 'iptables', evidence: ev, sees, blind };
}

function ovsOf(f: DataPlaneFacts): DataPlaneItem | undefined {
  const ev: string[] = [];
  if (has(f.processes, 'ovs-vswitchd')) ev.push('ovs-vswitchd process');
  if (has(f.files, DATA_PLANE_FILES.ovs)) ev.push(DATA_PLANE_FILES.ovs);
  if (ev.length === 0) return undefined;
  const sees: string[] = [];
  const blind: string[] = [];
  const ct = 'OVS datapath conntrack zones';
  if (f.files !== undefined) {
    if (has(f.files, DATA_PLANE_FILES.ovs)) sees.push(`${ct} from ${DATA_PLANE_FILES.ovs}`);
    else blind.push(`${ct} not read — no ${DATA_PLANE_FILES.ovs} in the bundle`);
  } else if (has(f.tools, 'ovs-appctl') || has(f.tools, 'ovs-dpctl'))
    sees.push(`${ct} (ovs-appctl dpctl/dump-conntrack)`);
  else blind.push(`${ct} not read — ovs-appctl not found`);
  return { name: 'ovs', evidence: ev, sees, blind };
}

const LABEL: Record<DataPlaneName, string> = {
  'kube-proxy': 'kube-proxy',
  cilium: 'Cilium',
  calico: 'Calico',
  ovs: 'OVS',
};

/** One line per data plane: `Cilium (BPF): cilium-agent process; BPF conntrack not read — …`. */
export function describeDataPlane(items: readonly DataPlaneItem[]): string[] {
  if (items.length === 0)
    return ['no data plane recognised (no kube-proxy, Cilium, Calico or OVS evidence)'];
  return items.map((i) => {
    const head = `${LABEL[i.name]}${i.mode ? ` (${i.mode})` : ''}: ${i.evidence.join(', ')}`;
    const parts = [...(i.sees.length ? [`reads ${i.sees.join(', ')}`] : []), ...i.blind];
    return parts.length ? `${head}; ${parts.join('; ')}` : head;
  });
}

/** The facts a bundle gives: its files (a reader's output proves it ran) and the rules it holds. */
export function bundleDataPlaneFacts(table: FlowTable, files: readonly string[]): DataPlaneFacts {
  const ipt = table.iptables()?.value;
  const meta = table.meta('proxy-mode')?.value;
  const kp = table.kubeProxy?.value;
  const mode = typeof meta === 'string' ? meta : kp?.mode;
  return {
    files: files.map((f) => f.replace(/@[^.]*(\.[a-z]+)$/, '$1')),
    ...(mode !== undefined
      ? {
          kubeProxyMode: mode,
          kubeProxyModeSource: typeof meta === 'string' ? '/proxyMode' : 'kube-proxy config',
        }
      : {}),
    ...(ipt ? { kubeServicesChain: ipt.kubeProxyChains } : {}),
    ...(ipt?.kubeProxyNftables ? { nftTables: ['ip kube-proxy'] } : {}),
    ...(table.ipvsServices ? { ipvsServices: table.ipvsServices.value.length } : {}),
  };
}

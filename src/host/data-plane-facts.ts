// The host's data-plane facts for analysis/data-plane.ts: the agents running (/proc/<pid>/comm),
// the BPF maps pinned under /sys/fs/bpf/tc/globals, the tools that read their state, and whether
// kube-proxy's KUBE-SERVICES chain is in the nat table.
import { readdir, readFile } from 'node:fs/promises';
import { ipvsServiceCount, nftTableNames, type DataPlaneFacts } from '../parse/data-plane-facts.js';
import { run, which } from './exec.js';
import { listPids } from './procfs.js';

// comm is cut at 15 bytes; these names fit.
const AGENTS = ['kube-proxy', 'cilium-agent', 'calico-node', 'ovs-vswitchd'];
const TOOLS = ['cilium-dbg', 'cilium', 'calicoctl', 'calico-node', 'ovs-appctl', 'ovs-dpctl'];

/** The agents among the running processes. */
export async function runningAgents(proc = '/proc'): Promise<string[]> {
  const found = new Set<string>();
  for (const pid of await listPids(proc)) {
    const comm = await readFile(`${proc}/${pid}/comm`, 'utf8').catch(() => '');
    const name = comm.trim();
    if (AGENTS.includes(name)) found.add(name);
    if (found.size === AGENTS.length) break;
  }
  return AGENTS.filter((a) => found.has(a));
}

/** Names pinned under the tc globals directory (cilium_*, cali_*); none when absent. */
export async function pinnedMaps(dir = '/sys/fs/bpf/tc/globals'): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

/** Whether kube-proxy's KUBE-SERVICES chain exists (iptables -t nat -S exits 1 when it does not). */
async function kubeServicesChain(): Promise<boolean | undefined> {
  if ((await which('iptables')) === undefined) return undefined;
  const r = await run(['iptables', '-w', '5', '-t', 'nat', '-S', 'KUBE-SERVICES'], {
    reject: false,
    timeoutMs: 5000,
  }).catch(() => undefined);
  return r === undefined ? undefined : r.exitCode === 0;
}

/** Reads the facts; nft and ipvsadm output come from doctor's proofs (already run). */
export async function readDataPlaneFacts(o: {
  root: boolean;
  kubeProxyMode?: string;
  nftTables?: string;
  ipvsList?: string;
}): Promise<DataPlaneFacts> {
  const [processes, bpfMaps, tools, chain] = await Promise.all([
    runningAgents(),
    pinnedMaps(),
    Promise.all(TOOLS.map(async (t) => ((await which(t)) ? t : undefined))),
    o.root ? kubeServicesChain() : Promise.resolve(undefined),
  ]);
  return {
    processes,
    bpfMaps,
    tools: tools.filter((t): t is string => t !== undefined),
    ...(o.kubeProxyMode !== undefined
      ? { kubeProxyMode: o.kubeProxyMode, kubeProxyModeSource: 'kube-proxy flags/config' }
      : {}),
    ...(chain !== undefined ? { kubeServicesChain: chain } : {}),
    ...(o.nftTables !== undefined ? { nftTables: nftTableNames(o.nftTables) } : {}),
    ...(o.ipvsList !== undefined ? { ipvsServices: ipvsServiceCount(o.ipvsList) } : {}),
  };
}

// The facts a data plane is recognised by (analysis/data-plane.ts decides), and the parsers of
// the tool outputs they come from: `nft list tables`, `ipvsadm -Ln`.

/** What was found on a host or in a bundle; every field optional: absent means not looked at. */
export interface DataPlaneFacts {
  /** Process names (/proc/<pid>/comm) of the agents that matter. */
  readonly processes?: readonly string[];
  /** Names under /sys/fs/bpf/tc/globals (Cilium's and Calico's pinned maps). */
  readonly bpfMaps?: readonly string[];
  /** kube-proxy's mode from its config or flags ('' = the default, iptables). */
  readonly kubeProxyMode?: string;
  /** Where the mode came from (`/proxyMode`, `kube-proxy config`). */
  readonly kubeProxyModeSource?: string;
  /** The KUBE-SERVICES chain is in the nat table (iptables-save, iptables -S). */
  readonly kubeServicesChain?: boolean;
  /** nft tables as `family name` (`ip kube-proxy`). */
  readonly nftTables?: readonly string[];
  /** IPVS virtual services listed by ipvsadm -Ln. */
  readonly ipvsServices?: number;
  /** Tools on PATH that read a data plane's state (cilium-dbg, calicoctl, ovs-appctl, ovs-dpctl). */
  readonly tools?: readonly string[];
  /** Files of a bundle (evidence that a reader ran: cilium-ct.txt, calico-ct.txt …). */
  readonly files?: readonly string[];
  /** Calico's FelixConfiguration says bpfEnabled: true. */
  readonly calicoBpf?: boolean;
}

/** `nft list tables` output as `family name`. */
export function nftTableNames(stdout: string): string[] {
  const out: string[] = [];
  for (const l of stdout.split('\n')) {
    const m = /^table (\w+) (\S+)/.exec(l.trim());
    if (m) out.push(`${m[1]} ${m[2]}`);
  }
  return out;
}

/** Virtual services in `ipvsadm -Ln` output (lines starting TCP/UDP/SCTP). */
export function ipvsServiceCount(stdout: string): number {
  return stdout.split('\n').filter((l) => /^(TCP|UDP|SCTP)\s/.test(l)).length;
}

// iptables-save output reduced to what kdiag reasons about.

export interface IptablesRule {
  readonly table: string;
  readonly chain: string;
  /** The rule text after `-A CHAIN `. */
  readonly spec: string;
  readonly target?: string;
  readonly comment?: string;
  readonly packets?: number;
  readonly bytes?: number;
  readonly line: number;
}

/** A rule that drops conntrack-INVALID packets (kube-proxy's KUBE-FORWARD rule or a CNI/host rule). */
export interface InvalidDropRule {
  readonly table: string;
  readonly chain: string;
  /** The base chain it is reached from, when the jump chain is known (KUBE-FORWARD → FORWARD). */
  readonly hook?: string;
  readonly packets?: number;
  readonly line: number;
}

/** A Service port as kube-proxy names it in rule comments: `ns/name:port`. */
export interface ServicePortRef {
  readonly namespace: string;
  readonly name: string;
  readonly portName: string;
  readonly clusterIP?: string;
  readonly port?: number;
  readonly proto?: string;
  /** DNAT destinations of its endpoint chains. */
  readonly endpoints: readonly { readonly addr: string; readonly port: number }[];
}

export interface IptablesRuleset {
  readonly rules: readonly IptablesRule[];
  readonly chains: Readonly<Record<string, readonly string[]>>;
  readonly invalidDropRules: readonly InvalidDropRule[];
  readonly services: readonly ServicePortRef[];
  /** True when the KUBE-* chains of kube-proxy's iptables mode are present. */
  readonly kubeProxyChains: boolean;
  /** True when `nft list ruleset` shows kube-proxy's nftables-mode table (`ip[6] kube-proxy`). */
  readonly kubeProxyNftables?: boolean;
}

/**
 * One netns's rules as iptables-save, ip6tables-save and nft give them, read as one ruleset: a
 * fact from any of them (an INVALID drop, a Service's endpoints, kube-proxy's chains) holds.
 */
export function mergeRulesets(parts: readonly IptablesRuleset[]): IptablesRuleset {
  if (parts.length === 1) return parts[0]!;
  const chains: Record<string, string[]> = {};
  for (const p of parts)
    for (const [t, c] of Object.entries(p.chains)) chains[t] = [...(chains[t] ?? []), ...c];
  return {
    rules: parts.flatMap((p) => p.rules),
    chains,
    invalidDropRules: parts.flatMap((p) => p.invalidDropRules),
    services: parts.flatMap((p) => p.services),
    kubeProxyChains: parts.some((p) => p.kubeProxyChains),
    ...(parts.some((p) => p.kubeProxyNftables === true) ? { kubeProxyNftables: true } : {}),
  };
}

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
}

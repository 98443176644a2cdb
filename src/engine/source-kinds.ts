// The one catalogue of source kinds: for each, the kind part of its source ids, the command (or file)
// it stands for, its bundle file and the progress line `kdiag collect` writes for it. Pure data; the
// decoder's parsers are keyed by these ids (decoder.ts), and the sources in sources/ build the argv
// (options such as a netns or a procfs fallback decide it there).

/** What a collected file's progress line is made from. */
export interface CollectedOutput {
  /** Lines of output. */
  readonly n: number;
  readonly lines: readonly string[];
  /** The network namespace the file is for (`ss@NAME.txt`), if any. */
  readonly scope?: string;
  /** Where a config file was read from. */
  readonly from?: string;
}

export interface SourceKind {
  /** The parser-selecting part of a source id (`ss:sockets` of `ss:sockets@ns`). */
  readonly id: string;
  /** The command or file whose output the records are, for people (a bundle's begin record). */
  readonly what: string;
  /** Its file in a bundle folder, and the place it is replayed in (files that others depend on first). */
  readonly bundle?: { readonly file: string; readonly order: number; readonly stream?: boolean };
  /** The progress line once `kdiag collect` has written it. */
  readonly collected?: (o: CollectedOutput) => string;
}

const scoped = (o: CollectedOutput): string => (o.scope === undefined ? '' : ` for ${o.scope}`);

/** Every source kind kdiag reads, in the order a bundle is replayed. */
export const SOURCE_KINDS: readonly SourceKind[] = [
  {
    id: 'kdiag:manifest',
    what: 'kdiag collect manifest',
    bundle: { file: 'kdiag-collect.json', order: 0 },
  },
  {
    id: 'sysctl:all',
    what: 'sysctl -a',
    bundle: { file: 'sysctl.txt', order: 1 },
    collected: (o) => `Sysctls read${scoped(o)} (${o.n} keys)`,
  },
  {
    id: 'kube-proxy:args',
    what: 'the kube-proxy command line',
    bundle: { file: 'kube-proxy.args', order: 2 },
    collected: (o) => `kube-proxy command line read (${o.n} arguments)`,
  },
  {
    id: 'kube-proxy:config',
    what: 'a KubeProxyConfiguration',
    bundle: { file: 'kube-proxy.yaml', order: 3 },
    collected: (o) => `kube-proxy config read from ${o.from ?? '?'} (${o.n} lines)`,
  },
  {
    id: 'iptables:save',
    what: 'iptables-save',
    bundle: { file: 'iptables-save.txt', order: 4 },
    collected: (o) =>
      `iptables rules read (${o.lines.filter((x) => /^(\[\d+:\d+\] )?-A /.test(x)).length} rules)`,
  },
  {
    id: 'ip6tables:save',
    what: 'ip6tables-save',
    bundle: { file: 'ip6tables-save.txt', order: 4 },
    collected: (o) =>
      `ip6tables rules read (${o.lines.filter((x) => /^(\[\d+:\d+\] )?-A /.test(x)).length} rules)`,
  },
  {
    id: 'nft:ruleset',
    what: 'nft list ruleset',
    bundle: { file: 'nft-ruleset.txt', order: 4 },
    collected: (o) =>
      `nftables ruleset read (${o.lines.filter((x) => /^table /.test(x)).length} tables)`,
  },
  {
    id: 'ipvsadm:timeout',
    what: 'ipvsadm -Ln --timeout',
    bundle: { file: 'ipvsadm-timeout.txt', order: 5 },
    collected: (o) => `IPVS timeouts read (${(o.lines[0] ?? '').trim()})`,
  },
  {
    id: 'ipvsadm:services',
    what: 'ipvsadm -Ln',
    bundle: { file: 'ipvsadm-Ln.txt', order: 6 },
    collected: (o) =>
      `IPVS services read (${o.lines.filter((x) => /^(TCP|UDP|SCTP|FWM) /.test(x)).length} services)`,
  },
  {
    id: 'ipvsadm:stats',
    what: 'ipvsadm -Ln --stats',
    bundle: { file: 'ipvsadm-stats.txt', order: 7 },
    collected: (o) => `IPVS statistics read (${o.n} lines)`,
  },
  { id: 'kdiag:owners', what: 'kdiag owner table', bundle: { file: 'owners.ndjson', order: 8 } },
  {
    id: 'conntrack:events',
    what: 'conntrack -E -o timestamp',
    bundle: { file: 'conntrack-E.txt', order: 9, stream: true },
  },
  {
    id: 'conntrack:stats',
    what: 'conntrack -S',
    bundle: { file: 'conntrack-S.txt', order: 10 },
    collected: (o) => `Conntrack statistics read (${o.n} CPUs)`,
  },
  {
    id: 'procfs:stat_nf_conntrack',
    what: '/proc/net/stat/nf_conntrack',
    bundle: { file: 'stat_nf_conntrack.txt', order: 11 },
    collected: (o) => `Conntrack per-CPU counters read (${Math.max(0, o.n - 1)} CPUs)`,
  },
  {
    id: 'conntrack:list',
    what: 'conntrack -L',
    bundle: { file: 'conntrack-L.txt', order: 12 },
    collected: (o) => `Conntrack table read with conntrack -L (${o.n} entries)`,
  },
  {
    id: 'procfs:nf_conntrack',
    what: '/proc/net/nf_conntrack',
    bundle: { file: 'nf_conntrack.txt', order: 13 },
    collected: (o) => `Conntrack table read from /proc/net/nf_conntrack (${o.n} entries)`,
  },
  {
    id: 'ipvsadm:conns',
    what: 'ipvsadm -Lnc',
    bundle: { file: 'ipvsadm-Lnc.txt', order: 14 },
    collected: (o) => `IPVS connections read (${Math.max(0, o.n - 2)} entries)`,
  },
  {
    id: 'procfs:ip_vs_conn',
    what: '/proc/net/ip_vs_conn',
    bundle: { file: 'ip_vs_conn.txt', order: 15 },
    collected: (o) =>
      `IPVS connections read from /proc/net/ip_vs_conn (${Math.max(0, o.n - 1)} entries)`,
  },
  {
    id: 'ss:sockets',
    what: 'ss -tinoe',
    bundle: { file: 'ss.txt', order: 16 },
    collected: (o) =>
      `Sockets read${scoped(o)} (${o.lines.filter((x) => x !== '' && !/^\s/.test(x)).length} sockets)`,
  },
  { id: 'kdiag:meta', what: 'kdiag annotations (options, notes)' },
  {
    id: 'calico:felixconfig',
    what: 'kubectl get felixconfiguration default -o yaml',
    bundle: { file: 'felixconfiguration.yaml', order: 3 },
    collected: (o) => `FelixConfiguration read (${o.n} lines)`,
  },
  {
    id: 'calico:conntrack',
    what: 'calico-node -bpf conntrack dump --raw',
    bundle: { file: 'calico-ct.txt', order: 13 },
    collected: (o) => `Calico eBPF conntrack read (${o.n} entries)`,
  },
  {
    id: 'ovs:conntrack',
    what: 'ovs-appctl dpctl/dump-conntrack -m -s',
    bundle: { file: 'ovs-conntrack.txt', order: 13 },
    collected: (o) => `OVS conntrack read (${o.n} entries)`,
  },
  {
    id: 'cilium:config',
    what: 'the cilium-config ConfigMap (or the agent flags)',
    bundle: { file: 'cilium-config.yaml', order: 17 },
    collected: (o) => `Cilium config read from ${o.from ?? '?'} (${o.n} lines)`,
  },
  {
    id: 'cilium:ct',
    what: 'cilium-dbg bpf ct list global -d',
    bundle: { file: 'cilium-ct.txt', order: 18 },
    collected: (o) =>
      `Cilium CT entries read (${o.lines.filter((x) => / -> /.test(x)).length} entries)`,
  },
  {
    id: 'kube-proxy:metrics',
    what: "kube-proxy's /metrics",
    bundle: { file: 'kube-proxy-metrics.txt', order: 3 },
    collected: (o) => `kube-proxy metrics read from ${o.from ?? '?'} (${o.n} lines)`,
  },
  {
    id: 'kube-proxy:proxymode',
    what: "kube-proxy's /proxyMode",
    bundle: { file: 'kube-proxy-proxymode.txt', order: 3 },
    collected: (o) => `kube-proxy mode read (${(o.lines[0] ?? '').trim()})`,
  },
];

/** A kind by its id (`ss:sockets`), or undefined. */
export function sourceKindById(id: string): SourceKind | undefined {
  return SOURCE_KINDS.find((k) => k.id === id);
}

/** A kind by its bundle file name without scope (`ss.txt`), or undefined. */
export function sourceKindByBundleFile(file: string): SourceKind | undefined {
  return SOURCE_KINDS.find((k) => k.bundle?.file === file);
}

// RawRecord: the only thing a source produces, and what a recording stores.

/**
 * Source ids are `<tool>:<stream>` with an optional `@<scope>` naming the network namespace
 * the tool ran in (`ss:sockets@kdiag-client`). The part before `@` selects the parser.
 */
export type SourceId = string;

export type RecordKind = 'begin' | 'end' | 'err';

export interface RawRecord {
  /** Capture time, ms since the epoch. */
  readonly t: number;
  readonly src: SourceId;
  /** The exact text line the tool printed (for `begin`: the command; for `end`: the exit status). */
  readonly line: string;
  /**
   * Absent for an ordinary stdout line. Snapshots (`conntrack -L`, `ss`, `sysctl -a` …) are framed
   * by a `begin` and an `end` record of the same src, so a replay knows which lines make one snapshot.
   * `err` marks a stderr line (kept: conntrack prints its summary and errors there).
   */
  readonly k?: RecordKind;
}

/** The parser-selecting part of a source id: `ss:sockets@ns` → `ss:sockets`. */
export function sourceKind(src: SourceId): string {
  const at = src.indexOf('@');
  return at < 0 ? src : src.slice(0, at);
}

/** The network-namespace scope of a source id, or undefined for the host. */
export function sourceScope(src: SourceId): string | undefined {
  const at = src.indexOf('@');
  return at < 0 ? undefined : src.slice(at + 1);
}

/** Well-known source kinds and the command (or file) each stands for. */
export const SOURCE_KINDS = {
  'conntrack:list': 'conntrack -L -o extended,id',
  'conntrack:events': 'conntrack -E -o timestamp,extended,id',
  'conntrack:stats': 'conntrack -S',
  'procfs:nf_conntrack': 'cat /proc/net/nf_conntrack',
  'procfs:stat_nf_conntrack': 'cat /proc/net/stat/nf_conntrack',
  'ipvsadm:services': 'ipvsadm -Ln',
  'ipvsadm:conns': 'ipvsadm -Lnc',
  'ipvsadm:timeout': 'ipvsadm -Ln --timeout',
  'ipvsadm:stats': 'ipvsadm -Ln --stats',
  'procfs:ip_vs_conn': 'cat /proc/net/ip_vs_conn',
  'sysctl:all': 'sysctl -a',
  'ss:sockets': 'ss -tinoeH',
  'iptables:save': 'iptables-save -c',
  'kube-proxy:config': 'KubeProxyConfiguration YAML',
  'kube-proxy:args': 'kube-proxy command line',
  'kdiag:meta': 'kdiag annotations (options, notes)',
  'kdiag:owners': 'kdiag owner table (netns → processes → pods)',
} as const;

export type KnownSourceKind = keyof typeof SOURCE_KINDS;

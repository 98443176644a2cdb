// IPVS snapshots: `ipvsadm -Ln` (services), `ipvsadm -Lnc` or /proc/net/ip_vs_conn (connections),
// `ipvsadm -Ln --timeout`, `ipvsadm -Ln --stats --exact`. When IPVS is not loaded (/proc/net/ip_vs
// missing) every source ends at once with one `err` record saying so: ipvsadm would fail with
// "Protocol not available" and, worse, its first call can auto-load the module.
import { access } from 'node:fs/promises';
import {
  commandSource,
  fileSource,
  SnapshotSource,
  type SnapshotOptions,
} from './snapshot-source.js';

export const PROC_IP_VS = '/proc/net/ip_vs';
export const PROC_IP_VS_CONN = '/proc/net/ip_vs_conn';
export const IPVSADM_SERVICES_ARGV = ['ipvsadm', '-Ln'] as const;
export const IPVSADM_CONNS_ARGV = ['ipvsadm', '-Lnc'] as const;
export const IPVSADM_TIMEOUT_ARGV = ['ipvsadm', '-Ln', '--timeout'] as const;
export const IPVSADM_STATS_ARGV = ['ipvsadm', '-Ln', '--stats', '--exact'] as const;

export const IPVS_ABSENT = `IPVS is not loaded: ${PROC_IP_VS} missing`;

/** Why IPVS sources cannot run here, or undefined when /proc/net/ip_vs exists. */
export async function ipvsUnavailable(procIpVs = PROC_IP_VS): Promise<string | undefined> {
  try {
    await access(procIpVs);
    return undefined;
  } catch {
    return procIpVs === PROC_IP_VS ? IPVS_ABSENT : `IPVS is not loaded: ${procIpVs} missing`;
  }
}

export interface IpvsOptions extends SnapshotOptions {
  /** Read /proc/net/ip_vs_conn (seconds, no name resolution) instead of `ipvsadm -Lnc`. */
  readonly connsFromProcfs?: boolean;
}

export interface IpvsSources {
  readonly services: SnapshotSource;
  readonly conns: SnapshotSource;
  readonly timeout: SnapshotSource;
  readonly stats: SnapshotSource;
  /** Set when IPVS is absent: every source above then yields only `err` + `end`. */
  readonly unavailable?: string;
}

function gated(
  kind: string,
  argv: readonly string[],
  opts: SnapshotOptions,
  unavailable: string | undefined,
): SnapshotSource {
  return unavailable === undefined
    ? commandSource(kind, argv, opts)
    : new SnapshotSource({ kind, argv, ...opts, unavailable });
}

/** The four IPVS sources, checked against /proc/net/ip_vs once. */
export async function ipvsSources(opts: IpvsOptions = {}): Promise<IpvsSources> {
  const unavailable = await ipvsUnavailable();
  const conns =
    opts.connsFromProcfs && unavailable === undefined
      ? fileSource('procfs:ip_vs_conn', PROC_IP_VS_CONN, opts)
      : gated(
          opts.connsFromProcfs ? 'procfs:ip_vs_conn' : 'ipvsadm:conns',
          opts.connsFromProcfs ? ['cat', PROC_IP_VS_CONN] : IPVSADM_CONNS_ARGV,
          opts,
          unavailable,
        );
  return {
    services: gated('ipvsadm:services', IPVSADM_SERVICES_ARGV, opts, unavailable),
    conns,
    timeout: gated('ipvsadm:timeout', IPVSADM_TIMEOUT_ARGV, opts, unavailable),
    stats: gated('ipvsadm:stats', IPVSADM_STATS_ARGV, opts, unavailable),
    ...(unavailable === undefined ? {} : { unavailable }),
  };
}

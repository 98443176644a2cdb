// What the pipeline hands the model: parsed records, stamped with time and scope.
// Row formats (conntrack -L, ipvsadm -Lnc …) stream one row at a time between a begin and an end,
// so a million-entry table never sits in memory twice.
import type {
  ConntrackCpuStats,
  ConntrackEntry,
  ConntrackEvent,
  ConntrackEventLineSource,
} from './conntrack.js';
import type { IptablesRuleset } from './iptables.js';
import type { IpvsConn, IpvsService, IpvsStatsRow, IpvsTimeouts } from './ipvs.js';
import type { KubeProxySettings } from './kube-proxy.js';
import type { ProbeEvent, ProbeLineSource } from './probe-event.js';
import type { SocketInfo } from './socket.js';

export type SnapshotWhat = 'conntrack' | 'ipvs-conns' | 'sockets';

interface ObsBase {
  /** Capture time, ms since the epoch (from the record, never the wall clock). */
  readonly t: number;
  /** Network namespace label the source ran in; undefined = the host (init) namespace. */
  readonly scope?: string;
  /** Source id of the record(s) it came from, for evidence chains. */
  readonly src: string;
  /** The raw line, for row observations (evidence quotes it). */
  readonly raw?: string;
}

export type Observation =
  | (ObsBase & { readonly kind: 'snapshot-begin'; readonly what: SnapshotWhat })
  | (ObsBase & { readonly kind: 'snapshot-end'; readonly what: SnapshotWhat })
  | (ObsBase & { readonly kind: 'conntrack-entry'; readonly entry: ConntrackEntry })
  | (ObsBase & {
      readonly kind: 'conntrack-event';
      readonly event: ConntrackEvent;
      /** Set when `event` is what this source makes of `raw`: the model may keep the line alone. */
      readonly reparse?: ConntrackEventLineSource;
    })
  | (ObsBase & { readonly kind: 'conntrack-stats'; readonly cpus: readonly ConntrackCpuStats[] })
  | (ObsBase & { readonly kind: 'ipvs-conn'; readonly conn: IpvsConn })
  | (ObsBase & { readonly kind: 'ipvs-services'; readonly services: readonly IpvsService[] })
  | (ObsBase & { readonly kind: 'ipvs-timeouts'; readonly timeouts: IpvsTimeouts })
  | (ObsBase & { readonly kind: 'ipvs-stats'; readonly rows: readonly IpvsStatsRow[] })
  | (ObsBase & { readonly kind: 'socket'; readonly socket: SocketInfo })
  | (ObsBase & { readonly kind: 'sysctls'; readonly values: Readonly<Record<string, string>> })
  | (ObsBase & { readonly kind: 'iptables'; readonly ruleset: IptablesRuleset })
  | (ObsBase & { readonly kind: 'kube-proxy'; readonly settings: KubeProxySettings })
  | (ObsBase & {
      readonly kind: 'probe';
      readonly event: ProbeEvent;
      /** Set when `event` is what this source makes of `raw`: the model may keep the line alone. */
      readonly reparse?: ProbeLineSource;
    })
  | (ObsBase & { readonly kind: 'meta'; readonly key: string; readonly value: unknown });

export type ObservationKind = Observation['kind'];

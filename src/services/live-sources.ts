// Chooses the live sources for a command: which tools, how often, in which network namespaces.
import {
  conntrackEventsSource,
  conntrackStatsSource,
  conntrackTableSource,
} from '../sources/conntrack-source.js';
import { ip6tablesSaveSource, iptablesSaveSource } from '../sources/iptables-source.js';
import { ipvsSources } from '../sources/ipvsadm-source.js';
import { discoverKubeProxy } from '../host/kube-proxy.js';
import { kubeProxyArgsSource, kubeProxyConfigSource } from '../sources/kube-proxy-source.js';
import { listNamedNetns } from '../host/netns.js';
import { ownersSource } from '../sources/owners.js';
import type { Clock, Source } from '../sources/source.js';
import { NAMESPACE_READS_PER_SECOND, pacedRoundMs, ReadPacer } from '../sources/read-pacer.js';
import { podSocketSources, ssSource } from '../sources/ss-source.js';
import { podSysctlSources, sysctlSource } from '../sources/sysctl-source.js';
import { readOwners } from '../host/owners.js';
import { nftRulesetSource } from '../sources/nft-source.js';
import { ciliumConfigSource, ciliumCtSource, findCiliumAgent } from '../sources/cilium-source.js';
import { kubeProxyMetricsSources } from '../sources/kube-proxy-metrics-source.js';

export interface LiveSourceOptions {
  /** Run the netfilter-side sources (conntrack, iptables, ipvs, sysctls) inside this named netns. */
  readonly netns?: string;
  readonly clock: Clock;
  /** Period of the snapshot sources; absent = each runs once (kdiag check). */
  readonly intervalMs?: number;
  /** Include the conntrack event stream. */
  readonly events?: boolean;
  readonly kubeProxyConfig?: string;
  /** Also read sockets in every named netns (kdiag-lab-* in the lab) and every pod netns. */
  readonly allSockets?: boolean;
}

export interface LiveSources {
  readonly sources: Source[];
  /** One line each for what is unavailable here (IPVS not loaded …). */
  readonly notes: string[];
}

/** Builds the snapshot (and event) sources for check, trace and the TUI. */
export async function buildLiveSources(o: LiveSourceOptions): Promise<LiveSources> {
  const every = o.intervalMs;
  // Sysctls and rules change under an incident too (an operator, kube-proxy restarting, a lab scenario):
  // cheap enough to re-read at the snapshot pace; iptables-save is heavier on big nodes.
  const slow = every === undefined ? undefined : Math.max(every * 3, 5_000);
  const base = { clock: o.clock, ...(o.netns ? { netns: o.netns } : {}) };
  const notes: string[] = [];
  const sources: Source[] = [];
  sources.push(await sysctlSource({ ...base, ...(every ? { intervalMs: every } : {}) }));
  const kp = await discoverKubeProxy(o.kubeProxyConfig ? { userConfig: o.kubeProxyConfig } : {});
  if (kp.origin === 'none') notes.push(`kube-proxy: ${kp.note ?? 'not found on this node'}`);
  else {
    if (kp.argv) sources.push(kubeProxyArgsSource(kp, { clock: o.clock }));
    if (kp.readPath) sources.push(kubeProxyConfigSource(kp, { clock: o.clock }));
    const kpm = await kubeProxyMetricsSources(kp, {
      clock: o.clock,
      ...(slow ? { intervalMs: slow } : {}),
    });
    if (kpm.note) notes.push(kpm.note);
    sources.push(...kpm.sources);
  }
  sources.push(iptablesSaveSource({ ...base, ...(slow ? { intervalMs: slow } : {}) }));
  sources.push(ip6tablesSaveSource({ ...base, ...(slow ? { intervalMs: slow } : {}) }));
  sources.push(nftRulesetSource({ ...base, ...(slow ? { intervalMs: slow } : {}) }));
  const ipvs = await ipvsSources({ ...base, ...(every ? { intervalMs: every } : {}) });
  if (ipvs.unavailable) notes.push(ipvs.unavailable);
  else sources.push(ipvs.timeout, ipvs.services, ipvs.conns);
  sources.push(await conntrackTableSource({ ...base, ...(every ? { intervalMs: every } : {}) }));
  sources.push(conntrackStatsSource({ ...base, ...(every ? { intervalMs: every } : {}) }));
  if (o.events) sources.push(conntrackEventsSource(base));
  sources.push(ssSource({ ...base, ...(every ? { intervalMs: every } : {}) }));
  if (o.allSockets) {
    // Repeated reads of the other namespaces take turns (read-pacer.ts); a one-off check reads them all at once.
    const paced = every === undefined ? {} : { pacer: new ReadPacer(NAMESPACE_READS_PER_SECOND) };
    let socketReads = 0;
    let sysctlReads = 0;
    for (const name of await listNamedNetns()) {
      if (name === o.netns) continue;
      sources.push(
        ssSource({
          clock: o.clock,
          netns: name,
          ...paced,
          ...(every ? { intervalMs: every } : {}),
        }),
      );
      // Its sockets are judged by its own keepalive sysctls (and its conntrack ones recorded with them).
      sources.push(
        await sysctlSource({
          clock: o.clock,
          netns: name,
          ...paced,
          ...(slow ? { intervalMs: slow } : {}),
        }),
      );
      socketReads++;
      sysctlReads++;
    }
    const owners = await readOwners().catch(() => undefined);
    if (owners) {
      const pods = podSocketSources(owners, {
        clock: o.clock,
        ...paced,
        ...(every ? { intervalMs: every } : {}),
      });
      // A pod's own keepalive sysctls apply to its sockets; they change only when the pod is remade.
      const podSysctls = await podSysctlSources(owners, {
        clock: o.clock,
        ...paced,
        ...(slow ? { intervalMs: slow } : {}),
      });
      sources.push(...pods, ...podSysctls);
      socketReads += pods.length;
      sysctlReads += podSysctls.length;
    }
    if (every !== undefined && slow !== undefined) {
      const round = pacedRoundMs(NAMESPACE_READS_PER_SECOND, [
        { count: socketReads, intervalMs: every },
        { count: sysctlReads, intervalMs: slow },
      ]);
      if (round > every) {
        notes.push(
          `sockets of ${socketReads} other network namespaces are read in turn, ${NAMESPACE_READS_PER_SECOND} reads a second at most: ` +
            `each about every ${Math.ceil(round / 1000)} s rather than every ${every / 1000} s`,
        );
      }
    }
  }
  sources.push(ownersSource({ clock: o.clock }));
  const cilium = await findCiliumAgent();
  if (cilium !== undefined) {
    sources.push(ciliumConfigSource(cilium, { clock: o.clock }));
    sources.push(
      await ciliumCtSource(cilium, { clock: o.clock, ...(every ? { intervalMs: every } : {}) }),
    );
  }
  return { sources, notes };
}

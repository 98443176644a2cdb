// Which kube-proxy mode the node's rules show, for `kdiag doctor`: the nftables tables kube-proxy's
// nftables mode owns (`nft list tables`: `table ip kube-proxy`, `table ip6 kube-proxy`), the
// KUBE-SERVICES chain of iptables and IPVS modes (`iptables -t nat -S KUBE-SERVICES`, exit 0 when
// it exists) and IPVS virtual services (/proc/net/ip_vs). Cheap reads only; a node where they fail
// (not root, a tool missing) says so instead of guessing.
import { readFile } from 'node:fs/promises';
import { run, which } from '../host/exec.js';

export interface ProxyRulesSeen {
  /** `ip kube-proxy` / `ip6 kube-proxy` as `nft list tables` lists them; undefined when not read. */
  readonly nftTables: readonly string[] | undefined;
  /** KUBE-SERVICES exists in the nat table; undefined when not read. */
  readonly kubeServicesChain: boolean | undefined;
  /** Virtual services in /proc/net/ip_vs; undefined when IPVS is not loaded. */
  readonly ipvsServices: number | undefined;
  /** Why a read was not made, one short line each. */
  readonly notRead: readonly string[];
}

/** The `ip[6] kube-proxy` tables in `nft list tables` output (pure). */
export function kubeProxyNftTables(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^table (ip6?) kube-proxy$/.exec(line.trim());
    if (m) out.push(`${m[1]} kube-proxy`);
  }
  return out;
}

/** Virtual services in /proc/net/ip_vs (lines starting TCP/UDP/SCTP/FWM) (pure). */
export function ipvsServiceCount(text: string): number {
  return text.split('\n').filter((l) => /^(TCP|UDP|SCTP|FWM) {1,4}\S/.test(l)).length;
}

/** Reads what kube-proxy left in the rules of the host netns. */
export async function detectProxyRules(root: boolean): Promise<ProxyRulesSeen> {
  const notRead: string[] = [];
  let nftTables: string[] | undefined;
  let kubeServicesChain: boolean | undefined;
  if (!root) notRead.push('rules: not root');
  else {
    if ((await which('nft')) === undefined) notRead.push('nft: not installed');
    else {
      const r = await run(['nft', 'list', 'tables'], { reject: false, timeoutMs: 5000 });
      if (r.exitCode === 0) nftTables = kubeProxyNftTables(r.stdout);
      else notRead.push(`nft list tables: exit ${r.exitCode}`);
    }
    if ((await which('iptables')) === undefined) notRead.push('iptables: not installed');
    else {
      const r = await run(['iptables', '-t', 'nat', '-S', 'KUBE-SERVICES'], {
        reject: false,
        timeoutMs: 5000,
      });
      // exit 1 with "No chain/target/match by that name." when the chain is absent.
      kubeServicesChain = r.exitCode === 0;
    }
  }
  const ipvs = await readFile('/proc/net/ip_vs', 'utf8').catch(() => undefined);
  return {
    nftTables,
    kubeServicesChain,
    ipvsServices: ipvs === undefined ? undefined : ipvsServiceCount(ipvs),
    notRead,
  };
}

// kdiag doctor's kube-proxy mode line: the mode kube-proxy is configured with and the mode its
// rules show (nftables table, KUBE-SERVICES chain, IPVS services), and what the mode means for
// INVALID packets: nftables mode installs no `ct state invalid drop` (kubernetes PR #122663).
import type { DoctorCheck } from './doctor.js';
import type { HostCapabilities } from '../sources/host-capabilities.js';
import type { ProxyRulesSeen } from '../sources/proxy-rules.js';

/** The mode the rules show, with what shows it; undefined when they show none (or were not read). */
export function modeFromRules(seen: ProxyRulesSeen): { mode: string; why: string } | undefined {
  if (seen.nftTables !== undefined && seen.nftTables.length > 0)
    return { mode: 'nftables', why: `nft list tables: ${seen.nftTables.join(', ')}` };
  if (seen.ipvsServices !== undefined && seen.ipvsServices > 0 && seen.kubeServicesChain)
    return { mode: 'ipvs', why: `${seen.ipvsServices} IPVS services, KUBE-SERVICES chain` };
  if (seen.kubeServicesChain) return { mode: 'iptables', why: 'KUBE-SERVICES chain in nat' };
  return undefined;
}

/** One doctor check naming kube-proxy's mode (configured and seen in the rules). */
export function kubeProxyModeCheck(
  h: HostCapabilities & { proxyRules?: ProxyRulesSeen },
): DoctorCheck {
  const configured = h.kubeProxy?.mode === '' ? 'iptables' : h.kubeProxy?.mode;
  const seen = h.proxyRules === undefined ? undefined : modeFromRules(h.proxyRules);
  const note = (mode: string | undefined): string =>
    mode === 'nftables' ? '; no INVALID drop rule in this mode: INVALID packets draw resets' : '';
  if (seen === undefined) {
    const unread = h.proxyRules?.notRead.join(', ');
    return {
      id: 'kube-proxy-mode',
      level: 'info',
      summary: `kube-proxy mode: ${configured ?? 'unknown'}${configured ? ' (configured)' : ''}; rules show none${unread ? ` (${unread})` : ''}${note(configured)}`,
    };
  }
  if (configured !== undefined && configured !== seen.mode)
    return {
      id: 'kube-proxy-mode',
      level: 'warn',
      summary: `kube-proxy mode: configured ${configured}, but the rules show ${seen.mode} (${seen.why})`,
      fix: `remove the other mode's leftovers (kube-proxy --cleanup) or check which kube-proxy runs`,
    };
  return {
    id: 'kube-proxy-mode',
    level: 'ok',
    summary: `kube-proxy mode: ${seen.mode} (${seen.why})${note(seen.mode)}`,
  };
}

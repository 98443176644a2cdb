// How an INVALID drop rule, or its absence, is quoted as evidence, named after the tool that showed
// it: nft tables are keyed `FAMILY NAME` (parse/nft-ruleset.ts), iptables-save tables by name alone.
import type { InvalidDropRule } from '../../model/iptables.js';

/** True when the table key is an nft table (`ip kube-proxy`, `inet filter`). */
export function isNftTable(table: string): boolean {
  return table.includes(' ');
}

/** One INVALID drop rule as the tool that listed it prints it. */
export function invalidDropText(r: InvalidDropRule): string {
  const packets = r.packets !== undefined ? `, ${r.packets} packets` : '';
  return isNftTable(r.table)
    ? `nft list ruleset: ct state invalid drop in chain ${r.chain} (table ${r.table}${packets})`
    : `iptables-save: -A ${r.chain} … --ctstate INVALID -j DROP (table ${r.table}${packets})`;
}

/**
 * "No rule drops INVALID", naming every tool whose rules were read (from the merged table keys; an
 * empty ruleset is named by its source id).
 */
export function noInvalidDropText(
  chains: Readonly<Record<string, readonly string[]>>,
  src: string,
): string {
  const keys = Object.keys(chains);
  const emptyNft = keys.length === 0 && src.startsWith('nft:');
  const nft = emptyNft || keys.some(isNftTable);
  const ipt = (keys.length === 0 && !emptyNft) || keys.some((k) => !isNftTable(k));
  const parts: string[] = [];
  if (ipt) parts.push('iptables-save: no rule drops --ctstate INVALID');
  if (nft) parts.push('nft list ruleset: no rule drops ct state invalid');
  return parts.join('; ');
}

// The nftables ruleset: `nft list ruleset` (src `nft:ruleset[@netns]`), where kube-proxy's nftables
// mode keeps its tables `ip kube-proxy` and `ip6 kube-proxy`. Read-only; without nft installed the
// source is unavailable (a node in iptables or IPVS mode may not have it). No `-a` or `-j`: the
// parser (parse/nft-ruleset.ts) reads the text format that pastes and bundles carry.
import { commandSource, type SnapshotOptions, type SnapshotSource } from './snapshot-source.js';

export const NFT_LIST_RULESET_ARGV = ['nft', 'list', 'ruleset'] as const;

/** Snapshot of every nftables table of the host (or of `opts.netns`). */
export function nftRulesetSource(opts: SnapshotOptions = {}): SnapshotSource {
  return commandSource('nft:ruleset', NFT_LIST_RULESET_ARGV, opts);
}

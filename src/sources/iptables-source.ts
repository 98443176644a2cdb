// The netfilter rules with counters: `iptables-save -c` (src `iptables:save[@netns]`). Read-only;
// with the nf_tables backend it also warns on stderr when legacy tables exist (kept as `err`).
import { commandSource, type SnapshotOptions, type SnapshotSource } from './snapshot-source.js';

export const IPTABLES_SAVE_ARGV = ['iptables-save', '-c'] as const;

/** Snapshot of the IPv4 rules with packet/byte counters. */
export function iptablesSaveSource(opts: SnapshotOptions = {}): SnapshotSource {
  return commandSource('iptables:save', IPTABLES_SAVE_ARGV, opts);
}

export const IP6TABLES_SAVE_ARGV = ['ip6tables-save', '-c'] as const;

/** Snapshot of the IPv6 rules: a dual-stack node's IPv6 Services and INVALID drops live there. */
export function ip6tablesSaveSource(opts: SnapshotOptions = {}): SnapshotSource {
  return commandSource('ip6tables:save', IP6TABLES_SAVE_ARGV, opts);
}

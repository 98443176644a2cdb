// What a finding needs fixed, as data: rules say what (analysis/), suggest/ computes values and commands.
import type { PathTimeouts } from './path/path-timeouts.js';

export type SuggestNeed =
  /** Keepalive below the smallest idle timer on these flows' paths (and below budgetSec when given). */
  | { readonly kind: 'keepalive'; readonly paths: readonly PathTimeouts[]; readonly budgetSec?: number }
  /** Raise nf_conntrack_tcp_timeout_established above aboveSec (the keepalive in force plus its probes). */
  | { readonly kind: 'conntrack-established'; readonly aboveSec: number }
  | { readonly kind: 'conntrack-close-wait'; readonly aboveSec: number }
  | { readonly kind: 'conntrack-unacknowledged'; readonly aboveSec: number }
  | { readonly kind: 'ipvs-tcp'; readonly aboveSec: number }
  | { readonly kind: 'ipvs-tcpfin'; readonly aboveSec: number }
  | { readonly kind: 'be-liberal' }
  | { readonly kind: 'invalid-drop-rule'; readonly chain: 'INPUT' | 'FORWARD' }
  | { readonly kind: 'conntrack-max'; readonly atLeast: number; readonly cpus?: number }
  | { readonly kind: 'flush-stale-udp'; readonly vip: string; readonly port: number; readonly staleBackends: readonly string[] }
  | { readonly kind: 'kube-proxy-flags-to-config'; readonly flags: readonly string[] }
  | { readonly kind: 'kube-proxy-sysctl'; readonly key: string; readonly value: number }
  | { readonly kind: 'external-timeout'; readonly idleSec: number }
  | { readonly kind: 'ipvs-conn-reuse'; readonly value: 0 | 1 };

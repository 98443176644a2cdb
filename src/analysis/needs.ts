// What a finding needs fixed, as data: rules say what (analysis/), suggest/ computes values and commands.
import type { CiliumCtTimeoutKey } from '../model/cilium.js';
import type { PathTimeouts } from './path/path-timeouts.js';

export type SuggestNeed =
  /** Keepalive below the smallest idle timer on these flows' paths (and below budgetSec when given). */
  | {
      readonly kind: 'keepalive';
      readonly paths: readonly PathTimeouts[];
      readonly budgetSec?: number;
    }
  /** Raise nf_conntrack_tcp_timeout_established above aboveSec (the keepalive in force plus its probes). */
  | { readonly kind: 'conntrack-established'; readonly aboveSec: number }
  | { readonly kind: 'conntrack-close-wait'; readonly aboveSec: number }
  | { readonly kind: 'conntrack-unacknowledged'; readonly aboveSec: number }
  | { readonly kind: 'ipvs-tcp'; readonly aboveSec: number }
  | { readonly kind: 'ipvs-tcpfin'; readonly aboveSec: number }
  | { readonly kind: 'be-liberal' }
  | { readonly kind: 'invalid-drop-rule'; readonly chain: 'INPUT' | 'FORWARD' }
  | { readonly kind: 'conntrack-max'; readonly atLeast: number; readonly cpus?: number }
  | {
      readonly kind: 'flush-stale-udp';
      readonly vip: string;
      readonly port: number;
      readonly staleBackends: readonly string[];
    }
  | { readonly kind: 'kube-proxy-flags-to-config'; readonly flags: readonly string[] }
  | { readonly kind: 'kube-proxy-sysctl'; readonly key: string; readonly value: number }
  | { readonly kind: 'external-timeout'; readonly idleSec: number }
  | { readonly kind: 'ipvs-conn-reuse'; readonly value: 0 | 1 }
  /**
   * tcp_keepalive_time of one netns (undefined = the host's): exactly idleSec when given, else a plan
   * under budgetSec. For findings without flows, whose keepalive need has no paths to name a netns.
   */
  | {
      readonly kind: 'netns-keepalive';
      readonly netns: string | undefined;
      readonly budgetSec: number;
      readonly idleSec?: number;
    }
  /**
   * Move the deadline existing conntrack entries hold to the timeout now in force (`conntrack -U`):
   * a sysctl change only reaches an entry at its next packet.
   */
  | {
      readonly kind: 'conntrack-update';
      readonly netns: string | undefined;
      readonly state: string;
      readonly timeoutSec: number;
      readonly family: 'ipv4' | 'ipv6';
      readonly tuples: readonly ConntrackTuple[];
    }
  /** Raise a bpfConntrackTimeouts field of Calico's FelixConfiguration above aboveSec. */
  | { readonly kind: 'calico-ct-timeout'; readonly field: string; readonly aboveSec: number }
  /** Raise a Cilium agent CT timeout (`bpf-ct-timeout-…`) above aboveSec. */
  | {
      readonly kind: 'cilium-ct-timeout';
      readonly key: CiliumCtTimeoutKey;
      readonly aboveSec: number;
    };

/** The original-direction tuple of a conntrack entry, what `conntrack -U -s -d --sport --dport` names. */
export interface ConntrackTuple {
  readonly proto: string;
  readonly src: string;
  readonly dst: string;
  readonly sport: number;
  readonly dport: number;
}

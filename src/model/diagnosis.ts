// The output contract of analysis and suggest: what report/, ui/ and apply/ consume.
import type { Endpoint } from './endpoint.js';

export type Severity = 'critical' | 'warning' | 'info';
export type Confidence = 'certain' | 'likely' | 'possible';

/** A layer on the path that can forget an idle flow. */
export type Layer =
  | 'keepalive'
  | 'conntrack'
  | 'ipvs'
  | 'path'
  | 'cloud'
  // Calico's eBPF conntrack map (cali_v4_ct)
  | 'calico'
  // Cilium's BPF conntrack map (kube-proxy replacement)
  | 'cilium';

/** One record that proves a finding: where it came from, when, and what it said. */
export interface Evidence {
  readonly t: number;
  readonly src: string;
  /** The raw line, or a one-line summary of a snapshot value (`sysctl net.netfilter.… = 600`). */
  readonly text: string;
  /** Why this record matters. */
  readonly note?: string;
}

export interface LayerTimeout {
  readonly layer: Layer;
  /** Idle seconds after which this layer forgets the flow; null = never (keepalive off counts as refreshing nothing). */
  readonly timeoutSec: number | null;
  /** Where the value came from: `sysctl net.netfilter.nf_conntrack_tcp_timeout_established`, `ss timer`, `--path-idle-timeout` … */
  readonly source: string;
  /** Seconds left before it forgets the flow, from the latest observation; null when unknown or never. */
  readonly leftSec: number | null;
}

export interface FlowOwner {
  readonly pod?: { readonly namespace: string; readonly name: string; readonly uid?: string };
  readonly process?: { readonly pid: number; readonly comm: string };
  readonly netns?: string;
}

/** A connection as kdiag sees it, joined across NAT. */
export interface FlowView {
  /** Stable id: `tcp 10.0.0.1:42766>10.96.0.10:80` (the client's original tuple). */
  readonly id: string;
  readonly proto: string;
  readonly client: Endpoint;
  /** What the client connected to (Service VIP:port or the peer). */
  readonly target: Endpoint;
  /** The backend it was DNAT'ed to, when NAT'ed. */
  readonly backend?: Endpoint;
  readonly service?: string;
  readonly owner?: FlowOwner;
  readonly state: string;
  /** Seconds since the last packet in either direction, from the latest evidence. */
  readonly idleSec: number | null;
  readonly keepalive?: {
    readonly enabled: boolean;
    readonly idleSec: number;
    readonly intervalSec: number;
    readonly probes: number;
    readonly source: string;
  };
  readonly layers: readonly LayerTimeout[];
  /** The first layer that will forget the flow if it stays idle, if any forgets it before keepalive refreshes it. */
  readonly firstToForget?: Layer;
  /** Which sources saw it: conntrack, ss, ipvs, probe. */
  readonly seenBy: readonly string[];
}

export interface Finding {
  /** Stable instance id: rule plus subject, e.g. `fm1.conntrack-expiry:tcp 10.0.0.1:42766>10.96.0.10:80`. */
  readonly id: string;
  /** Stable rule code, e.g. `conntrack.established-expired`. */
  readonly rule: string;
  /** Failure mode of domain.md §3: FM-1 … FM-12. */
  readonly fm: string;
  readonly severity: Severity;
  readonly confidence: Confidence;
  readonly title: string;
  /** The cause in one sentence, with numbers. */
  readonly cause: string;
  readonly flows: readonly string[];
  readonly evidence: readonly Evidence[];
  readonly suggestions: readonly string[];
  /** Set when every change kdiag considered was refused by the timer race: why none saves the flows. */
  readonly noFix?: string;
  /** Time of the latest evidence. */
  readonly t: number;
}

export interface Prediction {
  readonly flow: string;
  readonly layer: Layer;
  readonly timeoutSec: number;
  readonly idleSec: number;
  /** Seconds until that layer forgets the flow (0 = already past). */
  readonly breaksInSec: number;
  /** ms since the epoch. */
  readonly breaksAt: number;
  readonly cause: string;
}

export type SuggestionScope = 'socket' | 'pod' | 'node' | 'ipvs' | 'kube-proxy' | 'external';

/** What `kdiag apply` may change, and only this. */
export type ApplyChange =
  | {
      readonly kind: 'sysctl';
      readonly key: string;
      readonly value: string;
      readonly netns?: string;
    }
  | {
      readonly kind: 'ipvs-timeout';
      readonly tcp: number;
      readonly tcpfin: number;
      readonly udp: number;
    }
  /** `conntrack -U -f family -p tcp --state state --timeout timeoutSec` (in netns when given). */
  | {
      readonly kind: 'conntrack-update';
      readonly family: 'ipv4' | 'ipv6';
      readonly state: string;
      readonly timeoutSec: number;
      readonly netns?: string;
    };

/** What the timer race says a suggestion does to the flows it targets (suggest/race-check.ts). */
export interface SuggestionCheck {
  /** Live flows the change was tried on. */
  readonly targets: number;
  /** Flows the race says the change keeps from now on. */
  readonly saves: readonly string[];
  /** How many of `atRisk` the change keeps only after their next packet (the path is fixed). */
  readonly savesLater: number;
  /** Targeted flows it does not save now, each with the race's reason. */
  readonly atRisk: readonly { readonly flow: string; readonly reason: string }[];
}

export interface Suggestion {
  /** Stable id users type: `node-conntrack-established`, `pod-keepalive-time`, … */
  readonly id: string;
  readonly scope: SuggestionScope;
  /** Rank: smaller blast radius first (socket 1 … external 6). */
  readonly rank: number;
  readonly title: string;
  /** What it fixes and why it is enough, in one or two sentences. */
  readonly rationale: string;
  readonly fixes: readonly string[];
  /** Exact text to run or paste, each with a label. */
  readonly commands: readonly { readonly label: string; readonly text: string }[];
  readonly warnings: readonly string[];
  /** Present when `kdiag apply` can make this change live. */
  readonly change?: ApplyChange;
  /** Present when the change was checked against the timer race of the flows it targets. */
  readonly checked?: SuggestionCheck;
}

export interface Diagnosis {
  /** Time of the latest record considered (ms since the epoch). */
  readonly at: number;
  readonly findings: readonly Finding[];
  readonly predictions: readonly Prediction[];
  /** Every live flow at risk; more than `predictions` holds when the list was cut (10 000 by default). */
  readonly atRiskTotal?: number;
  readonly suggestions: readonly Suggestion[];
  /** Flows at risk first, then the others. */
  readonly flows: readonly FlowView[];
}

// Every rule, in display order. Codes are stable and never reused.
import type { Rule } from '../rule.js';
import { conntrackClampedUnacked } from './conntrack-clamped-unacked.js';
import { conntrackCloseWaitExpired } from './conntrack-close-wait-expired.js';
import { conntrackEstablishedExpired } from './conntrack-established-expired.js';
import { conntrackFlowForgotten } from './conntrack-flow-forgotten.js';
import { conntrackOldDeadline } from './conntrack-old-deadline.js';
import { conntrackExpiredBlackhole } from './conntrack-expired-blackhole.js';
import { conntrackInvalidDropRuleMissing } from './conntrack-invalid-drop-rule-missing.js';
import { conntrackInvalidDropped } from './conntrack-invalid-dropped.js';
import { conntrackInvalidReset } from './conntrack-invalid-reset.js';
import { conntrackStaleUdp } from './conntrack-stale-udp.js';
import { conntrackSuspicious300s } from './conntrack-suspicious-300s.js';
import { conntrackTableNearFull } from './conntrack-table-near-full.js';
import { conntrackTimeoutShorterThanKeepalive } from './conntrack-timeout-shorter-than-keepalive.js';
import { ipvsConnExpired } from './ipvs-conn-expired.js';
import { ipvsConnReuse } from './ipvs-conn-reuse.js';
import { ipvsFinTimeoutHalfClosed } from './ipvs-fin-timeout-half-closed.js';
import { ipvsIdleTimeoutShorterThanKeepalive } from './ipvs-idle-timeout-shorter-than-keepalive.js';
import { ipvsWeightZeroActive } from './ipvs-weight-zero-active.js';
import { kubeProxyDrift } from './kube-proxy-drift.js';
import { kubeProxyFlagsIgnored } from './kube-proxy-flags-ignored.js';
import { nodeTimeoutBudget } from './node-timeout-budget.js';
import { pathIdleReset } from './path-idle-reset.js';
import { pathIdleTimeout } from './path-idle-timeout.js';
import { socketKeepaliveOff, socketKeepaliveTooLong } from './socket-keepalive.js';
import { calicoCtExpired } from './calico-ct-expired.js';
import { calicoCtTimeoutShorterThanKeepalive } from './calico-ct-timeout-shorter-than-keepalive.js';
import { ovsInvalidDrop } from './ovs-invalid-drop.js';
import { kubeProxyNftInvalidPasses } from './kube-proxy-nft-invalid.js';
import { ciliumCtExpired } from './cilium-ct-expired.js';
import { ciliumCtTimeoutShorterThanKeepalive } from './cilium-ct-timeout-shorter-than-keepalive.js';
import { kubeProxySyncSlow, kubeProxySyncStale } from './kube-proxy-sync.js';
import { kubeProxyInvalidDropped } from './kube-proxy-invalid-dropped.js';

/** The rule list the engine runs. */
export const RULES: readonly Rule[] = [
  conntrackEstablishedExpired,
  conntrackExpiredBlackhole,
  ipvsConnExpired,
  conntrackInvalidReset,
  pathIdleReset,
  conntrackTimeoutShorterThanKeepalive,
  ipvsIdleTimeoutShorterThanKeepalive,
  pathIdleTimeout,
  ipvsFinTimeoutHalfClosed,
  conntrackCloseWaitExpired,
  conntrackClampedUnacked,
  conntrackSuspicious300s,
  conntrackInvalidDropped,
  conntrackInvalidDropRuleMissing,
  conntrackTableNearFull,
  conntrackStaleUdp,
  ipvsWeightZeroActive,
  ipvsConnReuse,
  socketKeepaliveOff,
  socketKeepaliveTooLong,
  kubeProxyDrift,
  kubeProxyFlagsIgnored,
  nodeTimeoutBudget,
  conntrackOldDeadline,
  conntrackFlowForgotten,
  calicoCtExpired,
  calicoCtTimeoutShorterThanKeepalive,
  ovsInvalidDrop,
  kubeProxyNftInvalidPasses,
  ciliumCtExpired,
  ciliumCtTimeoutShorterThanKeepalive,
  kubeProxySyncStale,
  kubeProxySyncSlow,
  kubeProxyInvalidDropped,
];

// Why an ESTABLISHED conntrack entry runs on a shorter timeout than the state's own (§2.3), and the
// timeout conntrack itself set on the entry.
import type { Evidence } from '../../model/diagnosis.js';
import type { Flow, SocketSide } from '../../model/flow.js';
import type { TimelineItem } from '../../model/timeline.js';
import { CT_MAX_RETRANS, CT_MAX_RETRANS_TIMEOUT, CT_UNACK } from '../../model/kernel-defaults.js';
import { sysctlInForce, type PathContext, type Sourced } from './context.js';
import { evidence, itemEvidence } from './evidence.js';
import { liveSide } from './flow-state.js';
import type { LayerView } from './layers.js';

/**
 * The timeout conntrack set when the entry last entered `state` (the event's remaining timeout is the
 * fresh one), when the flow's timeline still has that event.
 */
export function entryTimeout(f: Flow, state: string): Sourced | undefined {
  const it = entryTimeoutItem(f, state);
  const to = it?.ctTimeout;
  if (!it || it.ctType === undefined || to === null || to === undefined) return undefined;
  return {
    value: to,
    source: `the timeout conntrack set on the entry ([${it.ctType}] … ${to} ${state})`,
    evidence: evidence(it.t, it.src, it.text, `conntrack set the ${state} timeout to ${to} s`),
  };
}

/** The timeline item entryTimeout reads (its `ct.entry.timeout` is the value), if any. */
export function entryTimeoutItem(f: Flow, state: string): TimelineItem | undefined {
  const tl = f.timeline;
  if (!tl) return undefined;
  for (let i = tl.length - 1; i >= 0; i--) {
    const it = tl[i];
    if (!it || it.ctType === undefined || it.dir === 'reply') continue;
    if (it.ctType === 'DESTROY') return undefined;
    if (it.ctState !== state || it.ctUnreplied || it.ctTimeout === null) return undefined;
    return it;
  }
  return undefined;
}

export interface ClampInfo {
  readonly why: NonNullable<LayerView['clamp']>;
  readonly timeout: Sourced;
  readonly note: string;
  readonly evidence: readonly Evidence[];
}

/** Why an ESTABLISHED entry runs on a 300 s timeout (§2.3), if it does. */
export function conntrackClamp(ctx: PathContext, f: Flow, full: number): ClampInfo | undefined {
  const unack = sysctlInForce(ctx, CT_UNACK, f.ctScope);
  const remaining = f.ctTimeout;
  if (f.ctUnreplied && !f.ctAssured && (remaining < 0 || remaining <= unack.value + 1)) {
    // A real pickup is neither ASSURED nor above the unacknowledged timeout (entries loaded with
    // `conntrack -I` can be both, and are not pickups).
    return {
      why: 'mid-stream-pickup',
      timeout: unack,
      note: 'entry picked up mid-stream ([UNREPLIED] ESTABLISHED): timeout min(established, unacknowledged) until a reply is seen',
      evidence: [],
    };
  }
  if (full <= unack.value) return undefined;
  const client = liveSide(f.client);
  const server = liveSide(f.server);
  // Socket queues and timers, and retransmissions on the timeline: only a flow with either can show them.
  if (client || server || f.timeline) {
    const retransT = sysctlInForce(ctx, CT_MAX_RETRANS_TIMEOUT, f.ctScope);
    const maxRetrans = sysctlInForce(ctx, CT_MAX_RETRANS, f.ctScope);
    const sc =
      socketClamp(client, retransT, unack, maxRetrans.value) ??
      socketClamp(server, retransT, unack, maxRetrans.value);
    if (sc) return sc;
    // Retransmissions seen by the probe since the entry's last event: data is in flight, unacknowledged.
    const rtx = f.timeline ? recentRetransmits(f, ctx.now, unack.value) : NO_ITEMS;
    const last = rtx[rtx.length - 1];
    // Only while nothing newer than the retransmissions was seen (an answer would have ended the clamp).
    if (last && f.lastAct <= last.t + 1500) {
      const many = rtx.length >= maxRetrans.value;
      return {
        why: many ? 'retransmits' : 'unacknowledged',
        timeout: many ? retransT : unack,
        note: `${rtx.length} retransmission${rtx.length > 1 ? 's' : ''} seen: data sent and not acknowledged`,
        evidence: [itemEvidence(last, 'retransmission: data not acknowledged')],
      };
    }
  }
  // FM-6: an ESTABLISHED, ASSURED entry running on the unacknowledged timeout. It counts down from the
  // clamp, so its remaining time plus the flow's idle time at the reading is about that timeout; an
  // entry counting down from a shorter state timeout (a sysctl kdiag read late) is not clamped.
  if (
    f.ctAssured &&
    remaining >= 0 &&
    remaining <= unack.value &&
    full > CT_UNACK.kernel &&
    remaining < 0.5 * full
  ) {
    const idleAtReading =
      f.lastAct >= 0 && f.lastAct <= f.ctT ? (f.ctT - f.lastAct) / 1000 : undefined;
    const tol = Math.max(15, 0.05 * unack.value);
    const consistent =
      idleAtReading !== undefined
        ? Math.abs(remaining + idleAtReading - unack.value) <= tol
        : remaining >= unack.value - 15;
    if (consistent) {
      return {
        why: 'suspicious',
        timeout: unack,
        note: 'ESTABLISHED entry refreshed to the 300 s unacknowledged timeout (unacked data, zero window, retransmits or out-of-window FIN/RST)',
        evidence: [],
      };
    }
  }
  return undefined;
}

const NO_ITEMS: NonNullable<Flow['timeline']> = [];

/** The clamp a live socket's queue or timer shows, if any. */
function socketClamp(
  s: SocketSide | undefined,
  retransT: Sourced,
  unack: Sourced,
  maxRetrans: number,
): ClampInfo | undefined {
  if (!s) return undefined;
  const timer = s.timer;
  if (timer?.name === 'persist')
    return {
      why: 'zero-window',
      timeout: retransT,
      note: 'the peer advertises a zero window (persist timer)',
      evidence: [evidence(s.t, s.src, s.raw)],
    };
  if (timer?.name === 'on' && timer.count >= maxRetrans)
    return {
      why: 'retransmits',
      timeout: retransT,
      note: `${timer.count} retransmits pending (≥ nf_conntrack_tcp_max_retrans ${maxRetrans})`,
      evidence: [evidence(s.t, s.src, s.raw)],
    };
  if (s.sendQ > 0 && (timer?.name === 'on' || timer === undefined))
    return {
      why: 'unacknowledged',
      timeout: unack,
      note: `${s.sendQ} bytes sent and not acknowledged`,
      evidence: [evidence(s.t, s.src, s.raw)],
    };
  return undefined;
}

/** Retransmit items after the entry's latest conntrack event and within the clamp window before `now`. */
function recentRetransmits(f: Flow, now: number, windowSec: number): NonNullable<Flow['timeline']> {
  const tl = f.timeline;
  if (!tl) return [];
  let from = -Infinity;
  for (let i = tl.length - 1; i >= 0; i--) {
    const it = tl[i];
    if (it && it.ctType !== undefined && it.dir !== 'reply') {
      from = it.t;
      break;
    }
  }
  const since = now - (windowSec + 60) * 1000;
  return tl.filter((i) => i.kind === 'retransmit' && i.t >= from && i.t >= since);
}

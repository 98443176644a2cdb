// A TCP flow Cilium's BPF conntrack has already timed out: its entry in `bpf ct list global -d`
// shows a negative `remaining` while it was ESTABLISHED (SeenNonSyn, no closing flag). The entry
// lingers until the agent's CT GC deletes it (gc.go purgeCtEntry: the CT entry, and its SNAT
// mapping with it); the flow's next packet then finds no entry and is a new connection to the
// datapath: policy is looked up again, a Service picks a backend again, SNAT may pick another
// port. A socket still ESTAB on it is a connection its peer will answer with a RST, or a drop.
import {
  ciliumEndpoint,
  CILIUM_FLAG_RX_CLOSING,
  CILIUM_FLAG_SEEN_NON_SYN,
  CILIUM_FLAG_TX_CLOSING,
  type CiliumCtEntry,
} from '../../model/cilium.js';
import type { Evidence } from '../../model/diagnosis.js';
import type { Flow } from '../../model/flow.js';
import {
  ciliumEntriesOf,
  ciliumEntryEvidence,
  ciliumEntryTimeout,
  ciliumGcSlack,
  ciliumView,
  type CiliumCtHit,
} from '../path/cilium-context.js';
import type { PathTimeouts } from '../path/path-timeouts.js';
import type { SuggestNeed } from '../needs.js';
import type { Draft, Rule } from '../rule.js';
import { evidence, fmtSec, groupBy, keepaliveSpan, latestT, makeDraft } from '../rule.js';

/** An ESTABLISHED TCP entry whose own timer has run out at the listing. */
export function expiredEstablished(e: CiliumCtEntry): boolean {
  return (
    e.proto === 'TCP' &&
    !e.related &&
    e.remainingSec !== undefined &&
    e.remainingSec <= 0 &&
    (e.flags & CILIUM_FLAG_SEEN_NON_SYN) !== 0 &&
    (e.flags & (CILIUM_FLAG_RX_CLOSING | CILIUM_FLAG_TX_CLOSING)) === 0
  );
}

const ep = ciliumEndpoint;

export const ciliumCtExpired: Rule = {
  code: 'cilium.ct-expired',
  fm: 'FM-1',
  run(ctx) {
    const v = ciliumView(ctx.path);
    if (!v?.snapshot) return [];
    const expired: CiliumCtHit[] = [];
    v.snapshot.entries.forEach((entry, i) => {
      if (expiredEstablished(entry)) expired.push({ entry, line: v.snapshot?.lines[i] ?? '' });
    });
    if (expired.length === 0) return [];
    // The table's flows that hold a live socket on an expired entry.
    const flowOf = new Map<CiliumCtEntry, Flow>();
    for (const f of ctx.table.flows()) {
      if (f.proto !== 'tcp') continue;
      const s = [f.client, f.server].find((x) => x?.fromSs && x.goneT < 0 && x.state === 'ESTAB');
      if (!s) continue;
      for (const h of ciliumEntriesOf(ctx.path, f))
        if (expiredEstablished(h.entry)) flowOf.set(h.entry, f);
    }
    const gc = ciliumGcSlack(v);
    const out: Draft[] = [];
    const groups = groupBy(expired, (h) => `tcp ${ep(h.entry.dst, h.entry.dport)}`);
    for (const [subject, g] of groups) {
      g.sort((a, b) => (a.entry.remainingSec ?? 0) - (b.entry.remainingSec ?? 0));
      const first = g[0]!;
      const to = ciliumEntryTimeout(v, first.entry);
      const ago = -(first.entry.remainingSec ?? 0);
      const paths: PathTimeouts[] = [];
      for (const h of g) {
        const f = flowOf.get(h.entry);
        if (f) paths.push(ctx.pathOf(f));
      }
      const ev: Evidence[] = g
        .slice(0, 5)
        .map((h) =>
          ciliumEntryEvidence(
            v,
            h,
            `expired ${fmtSec(-(h.entry.remainingSec ?? 0))} before the listing`,
          ),
        );
      if (to.evidence) ev.push(to.evidence);
      for (const p of paths.slice(0, 3)) {
        const s = [p.flow.client, p.flow.server].find((x) => x?.fromSs && x.state === 'ESTAB');
        if (s) ev.push(evidence(s.t, s.src, s.raw, 'socket still ESTAB'));
      }
      const who =
        g.length === 1
          ? `The Cilium CT entry ${first.entry.proto} ${first.entry.src}:${first.entry.sport} -> ${ep(first.entry.dst, first.entry.dport)}`
          : `${g.length} Cilium CT entries to ${subject.slice(4)} (the oldest`;
      const expiredText =
        g.length === 1
          ? `expired ${fmtSec(ago)} before the listing`
          : `expired ${fmtSec(ago)} before the listing)`;
      const sockets =
        paths.length > 0
          ? g.length === 1
            ? ' Its socket is still ESTAB: its next packet reaches a datapath that has forgotten the flow.'
            : ` ${paths.length} of them still have an ESTAB socket: their next packet reaches a datapath that has forgotten the flow.`
          : ' No socket of it was read (no ss output): if the application still holds the connection, it is broken.';
      const idle =
        (first.entry.remainingSec ?? 0) <= 0
          ? to.value - (first.entry.remainingSec ?? 0)
          : to.value;
      const needs: SuggestNeed[] = [];
      if (paths.length > 0) needs.push({ kind: 'keepalive', paths });
      const spans = paths.map(keepaliveSpan);
      const raise =
        paths.length > 0 && spans.every((s) => s !== undefined)
          ? Math.max(...(spans as number[]))
          : paths.length === 0
            ? idle
            : undefined;
      if (raise !== undefined)
        needs.push({ kind: 'cilium-ct-timeout', key: to.key, aboveSec: raise });
      out.push(
        makeDraft({
          rule: 'cilium.ct-expired',
          fm: 'FM-1',
          subject,
          severity: paths.length > 0 ? 'critical' : 'warning',
          confidence: 'certain',
          title: "Cilium's BPF conntrack has timed out established flows",
          cause:
            `${who} ${expiredText} after ${fmtSec(idle)} idle against a ${fmtSec(to.value)} timeout (${to.source}). ` +
            `The agent's CT GC deletes it ${gc.text} after expiry, with its SNAT mapping; ` +
            'the next packet is then a new flow to Cilium: policy is looked up again, a Service picks a backend again and SNAT may pick another port, so the peer answers with a RST or the packet is dropped.' +
            sockets,
          flows: paths.map((p) => p.id),
          evidence: ev,
          needs,
          t: latestT(ev, ctx.now),
        }),
      );
    }
    return out;
  },
};

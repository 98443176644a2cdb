// Calico eBPF (issue 22): a live connection whose entry Calico's eBPF conntrack no longer holds, or
// holds past its timeout (Felix's cleanup scans every 10 s). The next packet of such a flow is a
// mid-flow miss: tc.c hands it to iptables (CALI_CT_MID_FLOW_MISS), which drops what Linux conntrack
// does not know; nothing answers, so the sender retransmits until its socket gives up (ETIMEDOUT).
import type { Evidence } from '../../model/diagnosis.js';
import {
  calicoDump,
  calicoEntryOf,
  calicoEntryText,
  calicoTimeoutField,
  calicoTimeoutInForce,
} from '../path/calico-ct.js';
import type { SuggestNeed } from '../needs.js';
import type { Draft, Rule } from '../rule.js';
import { liveEstab, minDefined } from './conntrack-flow-forgotten.js';
import { evidence, fmtSec, itemEvidence, keepaliveSpan, makeDraft } from '../rule.js';

export const calicoCtExpired: Rule = {
  code: 'calico.ct-expired',
  fm: 'FM-1',
  run(ctx) {
    const dump = calicoDump(ctx.path);
    if (!dump) return [];
    const t = ctx.table;
    const out: Draft[] = [];
    // Addresses Calico tracks traffic of: a flow of one of them missing from the map is Calico's.
    const workloads = new Set<string>();
    for (const e of dump.snapshot.entries) {
      workloads.add(e.src.addr);
      workloads.add(e.dst.addr);
    }
    for (const f of t.flows()) {
      if (f.proto !== 'tcp') continue;
      const s = liveEstab(f.client) ?? liveEstab(f.server);
      if (!s) continue;
      const hit = calicoEntryOf(ctx.path, f);
      const field = hit ? calicoTimeoutField(hit.entry) : 'tcpEstablished';
      const to = calicoTimeoutInForce(ctx.path, field);
      const idleMs = minDefined(s.lastrcvMs, s.lastackMs);
      // The socket's idle time when the map was dumped.
      const idleAtDump = idleMs === undefined ? undefined : (idleMs + dump.t - s.t) / 1000;
      const retrans = s.timer?.name === 'on' && s.timer.count > 0 ? s.timer.count : 0;
      const probeRetrans = (f.timeline ?? []).filter((i) => i.kind === 'retransmit');
      const troubled = retrans > 0 || probeRetrans.length > 0;
      let what: string;
      if (hit) {
        if (hit.entry.activeAgoSec <= to.value) continue;
        what = `its entry has been idle ${fmtSec(Math.round(hit.entry.activeAgoSec))}, past bpfConntrackTimeouts.${field} ${fmtSec(to.value)} (${to.source}): Felix's next cleanup scan (every 10 s) deletes it`;
      } else {
        // Without an entry, only a flow of an address Calico tracks that outlived the timeout or is
        // failing now is Calico's to explain.
        const outlived = idleAtDump !== undefined && idleAtDump > to.value;
        const tracked = workloads.has(s.local.addr) || workloads.has(s.peer.addr);
        if (!tracked || (!outlived && !troubled)) continue;
        // The connection existed when the map was read (it was opened before the dump).
        if (idleAtDump !== undefined && idleAtDump < 0) continue;
        what = outlived
          ? `the socket had been idle ${fmtSec(Math.round(idleAtDump))} when the map was dumped, past bpfConntrackTimeouts.${field} ${fmtSec(to.value)} (${to.source}), and the dump holds no entry for it`
          : `the dump holds no entry for it`;
      }
      const p = ctx.pathOf(f);
      const ev: Evidence[] = [evidence(s.t, s.src, s.raw, 'socket ESTAB')];
      ev.push(
        hit
          ? evidence(dump.t, dump.src, calicoEntryText(hit.entry))
          : evidence(
              dump.t,
              dump.src,
              `calico-node -bpf conntrack dump: ${dump.snapshot.entries.length} entries, none for this flow`,
            ),
      );
      if (to.evidence) ev.push(to.evidence);
      for (const i of probeRetrans.slice(0, 2)) ev.push(itemEvidence(i, 'retransmitted'));
      const symptom = troubled
        ? ` The sender is retransmitting${retrans > 0 ? ` (ss: ${retrans} retransmits outstanding)` : ''} into the silence and will fail with ETIMEDOUT.`
        : ' Its next packet will be dropped: the sender retransmits into the silence and fails with ETIMEDOUT.';
      const needs: SuggestNeed[] = [{ kind: 'keepalive', paths: [p] }];
      const above = Math.max(keepaliveSpan(p) ?? 0, Math.ceil(idleAtDump ?? 0));
      if (above > 0) needs.push({ kind: 'calico-ct-timeout', field, aboveSec: above });
      out.push(
        makeDraft({
          rule: 'calico.ct-expired',
          fm: 'FM-1',
          subject: p.id,
          severity: troubled ? 'critical' : 'warning',
          confidence: hit || troubled ? 'likely' : 'possible',
          title: "A live connection Calico's eBPF conntrack has forgotten",
          cause: `The socket is ESTAB, but Calico's eBPF conntrack forgets the flow: ${what}. A packet with no entry is a mid-flow miss that Calico hands to iptables, which drops it when Linux conntrack does not know the flow either; no reset comes back.${symptom}`,
          flows: [p.id],
          evidence: ev,
          needs,
          t: ev.reduce((a, e) => Math.max(a, e.t), 0),
        }),
      );
    }
    return out;
  },
};

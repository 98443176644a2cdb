// FM-1 (events, loose=0): after conntrack forgot the flow, its packets are INVALID and vanish:
// retransmissions after the idle gap instead of a pickup.
import type { Evidence } from '../../model/diagnosis.js';
import { sysctlInForce } from '../path/context.js';
import { CT_TCP_TIMEOUTS } from '../../model/kernel-defaults.js';
import type { Draft, Rule } from '../rule.js';
import { evidence, fmtSec, itemEvidence, latestT, makeDraft, statsDelta } from '../rule.js';
import { isExpiryDestroy } from './conntrack-established-expired.js';
import { expiryFacts, fmtGap } from './expiry-helpers.js';
import { invalidFacts } from './invalid-helpers.js';

const LOOSE = 'net.netfilter.nf_conntrack_tcp_loose';

export const conntrackExpiredBlackhole: Rule = {
  code: 'conntrack.expired-blackhole',
  fm: 'FM-1',
  run(ctx) {
    const out: Draft[] = [];
    // sysctlAt finds nothing in a scope where the sysctl was never read: one lookup per scope.
    const read = new Map<string | undefined, boolean>();
    const everRead = (scope: string | undefined): boolean => {
      let r = read.get(scope);
      if (r === undefined) {
        r = ctx.table.sysctl(LOOSE, scope) !== undefined;
        read.set(scope, r);
      }
      return r;
    };
    // What becomes of an INVALID segment in a netns: a ruleset read with no INVALID DROP rule (kube-proxy's
    // nftables mode installs none) forwards it without its NAT, to an address nothing answers.
    const fates = new Map<string | undefined, string>();
    const fateIn = (scope: string | undefined): string => {
      let v = fates.get(scope);
      if (v === undefined) {
        const rules = invalidFacts(ctx, scope).dropRules;
        v =
          rules !== undefined && rules.length === 0
            ? 'pass, since no rule here drops INVALID, but leave without their NAT, where nothing answers them'
            : 'are dropped';
        fates.set(scope, v);
      }
      return v;
    };
    for (const f of ctx.eventFlows()) {
      if (f.ctScope !== undefined && !everRead(f.ctScope)) continue;
      const tl = f.timeline ?? [];
      const gone = tl.findIndex((i) => isExpiryDestroy(i) || i.kind === 'ct-gone');
      const g = tl[gone];
      const scope = f.ctScope ?? g?.scope;
      if (!everRead(scope)) continue;
      const loose = ctx.table.sysctlAt(LOOSE, scope, g?.t ?? ctx.now);
      if (!loose || loose.value !== '0') continue;
      const x = expiryFacts(ctx, f, 'ESTABLISHED');
      const est =
        x?.timeout ??
        sysctlInForce(
          ctx.path,
          CT_TCP_TIMEOUTS.ESTABLISHED ?? { sysctl: '', kernel: 432000 },
          scope,
        );
      const lost = tl.filter(
        (i, n) =>
          (i.kind === 'retransmit' ||
            (i.kind === 'drop' &&
              i.probe?.kind === 'drop' &&
              i.probe.reason === 'NETFILTER_DROP')) &&
          n > gone &&
          gone >= 0,
      );
      const rtx =
        lost.length > 0
          ? lost
          : tl.filter(
              (i) =>
                i.kind === 'retransmit' &&
                i.prevAct !== undefined &&
                i.prevAct >= 0 &&
                (i.t - i.prevAct) / 1000 >= est.value,
            );
      const r0 = rtx[0];
      if (!r0) continue;
      // A pickup means loose was 1 when the packet came (the sysctl changed): FM-1 with a pickup, not this.
      if (x?.pickup) continue;
      const p = ctx.pathOf(f);
      const inv = statsDelta(ctx, 'invalid', scope);
      const evs: Evidence[] = [
        evidence(
          loose.t,
          loose.src,
          `net.netfilter.nf_conntrack_tcp_loose = ${loose.value}`,
          'no mid-stream pickup',
        ),
      ];
      if (gone >= 0 && g) evs.push(itemEvidence(g, 'conntrack forgot the flow'));
      if (x?.timeout.evidence) evs.push(x.timeout.evidence);
      evs.push(
        ...rtx
          .slice(0, 3)
          .map((i) =>
            itemEvidence(
              i,
              i.kind === 'drop' ? 'INVALID segment dropped' : 'retransmission into the black hole',
            ),
          ),
      );
      if (inv.delta > 0 && inv.last)
        evs.push({ ...inv.last, note: `invalid rose by ${inv.delta}` });
      const gap =
        x?.gapSec ??
        (r0.prevAct !== undefined && r0.prevAct >= 0 ? (r0.t - r0.prevAct) / 1000 : undefined);
      const to = x?.timeout.bound ? `at most ${fmtSec(est.value)}` : fmtSec(est.value);
      out.push(
        makeDraft({
          rule: 'conntrack.expired-blackhole',
          fm: 'FM-1',
          subject: p.id,
          severity: 'critical',
          confidence: inv.delta > 0 || (gone >= 0 && lost.length > 0) ? 'certain' : 'likely',
          title: 'Flow black-holed after conntrack expiry (nf_conntrack_tcp_loose=0)',
          cause: `Conntrack forgot this flow after ${to} idle (${est.source})${gap !== undefined ? `; it had been idle ${fmtGap(gap)} when its next packet came` : ''}; with nf_conntrack_tcp_loose=0 its next segments are INVALID and ${fateIn(scope)}${inv.delta > 0 ? ` (conntrack -S invalid rose by ${inv.delta})` : ''}, so the sender retransmits until it times out.`,
          flows: [p.id],
          evidence: evs,
          needs: [{ kind: 'keepalive', paths: [p], budgetSec: est.value }],
          t: latestT(evs, ctx.now),
        }),
      );
    }
    return out;
  },
};

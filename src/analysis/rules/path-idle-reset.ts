// FM-11 (events): the flow died after an idle gap while node conntrack still held it ESTABLISHED:
// a reset from the remote (AWS NAT/NLB), or a silent drop ending in keepalive timeout / retransmits.
// Only an element that behaves so is named: a silent one never resets, a resetting one never
// leaves the probes unanswered (model/cloud-presets.ts ExpiryBehaviour).
import type { Evidence } from '../../model/diagnosis.js';
import type { TimelineItem } from '../../model/timeline.js';
import { CLOUD_PRESETS, type ExpiryBehaviour } from '../../model/cloud-presets.js';
import type { SuggestNeed } from '../needs.js';
import type { Draft, Rule } from '../rule.js';
import { evidence, itemEvidence, latestT, makeDraft } from '../rule.js';
import { fmtGap } from './expiry-helpers.js';

function gapSec(i: TimelineItem): number | undefined {
  return i.prevAct !== undefined && i.prevAct >= 0
    ? Math.round((i.t - i.prevAct) / 1000)
    : undefined;
}

function isKeepaliveTimeout(i: TimelineItem): boolean {
  return (
    i.kind === 'reset' &&
    i.probe?.kind === 'reset' &&
    i.probe.direction === 'sent' &&
    i.probe.mode === 'active' &&
    i.probe.reason === 'TCP_KEEPALIVE_TIMEOUT'
  );
}

function isReceivedReset(i: TimelineItem): boolean {
  return i.kind === 'reset' && i.probe?.kind === 'reset' && i.probe.direction === 'received';
}

export const pathIdleReset: Rule = {
  code: 'path.idle-reset',
  fm: 'FM-11',
  run(ctx) {
    const out: Draft[] = [];
    const known: Known[] = [
      ...ctx.path.pathLayers.map((l) => ({
        sec: l.timeoutSec,
        label: l.source,
        behaviour: l.behaviour,
        declared: l.layer === 'cloud',
      })),
      ...Object.entries(CLOUD_PRESETS).flatMap(([k, v]) =>
        v.timeoutSec === null
          ? []
          : [{ sec: v.timeoutSec, label: `${k} ${v.timeoutSec} s`, behaviour: v.behaviour }],
      ),
    ];
    // Both triggers are probe resets.
    for (const f of ctx.resetOrDropFlows()) {
      const tl = f.timeline ?? [];
      const idx = tl.findIndex(
        (i) => isKeepaliveTimeout(i) || (isReceivedReset(i) && (gapSec(i) ?? 0) >= 60),
      );
      const hit = tl[idx];
      if (!hit) continue;
      // conntrack forgetting first is FM-1/FM-2, not an off-node timer.
      const before = tl.slice(0, idx);
      if (
        before.some((i) => (i.kind === 'ct-destroy' && i.dir !== 'reply') || i.kind === 'ct-gone')
      )
        continue;
      // The entry's state when the flow died (later events are its aftermath), else the current one.
      // Probe times are estimates (batched output, ≈0.5 s): a state change just before the hit may be its aftermath.
      const lastCt = [...before]
        .reverse()
        .find((i) => i.ctType !== undefined && i.dir !== 'reply' && i.t < hit.t - 1000);
      // No event before it (the bounded timeline dropped them): the current state only counts when no
      // later event changed it either.
      const anyCt = tl.some((i) => i.ctType !== undefined && i.dir !== 'reply');
      const stateThen = lastCt?.ctState ?? (f.ctPresent && !anyCt ? f.ctState : null);
      if (stateThen !== null && stateThen !== undefined && stateThen !== 'ESTABLISHED') continue;
      const p = ctx.pathOf(f);
      const rtx = before.filter((i) => i.kind === 'retransmit');
      // Probes or segments lost after the idle gap: dropped on the way, or retransmitted unanswered.
      const lost = before.filter((i) => i.kind === 'retransmit' || i.kind === 'drop');
      // The idle gap ends at the first packet after it: the first lost one, else the reset itself.
      const gap = (lost[0] ? gapSec(lost[0]) : undefined) ?? gapSec(hit);
      const silent = isKeepaliveTimeout(hit);
      const fits = (k: Known) => k.behaviour === undefined || behaves(k.behaviour, silent);
      const near = (k: Known) => gap !== undefined && Math.abs(gap - k.sec) <= 0.1 * k.sec;
      const match = known.find((k) => near(k) && fits(k));
      // A declared element whose timeout fits but whose behaviour does not: it did not do this.
      const contradicted = known.find((k) => k.declared === true && near(k) && !fits(k));
      const drops = before.filter(
        (i) => i.kind === 'drop' && (i.scope ?? '') !== (f.ctScope ?? ''),
      );
      const evs: Evidence[] = [
        ...drops
          .slice(0, 2)
          .map((i) =>
            itemEvidence(i, `dropped beyond the node${i.scope ? ` (in ${i.scope})` : ''}`),
          ),
        ...rtx.slice(0, 2).map((i) => itemEvidence(i, 'retransmission after the idle gap')),
        itemEvidence(
          hit,
          isKeepaliveTimeout(hit)
            ? 'keepalive probes unanswered: RST, ETIMEDOUT'
            : 'reset from the remote end',
        ),
      ];
      if (f.ctPresent || f.ctState === 'ESTABLISHED')
        evs.push(
          evidence(
            f.ctT,
            f.ctSrc,
            ctx.table.conntrackSummary(f),
            'node conntrack still ESTABLISHED',
          ),
        );
      const how = silent
        ? 'its keepalive probes went unanswered and the kernel reset it (ETIMEDOUT)'
        : 'the remote end answered with a reset';
      const not = contradicted
        ? ` Not ${contradicted.label}: it ${contradicted.behaviour ? behaviourVerb(contradicted.behaviour) : ''}.`
        : '';
      const where = drops[0]?.scope ? ` (its packets were dropped in ${drops[0].scope})` : '';
      const cause = `An idle timer beyond the node forgot this flow${gap !== undefined ? ` ${isKeepaliveTimeout(hit) && lost[0] ? 'within' : 'after'} ${fmtGap(gap)} idle` : ''}${match ? ` (matches ${match.label})` : ''}${where}: ${how} while node conntrack still held it ESTABLISHED.${not}`;
      const budget = Math.min(
        gap ?? Infinity,
        match?.sec ?? Infinity,
        ...ctx.path.pathLayers.map((l) => l.timeoutSec),
      );
      const needs: SuggestNeed[] = [
        Number.isFinite(budget)
          ? { kind: 'keepalive', paths: [p], budgetSec: budget }
          : { kind: 'keepalive', paths: [p] },
      ];
      if (p.keepalive.state === 'on' && p.keepalive.idleSec !== null)
        needs.push({
          kind: 'external-timeout',
          idleSec: p.keepalive.idleSec + p.keepalive.intervalSec * p.keepalive.probes,
        });
      out.push(
        makeDraft({
          rule: 'path.idle-reset',
          fm: 'FM-11',
          subject: p.id,
          severity: 'critical',
          confidence: match || drops.length > 0 ? 'likely' : 'possible',
          title: 'Flow killed by an idle timer beyond the node',
          cause,
          flows: [p.id],
          evidence: evs,
          needs,
          t: latestT(evs, ctx.now),
        }),
      );
    }
    return out;
  },
};

interface Known {
  readonly sec: number;
  readonly label: string;
  readonly behaviour: ExpiryBehaviour | undefined;
  readonly declared?: boolean;
}

/** Whether an element that behaves so ends a flow the way this one ended (silent: ETIMEDOUT). */
function behaves(b: ExpiryBehaviour, silent: boolean): boolean {
  if (b === 'silent') return silent;
  if (b === 'rst-at-expiry' || b === 'rst-on-next-packet') return !silent;
  // A proxy closes with FIN: neither an unanswered probe nor a reset after the gap.
  return false;
}

function behaviourVerb(b: ExpiryBehaviour): string {
  switch (b) {
    case 'silent':
      return 'drops silently, it does not reset';
    case 'rst-at-expiry':
      return 'resets both ends at expiry';
    case 'rst-on-next-packet':
      return 'resets the next packet, it does not leave probes unanswered';
    case 'close-at-expiry':
      return 'closes with FIN';
  }
}

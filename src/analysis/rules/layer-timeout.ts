// Shared body of the "a layer forgets the flow before keepalive refreshes it" rules (FM-1, FM-2, FM-11).
import { behaviourPhrase } from '../../model/cloud-presets.js';
import type { Layer } from '../../model/diagnosis.js';
import { endpointKey } from '../../model/endpoint.js';
import type { PathTimeouts } from '../path/path-timeouts.js';
import type { SuggestNeed } from '../needs.js';
import type { Draft, RuleContext } from '../rule.js';
import { riskPaths } from './expiry-helpers.js';
import {
  LAYER_NAME,
  breaksIn,
  byUrgency,
  flowIds,
  fmtSec,
  groupBy,
  keepalivePhrase,
  keepaliveSpan,
  latestT,
  makeDraft,
  pathEvidence,
} from '../rule.js';

export interface LayerRuleSpec {
  readonly rule: string;
  readonly fm: string;
  readonly layers: readonly Layer[];
  readonly title: string;
  /** Layer-specific fix for flows whose keepalive is on (raising a timer only helps when something refreshes it). */
  readonly raise?: (aboveSec: number) => SuggestNeed | undefined;
  readonly extraNeeds?: (paths: readonly PathTimeouts[]) => SuggestNeed[];
}

/** Groups at-risk flows whose first layer is one of `layers` by target, one finding per target. */
export function layerTimeoutFindings(ctx: RuleContext, spec: LayerRuleSpec): Draft[] {
  const hits = riskPaths(ctx).filter(
    (p) => p.first && spec.layers.includes(p.first.layer) && p.first.clamp === undefined,
  );
  const groups = groupBy(hits, (p) => `${p.flow.proto} ${endpointKey(ctx.table.target(p.flow))}`);
  const out: Draft[] = [];
  for (const [target, g] of groups) {
    g.sort(byUrgency);
    const p = g[0];
    if (!p?.first || p.first.timeoutSec === null) continue;
    const layer = LAYER_NAME[p.first.layer];
    const to = p.first.timeoutSec;
    const idle =
      p.idleSec === null
        ? 'its idle time is unknown'
        : p.expired
          ? `it was idle ${fmtSec(p.idleSec)} and its entry expired`
          : `it has been idle ${fmtSec(p.idleSec)}`;
    const cause =
      g.length === 1
        ? `${cap(layer)} forgets this flow after ${fmtSec(to)} idle (${p.first.source}); ${idle}; ${keepalivePhrase(p)}.`
        : `${cap(layer)} forgets flows to ${target.slice(target.indexOf(' ') + 1)} after ${fmtSec(to)} idle (${p.first.source}); ${g.length} flows, the idlest ${p.idleSec === null ? 'of unknown idle' : `idle ${fmtSec(p.idleSec)}`}${p.expired ? ' (expired)' : ''}; ${keepalivePhrase(p)}.`;
    const b = p.first.behaviour;
    const then = b ? ` Then it ${behaviourPhrase(b)}.` : '';
    const proxy = p.first.noKeepaliveRefresh
      ? ' TCP keepalive does not re-arm it: it counts application data only.'
      : '';
    const urgent = breaksIn(p) <= 0.2 * to;
    const kaKnown = g.every((x) => x.keepalive.state !== 'unknown');
    const timeoutKnown =
      p.first.evidence.length > 0 || p.first.layer === 'path' || p.first.layer === 'cloud';
    // TCP keepalive cannot hold a proxy's timer: only its own timeout (or application traffic) can.
    const needs: SuggestNeed[] = p.first.noKeepaliveRefresh
      ? [{ kind: 'external-timeout', idleSec: Math.max(to, ...g.map((x) => x.idleSec ?? 0)) }]
      : [{ kind: 'keepalive', paths: g }];
    const spans = g.map(keepaliveSpan).filter((x): x is number => x !== undefined);
    if (spec.raise && spans.length === g.length && spans.length > 0) {
      const n = spec.raise(Math.max(...spans));
      if (n) needs.push(n);
    }
    if (spec.extraNeeds && !p.first.noKeepaliveRefresh) needs.push(...spec.extraNeeds(g));
    const ev = pathEvidence(g);
    out.push(
      makeDraft({
        rule: spec.rule,
        fm: spec.fm,
        subject: target,
        severity: urgent ? 'critical' : 'warning',
        confidence:
          kaKnown && timeoutKnown ? 'certain' : kaKnown || timeoutKnown ? 'likely' : 'possible',
        title: spec.title,
        cause: `${cause}${then}${proxy}`,
        flows: flowIds(g),
        evidence: ev,
        needs,
        t: latestT(ev, ctx.now),
      }),
    );
  }
  return out;
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

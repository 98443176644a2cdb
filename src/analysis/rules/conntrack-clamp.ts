// FM-6 / FM-7 (snapshot): ESTABLISHED entries running on the 300 s clamp of §2.3.
import { endpointKey } from '../../model/endpoint.js';
import type { LayerView } from '../path/layers.js';
import type { PathTimeouts } from '../path/path-timeouts.js';
import type { SuggestNeed } from '../needs.js';
import type { Draft, RuleContext } from '../rule.js';
import {
  breaksIn,
  byUrgency,
  flowIds,
  fmtSec,
  groupBy,
  latestT,
  makeDraft,
  pathEvidence,
} from '../rule.js';

type Clamp = NonNullable<LayerView['clamp']>;

/** Live flows whose conntrack layer is clamped for one of `why`, most urgent first. */
export function clampedPaths(ctx: RuleContext, why: readonly Clamp[]): PathTimeouts[] {
  return ctx
    .livePaths()
    .filter((p) =>
      p.layers.some(
        (l) => l.layer === 'conntrack' && l.clamp !== undefined && why.includes(l.clamp),
      ),
    )
    .sort(byUrgency);
}

export const CLAMP_REASON: Record<Clamp, string> = {
  unacknowledged: 'data is sent and not acknowledged',
  'zero-window': 'the peer advertises a zero window',
  retransmits: 'the same segment was retransmitted at least nf_conntrack_tcp_max_retrans times',
  'mid-stream-pickup':
    'the entry was picked up mid-stream ([UNREPLIED]) after the original one was lost',
  suspicious:
    'conntrack lowered it after unacknowledged data, a zero window or out-of-window FIN/RST',
};

/** One finding per clamp reason and Service (target): `rule:reason:tcp 10.96.0.10:80`. */
export function clampFindings(
  ctx: RuleContext,
  rule: string,
  fm: string,
  why: readonly Clamp[],
  title: string,
  needs: (g: PathTimeouts[], c: Clamp) => SuggestNeed[],
): Draft[] {
  const out: Draft[] = [];
  for (const c of why) {
    const all = clampedPaths(ctx, [c]);
    const groups = groupBy(all, (p) => `${p.flow.proto} ${endpointKey(ctx.table.target(p.flow))}`);
    for (const [target, g] of groups) {
      const p = g[0];
      if (!p) continue;
      const layer = p.layers.find((l) => l.layer === 'conntrack');
      const to = layer?.timeoutSec ?? 300;
      const left = breaksIn(p);
      const ev = pathEvidence(
        g.map((x) => ({ ...x, first: x.layers.find((l) => l.layer === 'conntrack') })),
      );
      out.push(
        makeDraft({
          rule,
          fm,
          subject: `${c}:${target}`,
          severity: left < 60 ? 'critical' : 'warning',
          confidence: c === 'suspicious' ? 'possible' : 'likely',
          title,
          cause: `Conntrack keeps ${g.length === 1 ? 'this ESTABLISHED flow' : `${g.length} ESTABLISHED flows to ${target.slice(target.indexOf(' ') + 1)}`} only ${fmtSec(to)} idle because ${CLAMP_REASON[c]}; ${g.length === 1 ? 'it' : 'the first'} expires in ${fmtSec(left)} unless a packet refreshes it.`,
          flows: flowIds(g),
          evidence: ev,
          needs: needs(g, c),
          t: latestT(ev, ctx.now),
        }),
      );
    }
  }
  return out;
}

// Predictions: live flows that nothing refreshes in time, ranked by when their first layer forgets them.
import type { Prediction } from '../model/diagnosis.js';
import type { PathTimeouts } from './path/path-timeouts.js';
import type { RuleContext } from './rule.js';
import { LAYER_NAME, breaksIn, byUrgency, fmtSec, keepalivePhrase, predictable } from './rule.js';

/** Flows at risk, soonest first; never safe flows (keepalive in time) or flows already gone. */
export function predict(ctx: RuleContext, limit = 200): Prediction[] {
  const risky: PathTimeouts[] = ctx.livePaths().filter(predictable).sort(byUrgency);
  return risky.slice(0, limit).map((p) => {
    const first = p.first;
    const timeoutSec = first?.timeoutSec ?? 0;
    const inSec = breaksIn(p);
    const idle = p.idleSec ?? Math.max(0, timeoutSec - inSec);
    return {
      flow: p.id,
      layer: first?.layer ?? 'conntrack',
      timeoutSec,
      idleSec: idle,
      breaksInSec: inSec,
      breaksAt: ctx.now + inSec * 1000,
      cause: `${LAYER_NAME[first?.layer ?? 'conntrack']} forgets this flow after ${fmtSec(timeoutSec)} idle${first?.clamp ? ` (clamped: ${first.clamp})` : ''}; it has been idle ${fmtSec(idle)}; ${keepalivePhrase(p)}.`,
    };
  });
}

// Predictions: live flows the timer race says a layer forgets, ranked by when it does.
import { behaviourPhrase } from '../model/cloud-presets.js';
import type { Prediction } from '../model/diagnosis.js';
import type { PathTimeouts } from './path/path-timeouts.js';
import type { RuleContext } from './rule.js';
import { LAYER_NAME, breaksIn, byUrgency, fmtSec, keepalivePhrase, predictable } from './rule.js';

/** Flows at risk, soonest first; never safe flows (keepalive in time) or flows already gone. */
export function predict(ctx: RuleContext, limit = Infinity): Prediction[] {
  const risky: PathTimeouts[] = ctx.livePaths().filter(predictable).sort(byUrgency);
  return risky.slice(0, limit).map((p) => {
    const layer = p.racing ?? p.first;
    const timeoutSec = layer?.timeoutSec ?? 0;
    const inSec = breaksIn(p);
    const idle = p.idleSec ?? Math.max(0, timeoutSec - inSec);
    const name = LAYER_NAME[layer?.layer ?? 'conntrack'];
    const clamp = layer?.clamp ? ` (clamped: ${layer.clamp})` : '';
    const v = p.race?.result.verdict;
    const cause =
      v?.kind === 'breaks'
        ? `${v.reason.charAt(0).toUpperCase()}${v.reason.slice(1)}${clamp}; it has been idle ${fmtSec(idle)}.`
        : `${name} forgets this flow after ${fmtSec(timeoutSec)} idle unless it sends${clamp}; idle ${fmtSec(idle)} so far; ${keepalivePhrase(p)}.`;
    return {
      flow: p.id,
      layer: layer?.layer ?? 'conntrack',
      timeoutSec,
      idleSec: idle,
      breaksInSec: inSec,
      breaksAt: ctx.now + inSec * 1000,
      cause: layer?.behaviour ? `${cause} Then it ${behaviourPhrase(layer.behaviour)}.` : cause,
    };
  });
}

// The numbers suggestions propose: friendly, with margin, and provably on the right side of every timer.

const FRIENDLY_IDLE = [
  5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 300, 600, 900, 1200, 1800, 3600, 7200, 14400, 21600,
  43200, 86400,
];
const FRIENDLY_INTVL = [5, 10, 15, 20, 30, 45, 60, 75];

/** Largest friendly value ≤ n (at least the smallest one). */
export function friendlyDown(n: number, list: readonly number[] = FRIENDLY_IDLE): number {
  let best = list[0] ?? 1;
  for (const v of list) if (v <= n) best = v;
  return best;
}

/** Smallest round value > n: whole minutes up to an hour, then 5-minute steps. */
export function friendlyAbove(n: number): number {
  const step = n >= 3600 ? 300 : 60;
  return (Math.floor(n / step) + 1) * step;
}

export interface KeepalivePlan {
  readonly idleSec: number;
  readonly intervalSec: number;
  readonly probes: number;
  /** The smallest layer timeout the plan stays under. */
  readonly budgetSec: number;
}

/**
 * Keepalive that refreshes every layer in time: idle ≤ budget − interval × probes, so even a lost
 * probe or two are retried before the smallest timer expires; rounded down to a friendly value.
 */
export function keepalivePlan(
  budgetSec: number,
  cur: { intervalSec: number; probes: number },
): KeepalivePlan {
  const intervalSec = friendlyDown(
    Math.max(5, Math.min(cur.intervalSec, budgetSec / 20)),
    FRIENDLY_INTVL,
  );
  const probes = Math.max(3, Math.min(cur.probes, 5));
  let bound = budgetSec - intervalSec * probes;
  if (bound < 5) bound = budgetSec / 2;
  const idleSec = Math.max(1, Math.min(friendlyDown(bound), Math.floor(budgetSec) - 1));
  return { idleSec, intervalSec, probes, budgetSec };
}

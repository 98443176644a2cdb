// Spaces out the runs of a group of snapshot sources that each spawn a process: one per pod network
// namespace. A spawn costs the node CPU whatever it reads (~1.5 ms in kdiag for the fork and exec,
// and more in nsenter and ss): with 110 stand-in pods (an `unshare -n` process each in a kubepods
// cgroup) `kdiag trace` took half a core reading them every 2 s, and 8% of one at 5 reads a second.
// The group shares a rate instead: each source waits its turn, and with many namespaces each one is
// read less often than the interval.
import { sleep } from './sleep.js';

/** Runs per second a group of per-namespace sources may start, together. */
export const NAMESPACE_READS_PER_SECOND = 5;

/** Hands out turns at most `perSecond` a second, first asked first served. */
export class ReadPacer {
  private next = -Infinity;
  private readonly gapMs: number;

  constructor(
    readonly perSecond: number,
    private readonly now: () => number = () => performance.now(),
    private readonly wait: (ms: number, signal: AbortSignal) => Promise<void> = sleep,
  ) {
    if (!(perSecond > 0))
      throw new RangeError(`ReadPacer: perSecond must be > 0, got ${perSecond}`);
    this.gapMs = 1000 / perSecond;
  }

  /** Resolves at the caller's turn (a slot is taken when asked), or at once when `signal` aborts. */
  async turn(signal: AbortSignal): Promise<void> {
    const t = this.now();
    const at = Math.max(t, this.next);
    this.next = at + this.gapMs;
    if (at > t) await this.wait(at - t, signal);
  }
}

/** Sources sharing a pacer that ask for a turn every intervalMs. */
export interface PacedGroup {
  readonly count: number;
  readonly intervalMs: number;
}

/**
 * How long, in the steady state, a round of turns takes when `groups` share a pacer of `perSecond`
 * (pure): a source asking every I ms runs every max(I, round). The round is the shortest time in which
 * every source that asks within it gets its turn; it is the interval itself when the rate suffices.
 */
export function pacedRoundMs(perSecond: number, groups: readonly PacedGroup[]): number {
  const gap = 1000 / perSecond;
  const live = groups.filter((g) => g.count > 0);
  if (live.length === 0) return 0;
  const shortest = Math.min(...live.map((g) => g.intervalMs));
  // Turns asked per ms within a round of `c` ms, times the ms each turn takes: at most 1 to fit.
  const load = (c: number): number =>
    live.reduce((sum, g) => sum + (g.count * gap) / Math.max(g.intervalMs, c), 0);
  if (load(shortest) <= 1) return shortest;
  // load() falls as the round grows; every source once per round always fits.
  let lo = shortest;
  let hi = live.reduce((sum, g) => sum + g.count, 0) * gap;
  for (let i = 0; i < 60 && hi - lo > 1; i++) {
    const mid = (lo + hi) / 2;
    if (load(mid) <= 1) hi = mid;
    else lo = mid;
  }
  return hi;
}

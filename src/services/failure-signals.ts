// Which observations are news of a failure happening now: the moments a user waits on the
// explanation, when the live session analyses sooner than its CPU share would allow.
import type { Observation } from '../model/observation.js';

/** conntrack -S counters that rise when the kernel refuses or drops a flow. */
const REFUSAL_COUNTERS = ['drop', 'early_drop', 'insert_failed'] as const;

/** Tells, one observation at a time, whether it says something is failing now. */
export class FailureSignals {
  /** Last sum of the refusal counters, by source (each netns's `conntrack -S`). */
  private readonly refused = new Map<string, number>();

  isNews(o: Observation): boolean {
    if (o.kind === 'probe') return o.event.kind === 'drop' || o.event.kind === 'reset';
    if (o.kind !== 'conntrack-stats') return false;
    let sum = 0;
    for (const cpu of o.cpus) for (const c of REFUSAL_COUNTERS) sum += cpu.counters[c] ?? 0;
    const before = this.refused.get(o.src);
    this.refused.set(o.src, sum);
    // The first reading holds what the counters gathered since boot: history, not news.
    return before !== undefined && sum > before;
  }
}

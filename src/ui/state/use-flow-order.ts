// The flows pane's data (index, filtered and sorted order): computed at once for small diagnoses, and in
// time-sliced steps for large ones so that keys and other panes stay responsive while 100,000 flows are sorted.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { Diagnosis, FlowView } from '../../model/diagnosis.js';
import {
  flowHaystack,
  flowOrderJob,
  indexFlows,
  indexFlowsJob,
  selectFlowOrder,
  type FlowIndex,
} from './selectors.js';
import { printableFlow } from './printable-snapshot.js';
import type { SortKey } from './ui-state.js';

export interface FlowOrder {
  readonly index: FlowIndex;
  readonly order: Uint32Array;
  /** True while a newer diagnosis, sort or filter is still being computed (the data shown is the previous one). */
  readonly pending: boolean;
}

/** Above this many flows the work is time-sliced. */
export const SYNC_FLOW_LIMIT = 20_000;
const CHUNK = 8192;
const SLICE_MS = 6;

interface Done {
  readonly diagnosis: Diagnosis;
  readonly sort: SortKey;
  readonly filter: string;
  readonly index: FlowIndex;
  readonly order: Uint32Array;
}

/**
 * Caches the filter text per flow id; ids are stable across diagnoses, so a new diagnosis rarely
 * rebuilds it. The text is the printable one, as shown: a filter matches what the person sees.
 */
function useHaystack(): (f: FlowView) => string {
  const cache = useRef(new Map<string, string>());
  return useMemo(
    () => (f: FlowView) => {
      if (typeof f.id !== 'string') return flowHaystack(printableFlow(f));
      const c = cache.current;
      let h = c.get(f.id);
      if (h === undefined) {
        if (c.size > 400_000) c.clear();
        c.set(f.id, (h = flowHaystack(printableFlow(f))));
      }
      return h;
    },
    [],
  );
}

/** Index and order of the diagnosis' flows for a sort and filter. */
export function useFlowOrder(
  diagnosis: Diagnosis,
  sort: SortKey,
  filter: string,
  syncLimit = SYNC_FLOW_LIMIT,
): FlowOrder {
  const haystack = useHaystack();
  const large = diagnosis.flows.length > syncLimit;
  const [done, setDone] = useState<Done | null>(null);

  // Small diagnoses: plain memoised computation on the diagnosis identity.
  const index = useMemo(() => (large ? null : indexFlows(diagnosis)), [large, diagnosis]);
  const order = useMemo(
    () => (index ? selectFlowOrder(index, sort, filter, haystack) : null),
    [index, sort, filter, haystack],
  );

  // Large diagnoses: the first one is computed at once (nothing to show yet), later ones in slices.
  const first = useMemo(() => {
    if (!large || done) return null;
    const idx = indexFlows(diagnosis);
    return {
      diagnosis,
      sort,
      filter,
      index: idx,
      order: selectFlowOrder(idx, sort, filter, haystack),
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [large, done === null]);
  const current = done ?? first;
  const stale =
    large &&
    (!current ||
      current.diagnosis !== diagnosis ||
      current.sort !== sort ||
      current.filter !== filter);

  useEffect(() => {
    if (!stale) return undefined;
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Reuse the index when only sort or filter changed.
    const reuse = current && current.diagnosis === diagnosis ? current.index : null;
    const job = (function* () {
      const idx = reuse ?? (yield* indexFlowsJob(diagnosis, CHUNK));
      const ord = yield* flowOrderJob(idx, sort, filter, haystack, CHUNK);
      return { diagnosis, sort, filter, index: idx, order: ord } satisfies Done;
    })();
    const step = () => {
      timer = undefined;
      if (cancelled) return;
      const until = performance.now() + SLICE_MS;
      for (;;) {
        const r = job.next();
        if (r.done) {
          setDone(r.value);
          return;
        }
        if (performance.now() >= until) break;
      }
      timer = setTimeout(step, 0);
    };
    timer = setTimeout(step, 0);
    return () => {
      cancelled = true;
      if (timer !== undefined) clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [stale, diagnosis, sort, filter]);

  if (!large) return { index: index!, order: order!, pending: false };
  const c = current!;
  return { index: c.index, order: c.order, pending: stale };
}

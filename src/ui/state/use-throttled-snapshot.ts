// Reads a SessionStore with useSyncExternalStore, coalescing its notifications to one re-render per `ms`.
import { useCallback, useMemo, useSyncExternalStore } from 'react';
import type { SessionSnapshot, SessionStore } from '../../model/session.js';
import { printableSnapshot } from './printable-snapshot.js';

// Input strings reach the terminal only through the snapshot: each snapshot is made printable once
// (but its flows, which are made printable where drawn), and the same copy is handed back on every
// render (useSyncExternalStore needs a stable reference).
function cachedPrintable(
  copies: WeakMap<SessionSnapshot, SessionSnapshot>,
  s: SessionSnapshot,
): SessionSnapshot {
  let p = copies.get(s);
  if (p === undefined) {
    try {
      p = printableSnapshot(s);
    } catch {
      // A snapshot that throws when read is the views' to report (their error boundary), as before.
      p = s;
    }
    copies.set(s, p);
  }
  return p;
}

/** Wraps store.subscribe so that a burst of notifications becomes one call at most every `ms` (0 = no throttle). */
export function throttledSubscribe(store: SessionStore, ms: number, now: () => number = Date.now) {
  return (onChange: () => void): (() => void) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let last = Number.NEGATIVE_INFINITY;
    const fire = () => {
      timer = undefined;
      last = now();
      onChange();
    };
    let unsubscribe: (() => void) | undefined;
    try {
      unsubscribe = store.subscribe(() => {
        if (ms <= 0) return onChange();
        if (timer !== undefined) return;
        timer = setTimeout(fire, Math.max(0, ms - (now() - last)));
      });
    } catch {
      unsubscribe = undefined;
    }
    return () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      try {
        unsubscribe?.();
      } catch {
        // A store that fails to unsubscribe must not take the UI down on exit.
      }
    };
  };
}

/** The store's latest snapshot; re-renders at most every `ms` however often the store notifies. */
export function useThrottledSnapshot(store: SessionStore, ms: number): SessionSnapshot | undefined {
  const subscribe = useMemo(() => throttledSubscribe(store, ms), [store, ms]);
  const copies = useMemo(() => new WeakMap<SessionSnapshot, SessionSnapshot>(), []);
  const get = useCallback(() => {
    try {
      const s = store.getSnapshot();
      return s === undefined ? undefined : cachedPrintable(copies, s);
    } catch {
      return undefined;
    }
  }, [store, copies]);
  return useSyncExternalStore(subscribe, get, get);
}

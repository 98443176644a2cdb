// Waiting between runs of a source, cut short when the session stops.

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * The wait before the next run of a periodic job that just took `tookMs`: `baseMs`, or longer so the
 * job takes at most `share` of the time (of a core, for CPU-bound work).
 */
export function dutyCycleDelay(baseMs: number, tookMs: number, share: number): number {
  return Math.max(baseMs, tookMs / share - tookMs);
}

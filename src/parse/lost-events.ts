// How many events a tool's (or kdiag's) stderr line says were lost: the one reading shared by the
// live session's counters and the replay's, so a recording reports the loss its session showed.

const COUNTED = /\blost (\d+) events\b/i;
const UNCOUNTED = /ENOBUFS|losing events/i;

/**
 * N for a line that says "lost N events" (bpftrace's notice, kdiag's count of the kernel's drops
 * on conntrack's event socket); 1 for a warning that does not say how many (conntrack's ENOBUFS:
 * at least one) or a number past 2^53; 0 for any other line.
 */
export function lostEventCount(line: string): number {
  const m = COUNTED.exec(line);
  if (m) {
    const n = Number(m[1]);
    return Number.isSafeInteger(n) ? n : 1;
  }
  return UNCOUNTED.test(line) ? 1 : 0;
}

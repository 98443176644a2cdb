// What the bpftrace source reads off a `-f json` printf line before the decoder does: the tag (which
// probe of a merged program printed it) and the kernel time the event fired (first field, t_ns), so
// the record is stamped with when it happened rather than when bpftrace's output reached kdiag.
import type { ProbeSpec } from '../parse/probes/catalog.js';
import type { Clock } from './source.js';

// bpftrace 0.17 prints every printf as exactly this head; a line of another shape goes unrouted.
const HEAD = '{"type": "printf", "data": "';
// The TAB between fields, as JSON escapes it.
const TAB = '\\t';

/** The tag and t_ns of a kdiag printf line, or undefined for any other line. */
export function printfTag(line: string): { tag: string; ns: number } | undefined {
  if (!line.startsWith(HEAD)) return undefined;
  const tagEnd = line.indexOf(TAB, HEAD.length);
  if (tagEnd === -1 || tagEnd - HEAD.length > 32) return undefined;
  const tag = line.slice(HEAD.length, tagEnd);
  let ns = 0;
  let i = tagEnd + TAB.length;
  const from = i;
  for (; i < line.length && i - from < 20; i++) {
    const c = line.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    ns = ns * 10 + c;
  }
  if (i === from || !line.startsWith(TAB, i)) ns = Number.NaN;
  return { tag, ns };
}

/** printf tag → the `bpftrace:<id>` source of the probe that prints it. */
export function tagRoutes(specs: readonly ProbeSpec[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const s of specs) for (const tag of Object.keys(s.tags)) m.set(tag, s.sourceId);
  return m;
}

/** Milliseconds of CLOCK_MONOTONIC: libuv's hrtime reads that clock on Linux. */
function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export interface KernelClock {
  /** Wall time (ms) of a kernel time in ns; `now` when the time is unusable or in the future. */
  wallMs(ns: number, now: number): number;
  /** What the begin record says about the conversion, for a reader of the recording. */
  describe(): { kernel: 'CLOCK_MONOTONIC'; wallMinusKernelMs: number };
}

/**
 * bpftrace 0.17's `nsecs` is bpf_ktime_get_ns(): CLOCK_MONOTONIC (no suspend time; later bpftrace
 * versions take `nsecs(boot)` for CLOCK_BOOTTIME, kdiag's probes use the default). The offset to the
 * wall clock is read once, when the source starts: a step of the wall clock afterwards (NTP) shifts
 * later wall times but never their order, which is the kernel's.
 */
export function kernelClock(clock: Clock): KernelClock {
  // The two reads back to back, the smaller gap of three tries: the offset is good to well under 1 ms.
  let best = Infinity;
  let offset = 0;
  for (let i = 0; i < 3; i++) {
    const a = monotonicMs();
    const wall = clock();
    const b = monotonicMs();
    if (b - a < best) {
      best = b - a;
      offset = wall - (a + b) / 2;
    }
  }
  return {
    wallMs: (ns, now) => {
      if (!(ns > 0)) return now;
      const t = Math.round(offset + ns / 1e6);
      return t > now ? now : t;
    },
    describe: () => ({ kernel: 'CLOCK_MONOTONIC', wallMinusKernelMs: Math.round(offset) }),
  };
}

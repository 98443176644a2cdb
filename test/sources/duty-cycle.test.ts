// Periodic work (analysis ticks, table reads) stays within its share of the time on a big table.
import { describe, expect, it } from 'vitest';
import { ANALYSIS_CPU_SHARE } from '../../src/services/live-session.js';
import { dutyCycleDelay } from '../../src/sources/sleep.js';

describe('dutyCycleDelay', () => {
  it('keeps the base interval while the work is short', () => {
    expect(dutyCycleDelay(1000, 5, ANALYSIS_CPU_SHARE)).toBe(1000);
    expect(dutyCycleDelay(1000, 0, ANALYSIS_CPU_SHARE)).toBe(1000);
  });

  it('spaces out runs so the work takes at most its share', () => {
    // 0.4 s per analysis (10^6 flows): one every 4 s, not every second
    const wait = dutyCycleDelay(1000, 400, ANALYSIS_CPU_SHARE);
    expect(wait).toBe(3600);
    expect(400 / (400 + wait)).toBeCloseTo(ANALYSIS_CPU_SHARE, 10);
    expect(dutyCycleDelay(2000, 150, 0.5)).toBe(2000);
    expect(dutyCycleDelay(2000, 3000, 0.5)).toBe(3000);
  });
});

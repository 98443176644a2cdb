// The live session's analysis ticks stay within their share of a core on a big table.
import { describe, expect, it } from 'vitest';
import { ANALYSIS_CPU_SHARE, nextAnalysisDelay } from '../../src/services/live-session.js';

describe('nextAnalysisDelay', () => {
  it('keeps the base interval while analysis is cheap', () => {
    expect(nextAnalysisDelay(1000, 5)).toBe(1000);
    expect(nextAnalysisDelay(1000, 0)).toBe(1000);
  });

  it('spaces out ticks so analysis takes at most its share of a core', () => {
    // 0.4 s per analysis (10^6 flows): one every 4 s, not every second
    const wait = nextAnalysisDelay(1000, 400);
    expect(wait).toBe(3600);
    expect(400 / (400 + wait)).toBeCloseTo(ANALYSIS_CPU_SHARE, 10);
    expect(nextAnalysisDelay(1000, 150, 0.5)).toBe(1000);
    expect(nextAnalysisDelay(1000, 1500, 0.5)).toBe(1500);
  });
});

// Every recorded lab session under fixtures/sessions/ replays offline to the findings its run showed
// live. A new recording folder is a new test; `npm run fixtures:record` (root) re-records them.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeInput } from '../../src/services/analyze-input.js';

const ROOT = new URL('../../fixtures/sessions/', import.meta.url).pathname;

interface Expected {
  scenario: string;
  fm: string;
  flow?: string;
  rules: string[];
  not: string[];
  healthy: boolean;
  global: boolean;
}

const TIMEOUT_RULES = /expired|blackhole|invalid|clamped|idle|close-wait|keepalive|timeout/;

const sessions = existsSync(ROOT)
  ? readdirSync(ROOT, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(ROOT, d.name, 'expected.json')))
      .map((d) => d.name)
      .sort()
  : [];

describe('recorded lab sessions replay to their findings', () => {
  it('has recordings to replay', () => {
    expect(sessions.length).toBeGreaterThanOrEqual(8);
  });

  it.each(sessions)(
    '%s',
    async (name) => {
      const dir = join(ROOT, name);
      const exp = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;
      const file = existsSync(join(dir, 'recording.ndjson'))
        ? join(dir, 'recording.ndjson')
        : join(dir, 'recording.ndjson.gz');
      const r = await analyzeInput(file);
      expect(r.issueCount, JSON.stringify(r.issues.slice(0, 3))).toBe(0);
      const findings = r.diagnosis.findings;
      const onFlow = findings.filter((f) => exp.flow !== undefined && f.flows.includes(exp.flow));
      for (const rule of exp.rules) {
        const hit = (exp.global ? findings : onFlow).find((f) => f.rule === rule);
        expect(
          hit,
          `${rule} on ${exp.flow}; got ${findings.map((f) => `${f.rule} ${f.flows.join(',')}`).join(' | ')}`,
        ).toBeDefined();
        expect(hit!.evidence.length).toBeGreaterThan(0);
        expect(hit!.cause).toMatch(/\d/);
      }
      for (const rule of exp.not) expect(onFlow.map((f) => f.rule)).not.toContain(rule);
      // Probe events are quoted in words, never as bpftrace's JSON line.
      const quoted = findings.flatMap((f) =>
        f.evidence.filter((e) => e.src.startsWith('bpftrace:')).map((e) => e.text),
      );
      for (const text of quoted)
        expect(text).toMatch(/^(DROP|RST|RETRANS|STATE|KEEPALIVE|ACTIVITY) /);
      if (exp.healthy)
        expect(onFlow.filter((f) => TIMEOUT_RULES.test(f.rule)).map((f) => f.rule)).toEqual([]);
      // Deterministic: a second replay gives the same diagnosis.
      const again = await analyzeInput(file);
      expect(JSON.stringify(again.diagnosis)).toBe(JSON.stringify(r.diagnosis));
    },
    60_000,
  );
});

describe('suggestions on a recorded pod whose keepalive interval outlives the timeout', () => {
  it('lowers the interval, never offers a keepalive time at or above the one in force', async () => {
    const r = await analyzeInput(join(ROOT, 'keepalive-interval-above', 'recording.ndjson'));
    const ids = r.diagnosis.suggestions.map((s) => s.id);
    // The pod netns holds tcp_keepalive_time 2 s and tcp_keepalive_intvl 8 s against a 5 s timeout.
    expect(ids).toContain('pod-keepalive-intvl');
    expect(ids).not.toContain('pod-keepalive-time');
    const intvl = r.diagnosis.suggestions.find((s) => s.id === 'pod-keepalive-intvl')!;
    expect(intvl.title).toMatch(/to [1-4] s/);
  });
});

// Live says what replay says: a finding that later evidence changes is emitted again under its id,
// one that disappears is withdrawn, and what stands at the end decides trace's exit code.
import { describe, expect, it } from 'vitest';
import { tracePresenter } from '../../src/cli/output/trace-output.js';
import type { Diagnosis, Finding, Prediction } from '../../src/model/diagnosis.js';
import {
  DiagnosisChanges,
  NUMBERS_ONLY_UPDATE_MS,
  type SessionChange,
} from '../../src/services/live-session.js';
import { traceRouter } from '../../src/services/trace-command.js';

const FLOW = 'tcp 10.0.0.1:42766>10.96.0.10:80';
const OTHER = 'tcp 10.0.0.2:5000>10.96.0.11:443';

function finding(over: Partial<Finding> = {}): Finding {
  return {
    id: `fm1.conntrack-expiry:${FLOW}`,
    rule: 'conntrack.established-expired',
    fm: 'FM-1',
    severity: 'warning',
    confidence: 'likely',
    title: 'conntrack entry expired while the connection was idle',
    cause:
      'idle 400 s past nf_conntrack_tcp_timeout_established 300 s; the next packet was dropped',
    flows: [FLOW],
    evidence: [],
    suggestions: [],
    t: 1000,
    ...over,
  };
}

function prediction(over: Partial<Prediction> = {}): Prediction {
  return {
    flow: FLOW,
    layer: 'conntrack',
    timeoutSec: 300,
    idleSec: 100,
    breaksInSec: 200,
    breaksAt: 300_000,
    cause: 'idle past conntrack',
    ...over,
  };
}

function diag(at: number, findings: Finding[], predictions: Prediction[] = []): Diagnosis {
  return { at, findings, predictions, suggestions: [], flows: [] };
}

function kinds(cs: readonly SessionChange[]): string[] {
  return cs.map((c) => `${c.type}${'update' in c && c.update ? '+update' : ''}`);
}

describe('DiagnosisChanges', () => {
  it('emits a finding once while it stays the same, though its time and evidence move on', () => {
    const ch = new DiagnosisChanges();
    expect(kinds(ch.diff(diag(1, [finding()])))).toEqual(['finding']);
    expect(
      ch.diff(diag(2, [finding({ t: 2000, evidence: [{ t: 2000, src: 'ss', text: 'x' }] })])),
    ).toEqual([]);
  });

  it('emits it again as an update when its cause, severity or rule changes (expiry turned reset)', () => {
    const ch = new DiagnosisChanges();
    ch.diff(diag(1, [finding()]));
    const upgraded = finding({
      rule: 'conntrack.invalid-reset',
      cause: 'the backend changed; the next packet was reset',
    });
    const out = ch.diff(diag(2, [upgraded]));
    expect(kinds(out)).toEqual(['finding+update']);
    expect(out[0]).toMatchObject({ finding: { id: upgraded.id, rule: 'conntrack.invalid-reset' } });
  });

  it('re-emits a finding whose cause changed only in its numbers at most every 30 s', () => {
    const ch = new DiagnosisChanges();
    const idle = (s: number, at: number) =>
      diag(at, [
        finding({
          cause: `idle ${s} s past nf_conntrack_tcp_timeout_established 300 s; the next packet was dropped`,
        }),
      ]);
    expect(kinds(ch.diff(idle(400, 1_000)))).toEqual(['finding']);
    // The idle time moves with the clock: not news at every analysis …
    expect(ch.diff(idle(402, 3_000))).toEqual([]);
    expect(ch.diff(idle(428, 29_000))).toEqual([]);
    // … but now and then, with the latest numbers.
    const out = ch.diff(idle(431, 1_000 + NUMBERS_ONLY_UPDATE_MS));
    expect(kinds(out)).toEqual(['finding+update']);
    expect(out[0]).toMatchObject({ finding: { cause: expect.stringContaining('idle 431 s') } });
    // Words that change are news at once.
    expect(
      kinds(ch.diff(diag(32_000, [finding({ cause: 'the backend changed; reset' })]))),
    ).toEqual(['finding+update']);
  });

  it('withdraws a finding the latest analysis no longer makes, and a prediction no longer at risk', () => {
    const ch = new DiagnosisChanges();
    ch.diff(diag(1, [finding()], [prediction(), prediction({ flow: OTHER })]));
    const out = ch.diff(diag(2, [], [prediction({ breaksInSec: 100 })]));
    expect(kinds(out)).toEqual(['finding-withdrawn', 'prediction-withdrawn']);
    expect(out[1]).toMatchObject({ prediction: { flow: OTHER } });
    // Back again later: new, not an update.
    expect(kinds(ch.diff(diag(3, [finding()])))).toEqual(['finding', 'prediction-withdrawn']);
  });

  it('re-emits a prediction whose breaking layer changed, not its countdown', () => {
    const ch = new DiagnosisChanges();
    ch.diff(diag(1, [], [prediction()]));
    expect(ch.diff(diag(2, [], [prediction({ breaksInSec: 50 })]))).toEqual([]);
    expect(kinds(ch.diff(diag(3, [], [prediction({ layer: 'ipvs' })])))).toEqual([
      'prediction+update',
    ]);
  });
});

describe('trace with updates and withdrawals', () => {
  function run(filter: Parameters<typeof traceRouter>[0], steps: Diagnosis[]) {
    const out: string[] = [];
    const router = traceRouter(
      filter,
      tracePresenter(
        true,
        (s) => out.push(s),
        () => undefined,
      ),
      () => 42,
    );
    const ch = new DiagnosisChanges();
    for (const d of steps) for (const c of ch.diff(d)) router.onChange(c);
    return { lines: out.map((l) => JSON.parse(l) as Record<string, unknown>), router };
  }

  it('prints NDJSON a consumer can fold into the final findings', () => {
    const alarm = finding({
      id: `fm4.keepalive:${FLOW}`,
      rule: 'keepalive.too-long',
      cause: 'keepalive 7200 s (kernel default, not read)',
    });
    const { lines, router } = run({}, [
      diag(1, [finding(), alarm]),
      diag(2, [finding({ severity: 'critical' }), alarm]),
      // The pod's tcp_keepalive_time was read: the false alarm goes.
      diag(3, [finding({ severity: 'critical' })]),
    ]);
    expect(lines.map((l) => `${String(l.type)}${l.update ? '+update' : ''}`)).toEqual([
      'finding',
      'finding',
      'finding+update',
      'finding-withdrawn',
    ]);
    expect(lines[3]).toEqual({
      type: 'finding-withdrawn',
      t: 3,
      id: alarm.id,
      rule: alarm.rule,
      flows: [FLOW],
    });
    expect(lines[2]).toMatchObject({
      update: true,
      finding: { id: finding().id, severity: 'critical' },
    });
    expect(router.standing()).toBe(1);
  });

  it('withdraws only what it showed: filtered-out findings stay silent', () => {
    const other = finding({ id: `fm1.conntrack-expiry:${OTHER}`, flows: [OTHER] });
    const { lines, router } = run({ ports: [80] }, [diag(1, [finding(), other]), diag(2, [])]);
    expect(lines.map((l) => l.type)).toEqual(['finding', 'finding-withdrawn']);
    expect(lines[1]).toMatchObject({ id: finding().id });
    expect(router.standing()).toBe(0);
  });

  it('says so in text too', () => {
    const out: string[] = [];
    const router = traceRouter(
      {},
      tracePresenter(
        false,
        (s) => out.push(s),
        () => undefined,
      ),
      () => 42,
    );
    const ch = new DiagnosisChanges();
    for (const d of [
      diag(1, [finding()], [prediction()]),
      diag(2, [finding({ cause: 'now with a reset' })]),
      diag(3, []),
    ])
      for (const c of ch.diff(d)) router.onChange(c);
    const text = out.join('');
    expect(text).toContain('FINDING UPDATED warning FM-1');
    expect(text).toContain('NO LONGER AT RISK (conntrack)');
    expect(text).toContain('WITHDRAWN FM-1');
    expect(text.split('\n').every((l) => l.length <= 80)).toBe(true);
  });
});

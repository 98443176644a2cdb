// Real kernel, traced by `kdiag trace`: the prediction before the break (layer and flow) and the
// attribution after it, for the scenarios in src/lab/scenarios/. Needs what lab-trace needs.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labSkipReason } from '../helpers/lab-guard.js';
import {
  clientFlowId,
  findingsOf,
  standingFindingsOf,
  type FindingLite,
  liveAndReplay,
  saveSessionFixture,
  traceScenario,
  tracedLab,
  type SessionExpectation,
  type TraceLine,
  type TracedScenario,
} from '../helpers/trace-harness.js';

const reason = labSkipReason('root', 'netns', 'iptables', 'conntrack', 'bpftrace', 'tracefs');
const TIMEOUT_RULES = /expired|blackhole|invalid|clamped|idle|close-wait|keepalive|timeout/;

interface PredictionLite {
  readonly flow: string;
  readonly layer: string;
}

/** The predictions standing at `until` (ms since the epoch, by when trace printed them). */
function predictionsAt(lines: readonly TraceLine[], until: number): Map<string, PredictionLite> {
  const by = new Map<string, PredictionLite>();
  for (const l of lines) {
    if ((l.emittedAt ?? 0) > until) break;
    if (l.type === 'prediction') {
      const p = l.prediction as PredictionLite;
      by.set(p.flow, p);
    } else if (l.type === 'prediction-withdrawn') by.delete(String(l.flow));
  }
  return by;
}

/** No prediction on `flow` once a snapshot has seen its keepalive (`settleMs` into the idle), no timeout finding. */
function expectQuiet(t: TracedScenario, flow: string, settleMs: number): void {
  const settled = t.result.timestamps.idleStart! + settleMs;
  expect(predictionsAt(t.lines, settled).has(flow), describeRun(t)).toBe(false);
  expect(
    t.lines.some(
      (l) =>
        l.type === 'prediction' &&
        (l.emittedAt ?? 0) > settled &&
        (l.prediction as PredictionLite).flow === flow,
    ),
    describeRun(t),
  ).toBe(false);
  // Before the keepalive is seen the flow looks unprotected; once it is, no timeout finding is
  // (re)emitted, and none stands at the end.
  const timeoutRules = (fs: readonly FindingLite[]) =>
    fs.filter((f) => f.flows.includes(flow) && TIMEOUT_RULES.test(f.rule)).map((f) => f.rule);
  expect(
    timeoutRules(findingsOf(t.lines).filter((f) => f.emittedAt > settled)),
    describeRun(t),
  ).toEqual([]);
  expect(timeoutRules(standingFindingsOf(t.lines)), describeRun(t)).toEqual([]);
}

function describeRun(t: TracedScenario): string {
  return `${t.result.summary}\n${t.lines
    .filter((l) => l.type !== 'event')
    .map((l) => JSON.stringify(l).slice(0, 300))
    .join('\n')}`;
}

describe.skipIf(reason)('lab scenarios: prediction before, attribution after (real kernel)', () => {
  const env = tracedLab('kdiag-e2e-netns-');
  /** Traces the scenario, and checks the replay of the recording ends with the findings live stood by. */
  const traced = async (scenario: string, want: SessionExpectation): Promise<TracedScenario> => {
    const record = join(env.dir(), `${scenario}.ndjson`);
    const t = await traceScenario(env.lab(), scenario, record);
    await saveSessionFixture(scenario, t.result, record, want);
    const both = await liveAndReplay(t.lines, record);
    expect(both.live, describeRun(t)).toEqual(both.replay);
    return t;
  };

  it('ct-timeout-raised: predicted on conntrack, still expires at the old deadline, attributed to it', async () => {
    const t = await traced('ct-timeout-raised', { rules: ['conntrack.established-expired'] });
    const r = t.result;
    const flow = clientFlowId(r)!;
    expect(r.matched, describeRun(t)).toBe(true);
    const ts = r.timestamps as typeof r.timestamps & { raisedAt?: number };
    expect(ts.raisedAt).toBeGreaterThan(r.timestamps.idleStart!);
    // Before the break: at risk on the node's conntrack, and still so after the raise.
    expect(
      predictionsAt(t.lines, r.timestamps.actionAt!).get(flow)?.layer ??
        predictionsAt(t.lines, r.timestamps.expiryExpected!).get(flow)?.layer,
      describeRun(t),
    ).toBe('conntrack');
    // After: the expiry, on the client's flow.
    const hit = findingsOf(t.lines).find((f) => f.flows.includes(flow) && /expired/.test(f.rule));
    expect(hit, describeRun(t)).toBeDefined();
  }, 240_000);

  it('keepalive-server-only: the backend keepalive keeps the flow: no prediction, no finding', async () => {
    const t = await traced('keepalive-server-only', { rules: [], healthy: true });
    const r = t.result;
    const flow = clientFlowId(r)!;
    expect(r.matched, describeRun(t)).toBe(true);
    expect(r.notes).toContain('conntrack entry survived the idle period (no DESTROY)');
    // Once one snapshot has seen the backend's keepalive timer (ss, every 2 s), the flow is not at risk.
    expectQuiet(t, flow, 3000);
  }, 240_000);

  it('expired-seen-idle: predicted on conntrack, and attributed by a snapshot before the next send', async () => {
    const t = await traced('expired-seen-idle', { rules: ['conntrack.established-expired'] });
    const r = t.result;
    const flow = clientFlowId(r)!;
    expect(r.matched, describeRun(t)).toBe(true);
    const predicted = t.lines.find(
      (l) => l.type === 'prediction' && (l.prediction as PredictionLite).flow === flow,
    );
    expect((predicted?.prediction as PredictionLite | undefined)?.layer, describeRun(t)).toBe(
      'conntrack',
    );
    expect(predicted!.emittedAt!).toBeLessThan(r.timestamps.expiryExpected!);
    const early = findingsOf(t.lines).find(
      (f) =>
        f.flows.includes(flow) && /expired/.test(f.rule) && f.emittedAt < r.timestamps.actionAt!,
    );
    expect(early, describeRun(t)).toBeDefined();
  }, 240_000);

  it('keepalive-interval-above: the pod netns keepalive interval outlives the timeout: predicted, then attributed', async () => {
    const t = await traced('keepalive-interval-above', {
      rules: ['conntrack.established-expired'],
    });
    const r = t.result;
    const flow = clientFlowId(r)!;
    expect(r.matched, describeRun(t)).toBe(true);
    // The first probe (2 s) is inside the 5 s timeout; the prediction must come from the
    // interval (8 s), which only the pod netns's sysctls give.
    const before = predictionsAt(t.lines, r.timestamps.expiryExpected!).get(flow);
    expect(before?.layer, describeRun(t)).toBe('conntrack');
    const hit = findingsOf(t.lines).find(
      (f) => f.flows.includes(flow) && TIMEOUT_RULES.test(f.rule),
    );
    expect(hit, describeRun(t)).toBeDefined();
  }, 240_000);

  it('keepalive-netns-below: pod keepalive time and interval both under the timeout: no prediction, no finding', async () => {
    const t = await traced('keepalive-netns-below', { rules: [], healthy: true });
    const r = t.result;
    const flow = clientFlowId(r)!;
    expect(r.matched, describeRun(t)).toBe(true);
    // Once one snapshot has seen the pod's keepalive sysctls, the flow is not at risk. trace re-reads
    // a named netns's sysctls every 5 s (live-sources.ts), so the first read after the scenario set
    // them can come 5 s into the idle.
    expectQuiet(t, flow, 6500);
  }, 240_000);

  it('ipv6-conntrack-expiry: an IPv6 Service flow through ip6tables DNAT is predicted, then attributed', async () => {
    const t = await traced('ipv6-conntrack-expiry', { rules: ['conntrack.established-expired'] });
    const r = t.result;
    const flow = clientFlowId(r)!;
    expect(flow).toMatch(/^tcp \[2001:db8:c::10\]:\d+>\[2001:db8:5::10\]:80$/);
    expect(r.matched, describeRun(t)).toBe(true);
    const before = predictionsAt(t.lines, r.timestamps.expiryExpected!).get(flow);
    expect(before?.layer, describeRun(t)).toBe('conntrack');
    const hit = findingsOf(t.lines).find((f) => f.flows.includes(flow) && /expired/.test(f.rule));
    expect(hit, describeRun(t)).toBeDefined();
  }, 240_000);
});

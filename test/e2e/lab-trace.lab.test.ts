// End to end on the real kernel: each lab scenario traced by `kdiag trace`, the finding checked on
// the right flow, and the recording replayed to the same findings.
import { copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFailed } from 'vitest';
import { labSkipReason } from '../helpers/lab-guard.js';
import {
  clientFlowId,
  findingKey as key,
  findingsOf,
  liveAndReplay,
  saveSessionFixture,
  standingFindingsOf,
  traceScenario,
  tracedLab,
} from '../helpers/trace-harness.js';

const reason = labSkipReason('root', 'netns', 'iptables', 'conntrack', 'bpftrace', 'tracefs');

interface Case {
  readonly scenario: string;
  /** Rules that must fire on the client's flow (or, with `global`, anywhere). */
  readonly rules: readonly string[];
  /** Rules that must not fire on that flow. */
  readonly not?: readonly string[];
  readonly global?: boolean;
  readonly healthy?: boolean;
  /** Recordings too large to commit (the table-near-full one lists 262,144 entries per snapshot). */
  readonly noFixture?: boolean;
}

const CASES: readonly Case[] = [
  {
    scenario: 'conntrack-expiry',
    rules: ['conntrack.established-expired'],
    not: ['conntrack.invalid-reset'],
  },
  { scenario: 'expiry-loose0', rules: ['conntrack.expired-blackhole'] },
  {
    scenario: 'server-push-after-expiry',
    rules: ['conntrack.established-expired'],
    not: ['conntrack.invalid-reset'],
  },
  { scenario: 'keepalive-saves', rules: [], healthy: true },
  { scenario: 'out-of-window', rules: ['conntrack.invalid-dropped'] },
  { scenario: 'out-of-window-no-drop', rules: ['conntrack.invalid-reset'] },
  { scenario: 'out-of-window-be-liberal', rules: [], healthy: true },
  { scenario: 'close-wait-expiry', rules: ['conntrack.close-wait-expired'] },
  { scenario: 'middlebox-idle-drop', rules: ['path.idle-reset'] },
  { scenario: 'unacked-clamp', rules: ['conntrack.clamped-unacked'] },
  {
    scenario: 'table-near-full',
    rules: ['conntrack.table-near-full'],
    global: true,
    noFixture: true,
  },
];

const TIMEOUT_RULES = /expired|blackhole|invalid|clamped|idle|close-wait|keepalive|timeout/;

describe.skipIf(reason)('kdiag trace against the lab (real kernel)', () => {
  const env = tracedLab('kdiag-e2e-');

  it.each(CASES)(
    '$scenario',
    async (c) => {
      const record = join(env.dir(), `${c.scenario}.ndjson`);
      const traced = await traceScenario(env.lab(), c.scenario, record);
      const r = traced.result;
      // A live run does not repeat: keep what it recorded, to replay why it failed.
      onTestFailed(async () => {
        const kept = join(tmpdir(), `kdiag-e2e-failed-${c.scenario}-${Date.now()}.ndjson`);
        await copyFile(record, kept).catch(() => undefined);
        process.stderr.write(
          `lab-trace ${c.scenario}: the recording is kept at ${kept}; scenario steps: ${r.summary}\n`,
        );
      });
      if (!c.noFixture) await saveSessionFixture(c.scenario, r, record, c);
      expect(
        r.matched,
        `the scenario itself did not behave as the kernel should: ${r.summary}`,
      ).toBe(true);
      // Stopped by SIGINT: trace stops cleanly and says it was interrupted (130) whatever it
      // found; what it found is what still stands in its output.
      expect(traced.exitCode, traced.stderr).toBe(130);
      if (c.rules.length > 0) expect(standingFindingsOf(traced.lines).length).toBeGreaterThan(0);
      const flow = clientFlowId(r);
      const live = findingsOf(traced.lines);
      const onFlow = live.filter((f) => (flow ? f.flows.includes(flow) : false));

      for (const rule of c.rules) {
        const hit = (c.global ? live : onFlow).find((f) => f.rule === rule);
        expect(
          hit,
          `${rule} on ${flow}; got ${live.map(key).join(' | ') || 'nothing'}`,
        ).toBeDefined();
        // Within 5 s of the moment the application saw the failure (or the packet that caused it).
        const at = r.timestamps.failureObserved ?? r.timestamps.actionAt ?? r.timestamps.end;
        expect(
          hit!.emittedAt - at,
          `${rule} reported ${hit!.emittedAt - at} ms after the failure`,
        ).toBeLessThanOrEqual(5000);
        expect(hit!.cause.length).toBeGreaterThan(20);
      }
      for (const rule of c.not ?? []) expect(onFlow.map((f) => f.rule)).not.toContain(rule);
      // A healthy flow may be at risk while it idles with no keepalive (every finite timer on its
      // path will forget it); once it has closed, trace withdraws those, and none may stand.
      if (c.healthy) {
        const standing = standingFindingsOf(traced.lines).filter((f) =>
          flow ? f.flows.includes(flow) : false,
        );
        expect(standing.filter((f) => TIMEOUT_RULES.test(f.rule)).map(key)).toEqual([]);
      }

      // What live still stands by at the end (updates replacing, withdrawals removing) is what the
      // replay of its own recording finds.
      const both = await liveAndReplay(traced.lines, record);
      expect(both.issueCount).toBe(0);
      expect(both.live).toEqual(both.replay);
    },
    240_000,
  );
});

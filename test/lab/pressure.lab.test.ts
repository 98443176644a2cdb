// Real kernel: conntrack table full (FM-8) and a middlebox idle timeout (FM-11) in kdiag-lab-*.
// Needs root, iproute2, iptables, conntrack-tools and the built agent (npm run build).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labSkipReason } from '../helpers/lab-guard.js';
import {
  assertNoLabLeft,
  findLine,
  requireBuiltAgent,
  runInFreshLab,
} from '../helpers/lab-harness.js';

const reason = labSkipReason('root', 'netns', 'iptables', 'conntrack');
const T = 60_000;

describe.skipIf(reason)('lab: table pressure and middlebox idle drop', () => {
  beforeAll(requireBuiltAgent);
  afterAll(async () => {
    expect(await assertNoLabLeft()).toEqual([]);
  });

  it(
    'table-near-full: table at nf_conntrack_max, new connection times out, existing flow works',
    { timeout: T },
    async (ctx) => {
      const r = await runInFreshLab('table-near-full');
      if (r.outcome.client === 'skipped') ctx.skip(`table fill skipped: ${r.notes.join('; ')}`);
      expect(r.fm).toBe('FM-8');
      // The notes carry the table counts before and after the fill: what a rare pass of the new connection needs explained.
      expect(r.outcome, `${r.summary} | notes: ${r.notes.join('; ')}`).toEqual({
        client: 'ETIMEDOUT',
        server: 'ok',
      });
      expect(
        (r.conntrackStats.after.drop ?? 0) - (r.conntrackStats.before.drop ?? 0),
      ).toBeGreaterThan(0);
      const max = Number(/nf_conntrack_max=(\d+)/.exec(r.notes.join('\n'))?.[1]);
      const after = Number(/node count after fill=(\d+)/.exec(r.notes.join('\n'))?.[1]);
      expect(after).toBe(max);
    },
  );

  it(
    'middlebox-idle-drop: keepalive probes vanish, ETIMEDOUT while the node still holds the entry',
    { timeout: T },
    async () => {
      const r = await runInFreshLab('middlebox-idle-drop');
      expect(r.fm).toBe('FM-11');
      expect(r.outcome.client).toBe('ETIMEDOUT');
      expect(r.notes.join('\n')).toMatch(
        /node conntrack still holds the flow: tcp 6 \d+ ESTABLISHED src=192\.0\.2\.10/,
      );
      expect(
        findLine(
          r.conntrackEvents,
          new RegExp(`\\[DESTROY\\] .* sport=${r.clientTuple!.sport} dport=80 `),
        ),
      ).toBe(-1);
    },
  );
});

// Real kernel: out-of-window INVALID (FM-5) and CLOSE_WAIT expiry (FM-4) in kdiag-lab-* namespaces.
// Needs root, iproute2, iptables, conntrack-tools, python3 and the built agent (npm run build).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDR } from '../../src/lab/topology.js';
import { labSkipReason } from '../helpers/lab-guard.js';
import {
  assertNoLabLeft,
  findLine,
  requireBuiltAgent,
  runInFreshLab,
} from '../helpers/lab-harness.js';

const reason = labSkipReason('root', 'netns', 'iptables', 'conntrack');
const T = 45_000;
const invalidDelta = (r: {
  conntrackStats: { before: Record<string, number>; after: Record<string, number> };
}) => (r.conntrackStats.after.invalid ?? 0) - (r.conntrackStats.before.invalid ?? 0);

describe.skipIf(reason)('lab: window tracking and CLOSE_WAIT', () => {
  beforeAll(requireBuiltAgent);
  afterAll(async () => {
    expect(await assertNoLabLeft()).toEqual([]);
  });

  it(
    'out-of-window with the INVALID DROP rule: packet dropped, both ends keep working',
    { timeout: T },
    async () => {
      const r = await runInFreshLab('out-of-window');
      expect(r.fm).toBe('FM-5');
      expect(r.outcome).toEqual({ client: 'ok', server: 'ok' });
      expect(invalidDelta(r)).toBeGreaterThan(0);
      // iptables-save -c counter of the DROP rule: [packets:bytes], at least the crafted packet.
      const counter = r.notes.find((n) => n.startsWith('rule counter:'));
      expect(counter).toMatch(
        /\[[1-9]\d*:\d+\] -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP/,
      );
    },
  );

  it(
    'out-of-window without the DROP rule: leaks un-NATed, both sides ECONNRESET',
    { timeout: T },
    async () => {
      const r = await runInFreshLab('out-of-window-no-drop');
      expect(r.outcome).toEqual({ client: 'ECONNRESET', server: 'ECONNRESET' });
      expect(invalidDelta(r)).toBeGreaterThan(0);
      expect(
        findLine(
          r.conntrackEvents,
          new RegExp(
            `\\[UPDATE\\] tcp +6 \\d+ CLOSE src=${ADDR.client} .* sport=${r.clientTuple!.sport} `,
          ),
        ),
      ).toBeGreaterThanOrEqual(0);
    },
  );

  it(
    'out-of-window with be_liberal=1: accepted, nothing INVALID, connection survives',
    { timeout: T },
    async () => {
      const r = await runInFreshLab('out-of-window-be-liberal');
      expect(r.outcome).toEqual({ client: 'ok', server: 'ok' });
      expect(invalidDelta(r)).toBe(0);
    },
  );

  it(
    'close-wait-expiry: CLOSE_WAIT entry expires, the late FIN never reaches the backend',
    { timeout: T },
    async () => {
      const r = await runInFreshLab('close-wait-expiry');
      expect(r.fm).toBe('FM-4');
      expect(r.outcome).toEqual({ client: 'fin-lost', server: 'fin-lost' });
      const sport = r.clientTuple!.sport;
      const cw = findLine(
        r.conntrackEvents,
        new RegExp(`\\[UPDATE\\] tcp +6 3 CLOSE_WAIT src=${ADDR.client} .* sport=${sport} `),
      );
      expect(cw).toBeGreaterThanOrEqual(0);
      expect(
        findLine(
          r.conntrackEvents,
          new RegExp(`\\[DESTROY\\] tcp +6 CLOSE_WAIT src=${ADDR.client} .* sport=${sport} `),
          cw,
        ),
      ).toBeGreaterThan(cw);
      expect(r.notes.join('\n')).toMatch(
        /FIN-WAIT-2: .*198\.51\.100\.1[12]:8080 192\.0\.2\.10:\d+/,
      );
      expect(invalidDelta(r)).toBeGreaterThan(0);
    },
  );
});

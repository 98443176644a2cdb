// Real kernel: conntrack expiry scenarios (FM-1, FM-7, FM-12) in kdiag-lab-* namespaces.
// Needs root, iproute2, iptables, conntrack-tools and the built agent (npm run build).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDR } from '../../src/lab/topology.js';
import { labSkipReason } from '../helpers/lab-guard.js';
import {
  assertNoLabLeft,
  esc,
  findLine,
  requireBuiltAgent,
  runInFreshLab,
} from '../helpers/lab-harness.js';

const reason = labSkipReason('root', 'netns', 'iptables', 'conntrack');
const T = 45_000;

describe.skipIf(reason)('lab: conntrack expiry', () => {
  beforeAll(requireBuiltAgent);
  afterAll(async () => {
    expect(await assertNoLabLeft()).toEqual([]);
  });

  it(
    'conntrack-expiry: DESTROY without timeout, pickup re-DNATs to the other backend, client ECONNRESET',
    { timeout: T },
    async () => {
      const r = await runInFreshLab('conntrack-expiry');
      expect(r.fm).toBe('FM-1');
      expect(r.outcome.client).toBe('ECONNRESET');
      expect(r.clientTuple).toMatchObject({ src: ADDR.client, dst: ADDR.vip, dport: 80 });
      expect(r.backendBefore).toMatch(/^198\.51\.100\.1[12]:8080$/);
      expect(r.backendAfter).toMatch(/^198\.51\.100\.1[12]:8080$/);
      expect(r.backendAfter).not.toBe(r.backendBefore);
      const flow = `src=${ADDR.client} dst=${esc(ADDR.vip)} sport=${r.clientTuple!.sport} dport=80`;
      const destroy = findLine(
        r.conntrackEvents,
        new RegExp(`\\[DESTROY\\] tcp +6 ESTABLISHED ${flow} `),
      );
      expect(destroy).toBeGreaterThanOrEqual(0);
      const other = esc(r.backendAfter!.split(':')[0]!);
      const pickup = findLine(
        r.conntrackEvents,
        new RegExp(`\\[NEW\\] tcp +6 \\d+ ESTABLISHED ${flow} \\[UNREPLIED\\] src=${other} `),
        destroy,
      );
      expect(pickup).toBeGreaterThan(destroy);
      expect(r.timestamps.failureObserved).toBeGreaterThanOrEqual(r.timestamps.idleStart!);
      expect(r.matched).toBe(true);
    },
  );

  it(
    'expiry-loose0: the post-expiry packet is INVALID, dropped, and the client times out',
    { timeout: T },
    async () => {
      const r = await runInFreshLab('expiry-loose0');
      expect(r.outcome.client).toBe('ETIMEDOUT');
      const sport = r.clientTuple!.sport;
      const destroy = findLine(
        r.conntrackEvents,
        new RegExp(`\\[DESTROY\\] tcp +6 ESTABLISHED src=${ADDR.client} .* sport=${sport} `),
      );
      expect(destroy).toBeGreaterThanOrEqual(0);
      expect(
        findLine(
          r.conntrackEvents,
          new RegExp(`\\[NEW\\] .* sport=${sport} dport=80 \\[UNREPLIED\\]`),
          destroy,
        ),
      ).toBe(-1);
      expect(
        (r.conntrackStats.after.invalid ?? 0) - (r.conntrackStats.before.invalid ?? 0),
      ).toBeGreaterThan(0);
    },
  );

  it(
    'server-push-after-expiry: the push leaves un-NATed, the client resets it, the backend sees ECONNRESET',
    { timeout: T },
    async () => {
      const r = await runInFreshLab('server-push-after-expiry');
      expect(r.outcome.server).toBe('ECONNRESET');
      expect(r.outcome.client).toBe('ECONNRESET');
      const be = esc(r.backendBefore!.split(':')[0]!);
      // A pickup in the reply direction: original tuple from the backend straight to the client.
      expect(
        findLine(
          r.conntrackEvents,
          new RegExp(
            `\\[NEW\\] tcp +6 \\d+ ESTABLISHED src=${be} dst=${ADDR.client} sport=8080 dport=${r.clientTuple!.sport} \\[UNREPLIED\\]`,
          ),
        ),
      ).toBeGreaterThanOrEqual(0);
      expect(r.notes.join('\n')).toContain('client never received the push');
    },
  );

  it(
    'keepalive-saves: keepalive refreshes the entry, the flow survives the idle period',
    { timeout: T },
    async () => {
      const r = await runInFreshLab('keepalive-saves');
      expect(r.outcome.client).toBe('ok');
      expect(
        findLine(
          r.conntrackEvents,
          new RegExp(`\\[DESTROY\\] .* sport=${r.clientTuple!.sport} dport=80 `),
        ),
      ).toBe(-1);
      expect(r.matched).toBe(true);
    },
  );

  it(
    'unacked-clamp: unacknowledged data expires the entry early, re-DNAT to the other backend, ECONNRESET',
    { timeout: T },
    async () => {
      const r = await runInFreshLab('unacked-clamp');
      expect(r.fm).toBe('FM-7');
      expect(r.outcome.client).toBe('ECONNRESET');
      expect(r.backendAfter).toBeDefined();
      expect(r.backendAfter).not.toBe(r.backendBefore);
      const flow = `src=${ADDR.client} dst=${esc(ADDR.vip)} sport=${r.clientTuple!.sport} dport=80`;
      const destroy = findLine(
        r.conntrackEvents,
        new RegExp(`\\[DESTROY\\] tcp +6 ESTABLISHED ${flow} `),
      );
      expect(destroy).toBeGreaterThanOrEqual(0);
      expect(
        findLine(
          r.conntrackEvents,
          new RegExp(`\\[NEW\\] tcp +6 \\d+ ESTABLISHED ${flow} \\[UNREPLIED\\]`),
          destroy,
        ),
      ).toBeGreaterThan(destroy);
    },
  );
});

// kube-proxy's nftables mode next to its iptables mode on the real kernel: the same idle Service
// connection, its conntrack entry expired (nf_conntrack_tcp_loose=0), then the backend writes.
// iptables mode drops the INVALID segment (black hole, ETIMEDOUT); nftables mode installs no INVALID
// drop, so the client resets it (ECONNRESET). `kdiag check` on the node predicts it before the break
// and counts it after, from `conntrack -S` (no rule counter exists), quoting nft, not iptables-save.
import { afterEach, describe, expect, it } from 'vitest';
import { proxyLabUp, type ProxyLab, type ProxyLabMode } from '../../src/lab/nft-lab.js';
import {
  runExpiryPush,
  setExpiryKnobs,
  type ExpiryPushResult,
} from '../../src/lab/scenarios/nft-expiry-push.js';
import { labSkipReason } from '../helpers/lab-guard.js';
import { requireBuiltAgent } from '../helpers/lab-harness.js';
import { runKdiag } from '../helpers/run-kdiag.js';

const reason = labSkipReason('root', 'netns', 'iptables', 'conntrack', 'nft');
const PREFIX = 'kdiag-nftmode-';
const RULE = 'kube-proxy.nft-invalid-passes';

interface CheckFinding {
  readonly rule: string;
  readonly severity: string;
  readonly cause: string;
  readonly evidence: { readonly text: string }[];
}

async function check(lab: ProxyLab): Promise<CheckFinding[]> {
  const r = await runKdiag(['check', '--netns', lab.ns.node, '--json']);
  expect(r.code === 0 || r.code === 1, r.stderr).toBe(true);
  return (JSON.parse(r.stdout) as { findings: CheckFinding[] }).findings;
}

describe.skipIf(reason)('kube-proxy nftables mode vs iptables mode (real kernel)', () => {
  let lab: ProxyLab | undefined;
  afterEach(async () => {
    await lab?.down();
    lab = undefined;
  });

  const up = async (mode: ProxyLabMode): Promise<ProxyLab> => {
    requireBuiltAgent();
    lab = await proxyLabUp(PREFIX, mode);
    await setExpiryKnobs(lab);
    return lab;
  };

  it('nftables mode: predicted before, then the backend is reset (ECONNRESET) and counted', async () => {
    const l = await up('nftables');
    const beforeFindings = await check(l);
    const predicted = beforeFindings.find((f) => f.rule === RULE);
    expect(predicted?.severity).toBe('warning');
    expect(predicted?.cause).toContain(
      'the next packet of a flow whose entry expired (nf_conntrack_tcp_loose = 0)',
    );
    expect(predicted?.evidence.map((e) => e.text)).toContain(
      'nft list ruleset: no rule drops ct state invalid',
    );
    expect(JSON.stringify(predicted)).not.toContain('iptables-save:');
    expect(beforeFindings.map((f) => f.rule)).not.toContain('conntrack.invalid-drop-rule-missing');

    const r: ExpiryPushResult = await runExpiryPush(l);
    expect(r.server, r.steps.join('; ')).toBe('ECONNRESET');
    expect(r.clientGotPush).toBe(false);
    expect(r.invalid.after).toBeGreaterThan(r.invalid.before);

    const after = (await check(l)).find((f) => f.rule === RULE);
    // Closing the agents afterwards sends more INVALID segments (FINs of the expired flow): at least.
    const counted = /conntrack -S invalid is (\d+) since/.exec(after?.cause ?? '');
    expect(Number(counted?.[1])).toBeGreaterThanOrEqual(r.invalid.after);
  }, 90_000);

  it('iptables mode: the INVALID drop black-holes the same write (ETIMEDOUT), no nft finding', async () => {
    const l = await up('iptables');
    expect((await check(l)).map((f) => f.rule)).not.toContain(RULE);
    const r = await runExpiryPush(l);
    expect(r.server, r.steps.join('; ')).toBe('ETIMEDOUT');
    expect(r.clientGotPush).toBe(false);
    expect(r.invalid.after).toBeGreaterThan(r.invalid.before);
  }, 90_000);
});

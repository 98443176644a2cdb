// `kdiag apply SUGGESTION_ID`: the suggestion comes from a (stubbed) fresh diagnosis; the change is
// real, inside a throwaway namespace named by the suggestion.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readJournal } from '../../src/apply/journal.js';
import { UsageError } from '../../src/errors.js';
import type { Diagnosis, Suggestion } from '../../src/model/diagnosis.js';
import { labSkipReason } from '../helpers/lab-guard.js';
import { cliRunner } from '../helpers/cli-runner.js';

const ns = `kdiag-apply-${randomBytes(3).toString('hex')}`;
const KEEPALIVE = 'net.ipv4.tcp_keepalive_time';
const finding = {
  id: 'fm3.keepalive-late:tcp 10.0.0.1:4000>10.96.0.10:80',
  rule: 'keepalive.later-than-timeout',
  fm: 'FM-3',
  severity: 'critical' as const,
  confidence: 'certain' as const,
  title: 'Keepalive starts after conntrack forgets the flow',
  cause: 'Keepalive waits 7200 s but conntrack forgets idle flows after 3600 s.',
  flows: [],
  evidence: [],
  suggestions: ['pod-keepalive-time'],
  t: 0,
};
const base = {
  rank: 2,
  title: 'Send keepalives before the flow is forgotten',
  rationale: 'r',
  fixes: [finding.id],
  warnings: ['Applies to new sockets only.'],
};
const suggestions: Suggestion[] = [
  {
    ...base,
    id: 'pod-keepalive-time',
    scope: 'pod',
    commands: [],
    change: { kind: 'sysctl', key: KEEPALIVE, value: '600', netns: ns },
  },
  {
    ...base,
    id: 'app-keepalive',
    scope: 'socket',
    commands: [{ label: 'Go', text: 'net.Dialer{KeepAlive: 60 * time.Second}' }],
  },
  {
    ...base,
    id: 'kube-proxy-conntrack',
    scope: 'kube-proxy',
    commands: [
      { label: 'KubeProxyConfiguration', text: 'conntrack:\n  tcpEstablishedTimeout: 24h0m0s' },
    ],
  },
];
const diagnoseForApply = vi.fn(async (_opts: { netns?: string }): Promise<Diagnosis> => ({
  at: 0,
  findings: [finding],
  predictions: [],
  flows: [],
  suggestions,
}));

const reason = labSkipReason('root', 'netns');

describe.skipIf(reason)('kdiag apply SUGGESTION_ID', () => {
  let dir = '';
  const nsRead = (key: string) =>
    execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-n', key]).toString().trim();
  const runner = cliRunner({ diagnose: diagnoseForApply });
  const cli = runner.run;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kdiag-apply-sugg-'));
    execFileSync('ip', ['netns', 'add', ns]);
  });
  afterAll(() => {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
    expect(execFileSync('ip', ['netns', 'list']).toString()).not.toContain(ns);
  });

  it('shows key, where, old → new and the finding it fixes; applies into the netns the suggestion names', async () => {
    const jdir = join(dir, 'j1');
    await cli('apply', 'pod-keepalive-time', '--journal-dir', jdir, '--dry-run');
    expect(runner.printed).toMatch(
      new RegExp(
        `Change +${KEEPALIVE}\\nWhere +netns ${ns}\\nIdentity +[0-9]+:[0-9]+ \\(dev:inode of the network namespace\\)\\nValue +7200 → 600\\n`,
      ),
    );
    expect(runner.printed).toContain(`Fixes    ${finding.id}`);
    expect(runner.printed).toContain('Keepalive starts after conntrack forgets the flow');
    expect(runner.printed).toMatch(/Why +Keepalive waits 7200 s/);
    expect(runner.printed).toContain('Warning: Applies to new sockets only.');
    expect(nsRead(KEEPALIVE)).toBe('7200');
    expect(diagnoseForApply).toHaveBeenLastCalledWith({});

    await cli('apply', 'pod-keepalive-time', '--journal-dir', jdir, '--yes');
    expect(nsRead(KEEPALIVE)).toBe('600');
    const [e] = (await readJournal(jdir)).entries;
    expect(e!.why).toEqual({
      via: 'suggestion',
      suggestion: 'pod-keepalive-time',
      findings: [finding.id],
      cause: finding.cause,
    });
    await cli('revert', '1', '--journal-dir', jdir);
    expect(nsRead(KEEPALIVE)).toBe('7200');
  });

  it('unknown ids list the ids there are; changes kdiag cannot make say what to do instead', async () => {
    const err = await cli('apply', 'nope', '--journal-dir', join(dir, 'j2'), '--yes').catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).hint).toBe(
      'kdiag can apply: pod-keepalive-time; others: app-keepalive, kube-proxy-conntrack',
    );
    await expect(cli('apply', 'app-keepalive', '--yes')).rejects.toThrow(
      /not a change kdiag can make/,
    );
    await expect(cli('apply', 'kube-proxy-conntrack', '--yes')).rejects.toThrow(
      /kdiag never edits the cluster/,
    );
    await expect(cli('apply', 'pod-keepalive-time', '--netns', 'other', '--yes')).rejects.toThrow(
      /is for netns kdiag-apply-/,
    );
  });

  it('--persist on a kube-proxy suggestion writes the patch to the current directory and prints kubectl', async () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      await cli('apply', 'kube-proxy-conntrack', '--persist');
    } finally {
      process.chdir(cwd);
    }
    const path = join(dir, 'kdiag-kube-proxy-conntrack.yaml');
    expect(existsSync(path)).toBe(true);
    expect(readFileSync(path, 'utf8')).toContain('tcpEstablishedTimeout: 24h0m0s');
    expect(runner.printed).toContain(`Wrote ${path}`);
    expect(runner.printed).toMatch(/kubectl -n kube-system edit configmap kube-proxy/);
  });
});

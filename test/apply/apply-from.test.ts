// `kdiag apply ID --from FILE`: the suggestion a bundle's diagnosis printed goes through the one
// apply path; a dry run plans it on this node (no root needed) and unknown ids, missing namespaces
// and a "raise" that would lower this node's value are refused.
import { describe, expect, it } from 'vitest';
import { directionRefusal, suggestionIn } from '../../src/apply/apply-from.js';
import { diagnose } from '../../src/engine/diagnose.js';
import { UsageError } from '../../src/errors.js';
import { tableOf } from '../helpers/builders.js';
import { runKdiag } from '../helpers/run-kdiag.js';

const BUDGET = 'fixtures/bundles/budget-sysctl-only';
const POD = 'fixtures/bundles/ipvs-idle-900';
const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

describe('kdiag apply --from', () => {
  it('plans a suggestion of the bundle on this node in a dry run, with the namespace identity', async () => {
    const r = await runKdiag(['apply', 'node-keepalive-time', '--from', BUDGET, '--dry-run']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Change {3}net\.ipv4\.tcp_keepalive_time$/m);
    expect(r.stdout).toMatch(/^Where {4}node$/m);
    expect(r.stdout).toMatch(/^Identity [0-9]+:[0-9]+ \(dev:inode of the network namespace\)$/m);
    expect(r.stdout).toContain('Lower the host netns tcp_keepalive_time to 300 s');
    expect(r.stdout).toMatch(/Dry run: nothing changed\.|Nothing to change/);
  });

  it.skipIf(!asRoot)('needs no root for a dry run', async () => {
    const r = await runKdiag(['apply', 'node-keepalive-time', '--from', BUDGET, '--dry-run'], {
      asNobody: true,
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^Change {3}net\.ipv4\.tcp_keepalive_time$/m);
  });

  it('refuses an unknown id in one line that lists the ids the file has, exit 2', async () => {
    const r = await runKdiag(['apply', 'nope', '--from', BUDGET, '--dry-run']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      `kdiag: no suggestion "nope" in ${BUDGET}; it has: app-keepalive, node-conntrack-established, node-keepalive-time, kube-proxy-conntrack-established`,
    ]);
  });

  it('refuses a pod suggestion whose namespace does not exist here', async () => {
    const r = await runKdiag(['apply', 'pod-keepalive-time', '--from', POD, '--dry-run']);
    expect(r.code).toBe(2);
    expect(r.stdout).not.toContain('Change');
    expect(r.stderr).toContain(
      'no network namespace named pod_shop_billing-worker-7f4b9c6d8-q8wzt',
    );
  });

  it('refuses --change with --from, and a file that cannot be read', async () => {
    const a = await runKdiag(['apply', '--change', 'sysctl:a=1', '--from', BUDGET, '--dry-run']);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('--from FILE takes a SUGGESTION_ID');
    const b = await runKdiag(['apply', 'x', '--from', '/nonexistent/kdiag-bundle', '--dry-run']);
    expect(b.code).toBe(2);
    expect(b.stderr.split('\n')[0]).toMatch(/^kdiag: .*\/nonexistent\/kdiag-bundle/);
  });

  it('shows --from with an example in --help', async () => {
    const r = await runKdiag(['apply', '--help']);
    expect(r.stdout).toContain('--from <FILE>');
    expect(r.stdout).toContain(
      'kdiag apply node-conntrack-established --from capture.tar.gz --dry-run',
    );
  });
});

describe('apply-from', () => {
  it('finds a suggestion by id, else names what the file has', () => {
    const d = diagnose(tableOf([]));
    expect(() => suggestionIn(d, 'x', 'f.tar.gz')).toThrow(UsageError);
    expect(() => suggestionIn(d, 'x', 'f.tar.gz')).toThrow(
      'no suggestion "x" in f.tar.gz: its diagnosis has no suggestions',
    );
  });
  it('refuses a recorded raise that would lower the value this node holds', () => {
    const s = { id: 'node-conntrack-established', title: "Raise conntrack's ESTABLISHED timeout" };
    expect(directionRefusal(s, { kind: 'sysctl', old: '432000', new: '8100' })).toContain(
      'would lower the value here (432000 → 8100)',
    );
    expect(directionRefusal(s, { kind: 'sysctl', old: '600', new: '8100' })).toBeUndefined();
    const l = { id: 'node-keepalive-time', title: 'Lower the host netns tcp_keepalive_time' };
    expect(directionRefusal(l, { kind: 'sysctl', old: '60', new: '300' })).toContain('raise');
  });
});

// kdiag merge over a folder of per-node bundles made from the fixture bundles: findings grouped
// across nodes, the node whose timeout differs, flows at risk per Service, the fix for the most.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runMerge } from '../../src/services/merge.js';
import { runKdiag } from '../helpers/run-kdiag.js';

const FIXTURES = new URL('../../fixtures/bundles/', import.meta.url).pathname;

/** A copy of a fixture bundle as node NAME (its manifest's hostname rewritten). */
function nodeBundle(
  dir: string,
  fixture: string,
  name: string,
  edit?: (f: string, t: string) => string,
): void {
  const to = join(dir, name);
  cpSync(join(FIXTURES, fixture), to, { recursive: true });
  const m = join(to, 'kdiag-collect.json');
  const manifest = JSON.parse(readFileSync(m, 'utf8')) as Record<string, unknown>;
  writeFileSync(m, JSON.stringify({ ...manifest, hostname: name }));
  if (edit)
    for (const f of ['sysctl.txt'])
      writeFileSync(join(to, f), edit(f, readFileSync(join(to, f), 'utf8')));
}

let cluster: string;
beforeAll(() => {
  cluster = mkdtempSync(join(tmpdir(), 'kdiag-merge-'));
  // Four nodes alike (conntrack forgets idle flows to one Service before keepalive), one of them
  // with conntrack established lowered to 600 s, and one healthy node.
  for (const n of ['node-a', 'node-b', 'node-c']) nodeBundle(cluster, 'suspicious-300', n);
  nodeBundle(cluster, 'suspicious-300', 'node-d', (_f, t) =>
    t.replace(/^(net\.netfilter\.nf_conntrack_tcp_timeout_established) = \d+$/m, '$1 = 600'),
  );
  nodeBundle(cluster, 'healthy-iptables', 'node-e');
});

describe('kdiag merge', () => {
  it('groups the same finding across nodes and names the node that differs', async () => {
    const { report } = await runMerge([cluster], {});
    expect(report.nodes.map((n) => [n.node, n.problem])).toEqual([
      ['node-a', undefined],
      ['node-b', undefined],
      ['node-c', undefined],
      ['node-d', undefined],
      ['node-e', undefined],
    ]);
    expect(report.nodesWithFindings).toBe(4);
    const suspicious = report.groups.find((g) => g.rule === 'conntrack.suspicious-300s')!;
    expect(suspicious.nodes).toEqual(['node-a', 'node-b', 'node-c', 'node-d']);
    const est = report.settings.find((s) => s.key === 'conntrack established')!;
    expect(est.majority).toBe('86400');
    expect(est.majorityNodes).toEqual(['node-a', 'node-b', 'node-c', 'node-e']);
    expect(est.outliers).toEqual([{ node: 'node-d', value: '600' }]);
    const svc = report.services.find((s) => s.service === '10.96.140.2:9092')!;
    expect(svc.nodes.map((n) => n.node)).toEqual(['node-a', 'node-b', 'node-c', 'node-d']);
    expect(svc.nodes.every((n) => n.flows.length > 0)).toBe(true);
    expect(report.bestFix?.nodes).toHaveLength(4);
    expect(report.redacted).toBe(false);
  });

  it('text and --json through the CLI; exit 1 when a node has findings, 0 when none', async () => {
    const text = await runKdiag(['merge', cluster]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('kdiag merge: 5 node(s), 5 read, 4 with findings');
    expect(text.stdout).toMatch(/4 of 5 nodes: WARNING FM-6 Conntrack lowered an established flow/);
    expect(text.stdout).toContain('conntrack established: 86400 on 4 nodes; 600 on 1 (node-d)');
    expect(
      text.stdout
        .split('\n')
        .filter((l) => !l.startsWith('      '))
        .every((l) => l.length <= 80),
    ).toBe(true);
    const json = await runKdiag([
      'merge',
      join(cluster, 'node-a'),
      join(cluster, 'node-e'),
      '--json',
    ]);
    expect(json.code).toBe(1);
    const r = JSON.parse(json.stdout);
    expect(r.nodes.map((n: { node: string }) => n.node)).toEqual(['node-a', 'node-e']);
    const healthy = await runKdiag(['merge', join(cluster, 'node-e')]);
    expect(healthy.code).toBe(0);
    expect(healthy.stdout).toContain('Findings across nodes (0)');
  });

  it('an unreadable bundle is named, not skipped; nothing readable is exit 2', async () => {
    const bad = mkdtempSync(join(tmpdir(), 'kdiag-merge-bad-'));
    writeFileSync(join(bad, 'node-x.tar.gz'), 'not an archive');
    const r = await runKdiag(['merge', bad]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('node-x: NOT READ:');
    expect(r.stderr).toContain('kdiag: node-x not read:');
  });
});

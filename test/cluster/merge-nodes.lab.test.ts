// The cluster report over real bundles: `kdiag collect --netns` on three network namespaces that
// stand in for nodes (one with a conntrack ESTABLISHED timeout of 600 s, the others at the kernel's
// default), then `kdiag merge` over the folder. Needs root, netns and conntrack-tools.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labSkipReason } from '../helpers/lab-guard.js';
import { runKdiag } from '../helpers/run-kdiag.js';

const reason = labSkipReason('root', 'netns', 'conntrack');
const NODES = ['kdiag-clu-a', 'kdiag-clu-b', 'kdiag-clu-c'] as const;
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });

/** Removes the stand-in nodes, whichever exist (a run killed midway leaves some). */
function removeNodes(): void {
  for (const n of NODES) {
    try {
      ip('netns', 'del', n);
    } catch {
      // not there
    }
  }
}

interface ClusterJson {
  readonly nodes: readonly { node: string; path: string; findings: number }[];
  readonly groups: readonly { rule: string; nodes: readonly string[] }[];
  readonly settings: readonly {
    key: string;
    majority: string;
    majorityNodes: readonly string[];
    outliers: readonly { node: string; value: string }[];
  }[];
  readonly bestFix?: { id: string; nodes: readonly string[] };
}

describe.skipIf(reason)('kdiag merge over bundles collected from several lab nodes', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kdiag-clu-'));
    removeNodes();
  }, 60_000);
  afterAll(async () => {
    removeNodes();
    await rm(dir, { recursive: true, force: true });
  });

  it('names the node that differs, groups its finding, and exits 1', async () => {
    for (const n of NODES) {
      ip('netns', 'add', n);
      ip('-n', n, 'link', 'set', 'lo', 'up');
    }
    execFileSync('ip', [
      'netns',
      'exec',
      'kdiag-clu-c',
      'sysctl',
      '-q',
      '-w',
      'net.netfilter.nf_conntrack_tcp_timeout_established=600',
    ]);
    for (const n of NODES) {
      const r = await runKdiag(['collect', '--netns', n, '--out', join(dir, n)]);
      expect(r.code, r.stderr).toBe(0);
    }
    const r = await runKdiag(['merge', dir, '--json']);
    expect(r.code, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout) as ClusterJson;
    expect(report.nodes).toHaveLength(3);
    const odd = report.nodes.find((x) => x.path.endsWith('kdiag-clu-c'))!;
    expect(odd.findings).toBeGreaterThan(0);
    for (const x of report.nodes.filter((y) => y !== odd)) expect(x.findings).toBe(0);
    const ct = report.settings.find((s) => s.key === 'conntrack established');
    expect(ct?.outliers).toEqual([{ node: odd.node, value: '600' }]);
    expect(ct?.majorityNodes).toHaveLength(2);
    const budget = report.groups.find((g) => g.rule === 'node.timeout-budget');
    expect(budget?.nodes).toEqual([odd.node]);
    expect(report.bestFix?.nodes).toEqual([odd.node]);
    const text = await runKdiag(['merge', dir]);
    expect(text.stdout).toMatch(/conntrack established: \d+ on 2 nodes; 600 on 1 \(/);
  }, 120_000);
});

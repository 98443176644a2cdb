// deploy/: the PrometheusRule carries exactly the rule groups promtool checks, every metric the
// alerts and the dashboard name exists (kdiag's catalogue, or kube-proxy's families), and promtool
// accepts the groups when it is installed.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { METRICS } from '../../src/metrics/catalog.js';

const read = (f: string): string =>
  readFileSync(new URL(`../../deploy/${f}`, import.meta.url), 'utf8');
const KNOWN = new Set<string>(Object.values(METRICS).map((m) => m.name));

function names(expr: string): string[] {
  return [...expr.matchAll(/\b(kdiag_[a-z_]+|kubeproxy_[a-z_]+)/g)].map((m) => m[1]!);
}

function known(name: string): boolean {
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return (
    KNOWN.has(name) ||
    KNOWN.has(base) ||
    /^kdiag_(process|nodejs)_/.test(name) ||
    /^kubeproxy_(sync_proxy_rules|iptables_ct_state)/.test(name)
  );
}

describe('deploy/', () => {
  it('wraps the same groups in the PrometheusRule', () => {
    const groups = parse(read('prometheus-rules.yaml')).groups;
    const cr = parse(read('prometheus-rule.yaml'));
    expect(cr.kind).toBe('PrometheusRule');
    expect(cr.spec.groups).toEqual(groups);
    expect(groups[0].rules.map((r: { alert: string }) => r.alert)).toEqual(
      expect.arrayContaining([
        'KdiagFlowsAtRisk',
        'KdiagInvalidDropsRising',
        'KdiagConntrackTimeoutDrift',
      ]),
    );
  });

  it('names only metrics that exist, in the alerts and the dashboard', () => {
    const exprs = [
      ...parse(read('prometheus-rules.yaml')).groups.flatMap((g: { rules: { expr: string }[] }) =>
        g.rules.map((r) => r.expr),
      ),
      ...JSON.parse(read('grafana-dashboard.json')).panels.flatMap(
        (p: { targets: { expr: string }[] }) => p.targets.map((t) => t.expr),
      ),
    ];
    const used = exprs.flatMap(names);
    expect(used.length).toBeGreaterThan(10);
    expect(used.filter((n) => !known(n))).toEqual([]);
  });

  it.skipIf(!hasPromtool())('passes promtool check rules', () => {
    const out = execFileSync(
      'promtool',
      ['check', 'rules', new URL('../../deploy/prometheus-rules.yaml', import.meta.url).pathname],
      { encoding: 'utf8' },
    );
    expect(out).toMatch(/SUCCESS: 5 rules found/);
  });
});

function hasPromtool(): boolean {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

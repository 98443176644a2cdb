// kdiag merge's text report: nodes, findings grouped across nodes, timeouts that differ from the
// majority, flows at risk per Service, and the one change that fixes the most. 80 columns.
import type { ClusterReport } from '../../cluster/cluster-report.js';
import { printable } from '../../model/printable.js';
import { wrap } from './text-layout.js';

const W = 80;

function list(names: readonly string[], max = 6): string {
  return names.length <= max
    ? names.join(', ')
    : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

/** The cluster report as text (untrusted names stripped of control characters). */
export function renderClusterReport(r: ClusterReport): string {
  const out: string[] = [];
  const total = r.nodes.length;
  const read = r.nodes.filter((n) => n.problem === undefined).length;
  out.push(`kdiag merge: ${total} node(s), ${read} read, ${r.nodesWithFindings} with findings`);
  if (r.redacted)
    out.push(
      ...wrap(
        'Redacted: addresses and names in the bundles are stand-ins (kdiag collect --redact); flows and Services still join.',
        W,
      ),
    );
  out.push('', 'Nodes');
  for (const n of r.nodes)
    out.push(
      ...wrap(
        n.problem === undefined
          ? `${n.node}: ${n.findings} findings, ${n.atRisk} flows at risk${n.redacted ? ' (redacted)' : ''}`
          : `${n.node}: NOT READ: ${n.problem}`,
        W,
        4,
        2,
      ),
    );

  out.push('', `Findings across nodes (${r.groups.length})`);
  if (r.groups.length === 0) out.push('  none');
  for (const g of r.groups) {
    out.push(
      ...wrap(
        `${g.nodes.length} of ${read} nodes: ${g.severity.toUpperCase()} ${g.fm} ${g.title} (${g.rule})`,
        W,
        4,
        2,
      ),
    );
    out.push(...wrap(`e.g. ${g.example.node}: ${g.example.cause}`, W, 6, 4));
    out.push(...wrap(`nodes: ${list(g.nodes)}`, W, 6, 4));
  }

  out.push('', 'Timeouts that differ from the majority');
  if (r.settings.length === 0) out.push('  none: every node read has the same values');
  for (const s of r.settings) {
    const byValue = new Map<string, string[]>();
    for (const o of s.outliers) byValue.set(o.value, [...(byValue.get(o.value) ?? []), o.node]);
    const others = [...byValue.entries()]
      .map(([v, ns]) => `${v} on ${ns.length} (${list(ns, 4)})`)
      .join('; ');
    out.push(
      ...wrap(`${s.key}: ${s.majority} on ${s.majorityNodes.length} nodes; ${others}`, W, 4, 2),
    );
  }

  out.push('', 'Flows at risk per Service');
  if (r.services.length === 0) out.push('  none');
  for (const s of r.services) {
    const flows = s.nodes.reduce((a, n) => a + n.flows.length, 0);
    out.push(
      ...wrap(`${s.service}: ${flows} flows on ${s.nodes.length} of ${read} nodes`, W, 4, 2),
    );
    for (const n of s.nodes) {
      const layers = [...new Set(n.flows.map((f) => f.firstToForget))].join(', ');
      out.push(...wrap(`${n.node}: ${n.flows.length} (first to forget: ${layers})`, W, 6, 4));
    }
  }

  out.push('', 'The change that fixes the most');
  if (r.bestFix === undefined) out.push('  none suggested');
  else {
    const b = r.bestFix;
    out.push(
      ...wrap(
        `${b.title} [${b.id}]: fixes ${b.findings} findings on ${b.nodes.length} of ${read} nodes (${list(b.nodes)})`,
        W,
        4,
        2,
      ),
    );
    if (b.variesByNode)
      out.push(
        ...wrap(`values differ per node: see each node's kdiag check; for ${b.nodes[0]}:`, W, 4, 4),
      );
    for (const c of b.commands.slice(0, 3)) {
      out.push(...wrap(`${c.label}:`, W, 4, 4));
      for (const line of c.text.split('\n')) out.push(`      ${line}`);
    }
  }
  return `${out.map((l) => printable(l)).join('\n')}\n`;
}

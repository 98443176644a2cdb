// kdiag merge DIR…: one report over many nodes' bundles (kubectl kdiag collect --all-nodes).
import type { Command } from 'commander';
import { addAnalysisOptions, analysisOptionsFrom, type AnalysisFlags } from './analysis-options.js';

interface MergeFlags extends AnalysisFlags {
  json?: boolean;
}

/** Registers `kdiag merge`. */
export function registerMerge(program: Command): void {
  const cmd = program
    .command('merge')
    .argument(
      '<inputs...>',
      "a folder of nodes' bundles (or recordings), or the bundles themselves",
    )
    .description(
      'one report over many nodes: findings grouped across nodes, timeouts that differ\nfrom the majority, flows at risk per Service, the change that fixes the most',
    )
    .option('--json', 'print the cluster report as JSON');
  addAnalysisOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Examples:
  kubectl kdiag collect --all-nodes -o ./bundles && kdiag merge ./bundles
  kdiag merge node-a.tar.gz node-b.tar.gz --json

Exit status: 0 no node has findings, 1 some node has, 2 nothing could be read.`,
  );
  cmd.action(async (inputs: string[], flags: MergeFlags) => {
    const analysis = await analysisOptionsFrom(flags);
    const { runMerge } = await import('../../services/merge.js');
    const quiet = flags.json || !process.stderr.isTTY;
    const { report } = await runMerge(
      inputs,
      analysis,
      quiet ? undefined : (l) => process.stderr.write(`${l}\n`),
    );
    if (flags.json) {
      const { printableDeep } = await import('../../model/printable.js');
      process.stdout.write(`${JSON.stringify(printableDeep(report), null, 2)}\n`);
    } else {
      const { renderClusterReport } = await import('../output/cluster-report-text.js');
      process.stdout.write(renderClusterReport(report));
    }
    const unread = report.nodes.filter((n) => n.problem !== undefined);
    for (const n of unread) process.stderr.write(`kdiag: ${n.node} not read: ${n.problem}\n`);
    if (unread.length === report.nodes.length) process.exitCode = 2;
    else process.exitCode = report.nodesWithFindings > 0 ? 1 : 0;
  });
}

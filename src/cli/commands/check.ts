// kdiag check: snapshot diagnosis of the live host or a bundle.
import type { Command } from 'commander';
import { addAnalysisOptions, analysisOptionsFrom, type AnalysisFlags } from './analysis-options.js';

interface CheckFlags extends AnalysisFlags {
  json?: boolean;
  netns?: string;
  kubeProxyConfig?: string;
  allFlows?: boolean;
}

export function registerCheck(program: Command): void {
  const cmd = program
    .command('check')
    .argument(
      '[bundle]',
      'a bundle folder or archive (.tar.gz/.tgz/.zip), a recording, or a pasted ticket (a text file of command outputs); default: this host, now',
    )
    .description(
      'diagnose this node (or a bundle) from one snapshot: timeouts per layer, drift, flows at risk',
    )
    .option('--json', 'print the analysis as JSON')
    .option('--all-flows', 'with --json: include every flow, not only those at risk')
    .option(
      '--netns <name>',
      'read conntrack, iptables and sysctls inside this named network namespace',
    )
    .option(
      '--kube-proxy-config <file>',
      "kube-proxy's KubeProxyConfiguration, when kdiag cannot find it",
    );
  addAnalysisOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Examples:
  sudo kdiag check                          # this node, now
  sudo kdiag check --cloud aws-nlb          # flows crossing an AWS NLB (350 s idle)
  kdiag check ./kdiag-bundle-node-a-20261123T0500Z --json
  kdiag check bundle.tar.gz                 # an archived bundle, read in memory
  kdiag check ticket.txt                    # command outputs pasted into one text file

Exit status: 0 nothing found, 1 findings, 2 could not run or nothing could be read.`,
  );
  cmd.action(async (bundle: string | undefined, flags: CheckFlags) => {
    const analysis = await analysisOptionsFrom(flags);
    const { runCheck } = await import('../../services/check.js');
    const quiet = flags.json || !process.stderr.isTTY;
    const result = await runCheck({
      ...analysis,
      ...(bundle ? { input: bundle } : {}),
      ...(flags.netns ? { netns: flags.netns } : {}),
      ...(flags.kubeProxyConfig ? { kubeProxyConfig: flags.kubeProxyConfig } : {}),
      ...(quiet ? {} : { onProgress: (l: string) => process.stderr.write(`${l}\n`) }),
    } as Parameters<typeof runCheck>[0]);
    if (flags.json) {
      const { analysisToJson } = await import('../output/report-json.js');
      process.stdout.write(
        `${JSON.stringify(analysisToJson(result, { allFlows: Boolean(flags.allFlows) }), null, 2)}\n`,
      );
    } else {
      const { renderAnalysis } = await import('../output/report-text.js');
      process.stdout.write(
        renderAnalysis(result, {
          title: bundle ? `kdiag check ${bundle}` : 'kdiag check (this host)',
        }),
      );
    }
    if (result.nothingRead) {
      // Unreadable must never look like healthy: no findings because nothing was read is exit 2.
      const { nothingReadLines } = await import('../output/report-inputs.js');
      process.stderr.write(`${nothingReadLines(result).join('\n')}\n`);
      process.exitCode = 2;
      return;
    }
    process.exitCode = result.diagnosis.findings.length > 0 ? 1 : 0;
  });
}

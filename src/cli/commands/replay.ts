// kdiag replay: analyse a recording or bundle again, offline and deterministically.
import type { Command } from 'commander';
import {
  addAnalysisOptions,
  analysisOptionsFrom,
  parseOffsetSec,
  type AnalysisFlags,
} from './analysis-options.js';

interface ReplayFlags extends AnalysisFlags {
  json?: boolean;
  allFlows?: boolean;
  ui?: boolean;
  at?: string;
}

export function registerReplay(program: Command): void {
  const cmd = program
    .command('replay')
    .argument(
      '<input>',
      'a recording (kdiag trace --record, .ndjson or .ndjson.gz), a bundle folder or archive (.tar.gz/.tgz/.zip), or a pasted ticket (text)',
    )
    .description('analyse a recording or a bundle of command outputs again, offline')
    .option('--json', 'print the analysis as JSON')
    .option('--all-flows', 'with --json: include every flow, not only those at risk')
    .option('--ui', 'open the interactive terminal UI on it')
    .option(
      '--at <offset>',
      'with --ui: start at this offset into the recording (e.g. 90s; -30s from the end)',
    );
  addAnalysisOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Examples:
  kdiag replay fixtures/sessions/conntrack-expiry/recording.ndjson
  kdiag replay ./bundle-from-customer --path-idle-timeout 350s
  kdiag replay session.ndjson.gz --json | jq '.findings[].cause'

A bundle is a folder of plain command outputs, one file each: conntrack-L.txt,
conntrack-S.txt, conntrack-E.txt, nf_conntrack.txt, ipvsadm-Ln.txt,
ipvsadm-Lnc.txt, ipvsadm-timeout.txt, sysctl.txt, ss.txt, kube-proxy.yaml,
kube-proxy.args, iptables-save.txt (any subset; see README), as a folder
or as one .tar.gz/.tgz/.zip archive. Any other text file is read as a pasted
ticket: the command outputs in it are found by their shape, prose is ignored.

Exit status: 0 nothing found, 1 findings, 2 could not read the input (or nothing in it),
130 interrupted (Ctrl-C; --ui: q answers 0 or 1).`,
  );
  cmd.action(async (input: string, flags: ReplayFlags) => {
    const opts = await analysisOptionsFrom(flags);
    if (flags.ui) {
      const { requireTerminal } = await import('../tui/require-terminal.js');
      requireTerminal(`kdiag replay ${input}`);
      const { runReplayUi } = await import('../tui/replay-ui.js');
      process.exitCode = await runReplayUi(
        input,
        opts,
        flags.at === undefined ? undefined : await parseOffsetSec(flags.at),
      );
      return;
    }
    const { analyzeInput } = await import('../../services/analyze-input.js');
    const progress = !flags.json && process.stderr.isTTY;
    const result = await analyzeInput(input, {
      ...opts,
      ...(progress
        ? { onProgress: (n: number) => process.stderr.write(`\r${n} records read…`) }
        : {}),
    } as Parameters<typeof analyzeInput>[1]);
    if (progress) process.stderr.write('\r\x1b[K');
    if (flags.json) {
      const { analysisToJson } = await import('../output/report-json.js');
      process.stdout.write(
        `${JSON.stringify(analysisToJson(result, { allFlows: Boolean(flags.allFlows) }), null, 2)}\n`,
      );
    } else {
      const { renderAnalysis } = await import('../output/report-text.js');
      process.stdout.write(renderAnalysis(result, { title: `kdiag replay ${input}` }));
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

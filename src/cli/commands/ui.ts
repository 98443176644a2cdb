// kdiag ui (and kdiag with no command): the interactive terminal UI, live or on a recording.
import { Option, type Command } from 'commander';
import {
  addAnalysisOptions,
  analysisOptionsFrom,
  parseIntervalMs,
  parseOffsetSec,
  type AnalysisFlags,
} from './analysis-options.js';

interface UiFlags extends AnalysisFlags {
  replay?: string;
  at?: string;
  netns?: string;
  record?: string;
  interval?: string;
  kubeProxyConfig?: string;
}

/** Opens the TUI and sets the exit status from how it ended. */
async function runUi(flags: UiFlags): Promise<void> {
  process.exitCode = await uiExitCode(flags);
}

async function uiExitCode(flags: UiFlags): Promise<number> {
  const { requireTerminal } = await import('../tui/require-terminal.js');
  requireTerminal(flags.replay ? `kdiag replay ${flags.replay}` : 'kdiag trace');
  const analysis = await analysisOptionsFrom(flags);
  if (flags.replay) {
    const { runReplayUi } = await import('../tui/replay-ui.js');
    return runReplayUi(
      flags.replay,
      analysis,
      flags.at === undefined ? undefined : await parseOffsetSec(flags.at),
    );
  }
  const { runLiveUi } = await import('../tui/live-ui.js');
  return runLiveUi({
    analysis,
    intervalMs: await parseIntervalMs(flags.interval ?? '2s'),
    ...(flags.netns ? { netns: flags.netns } : {}),
    ...(flags.record ? { record: flags.record } : {}),
    ...(flags.kubeProxyConfig ? { kubeProxyConfig: flags.kubeProxyConfig } : {}),
  });
}

function uiOptions(cmd: Command): Command {
  cmd
    .option('--replay <input>', 'open a recording or bundle instead of the live host')
    .option('--at <offset>', 'with --replay: start at this offset (e.g. 90s; -30s from the end)')
    .option(
      '--netns <name>',
      'read conntrack, iptables and sysctls inside this named network namespace; the probes keep only its events and those of the named namespaces wired to it over veths (see kdiag trace --help)',
    )
    .option('--record <file>', 'record the live session to FILE for kdiag replay')
    .addOption(
      new Option(
        '--interval <duration>',
        "how often conntrack, ss and IPVS are read (at most; a slow read is spaced out to stay under a fifth of the time, and pods' namespaces are read in turn, 5 a second)",
      ).default('2s'),
    )
    .option(
      '--kube-proxy-config <file>',
      "kube-proxy's KubeProxyConfiguration, when kdiag cannot find it",
    );
  return addAnalysisOptions(cmd);
}

export function registerUi(program: Command): void {
  const cmd = uiOptions(
    program
      .command('ui')
      .description('the interactive terminal UI (live; or --replay FILE); ? lists the keys'),
  );
  cmd.addHelpText(
    'after',
    `
Examples:
  sudo kdiag                       # same as: sudo kdiag ui
  kdiag ui --replay fixtures/sessions/conntrack-expiry/recording.ndjson
  kdiag replay incident.ndjson --ui

Keys: ? lists them; q quits. Exit status: q answers 0 nothing found or 1 findings;
Ctrl-C (or SIGINT) 130 and SIGTERM 143, after stopping every probe and tool;
2 could not run or usage error.`,
  );
  cmd.action(runUi);
  // `kdiag` alone opens the live UI; anything else left over is a mistyped command.
  program.allowExcessArguments(true).action(async (_opts: unknown, cmd: Command) => {
    if (cmd.args.length > 0) {
      const { UsageError } = await import('../../errors.js');
      throw new UsageError(`unknown command '${cmd.args[0]}'`, 'kdiag --help lists the commands');
    }
    await runUi({});
  });
  program
    .command('ui-gallery', { hidden: true })
    .option('--columns <n>', 'width', '100')
    .action(async (flags: { columns: string }) => {
      const { renderGallery } = await import('../../ui/gallery.js');
      process.stdout.write(`${renderGallery(Number(flags.columns) || 100)}\n`);
    });
}

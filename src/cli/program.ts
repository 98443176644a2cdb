// The command tree. No side effects at import: each command's work is imported when it runs,
// so `kdiag --help` and `--json` commands never load ink or React.
import { Command } from 'commander';
import { KDIAG_VERSION } from '../version.js';
// Commands register themselves here, one line each, in the order --help lists them.
import { registerTrace } from './commands/trace.js';
import { registerCheck } from './commands/check.js';
import { registerReplay } from './commands/replay.js';
import { registerUi } from './commands/ui.js';
import { registerCollect } from './commands/collect.js';
import { registerApply } from './commands/apply.js';
import { registerDoctor } from './commands/doctor.js';
import { registerLab } from './commands/lab.js';
import { registerCluster } from './commands/cluster.js';
import { registerMerge } from './commands/merge.js';

export function createProgram(): Command {
  const program = new Command('kdiag')
    .description(
      'Find which timeout kills long-lived TCP connections through kube-proxy\n' +
        '(conntrack, IPVS, socket keepalive, cloud NAT/LB), prove it, and fix it.\n' +
        'With no command: the interactive terminal UI on this host (needs root).',
    )
    .version(KDIAG_VERSION, '-V, --version')
    .showHelpAfterError('  hint: run with --help for usage')
    // commander's own messages ("error: unknown option") read like every other kdiag error.
    .configureOutput({ outputError: (str, write) => write(str.replace(/^error: /, 'kdiag: ')) })
    .configureHelp({ sortSubcommands: false, helpWidth: 80 })
    // Subcommands copy these settings when they are created, so they must come before the
    // register calls: set later, a mistyped flag on `kdiag check` exits 1 (commander's own code).
    .exitOverride();

  registerTrace(program);
  registerCheck(program);
  registerReplay(program);
  registerUi(program);
  registerCollect(program);
  registerApply(program);
  registerDoctor(program);
  registerLab(program);
  registerCluster(program);
  registerMerge(program);

  program.addHelpText(
    'after',
    `
Start with:
  sudo kdiag doctor            what this host can trace
  sudo kdiag trace             live drops and resets with their cause
  kdiag replay FILE|BUNDLE     analyse a recording or a bundle offline

Exit status: 0 nothing found, 1 findings, 2 could not run or usage error,\n130 interrupted by Ctrl-C, 143 by SIGTERM (trace and the TUI stop cleanly first).`,
  );
  return program;
}

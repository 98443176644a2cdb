// The command tree. No side effects at import: each command's work is imported when it runs,
// so `kdiag --help` and `--json` commands never load ink or React.
import { Command } from 'commander';
import { KDIAG_VERSION } from '../version.js';
// Commands register themselves here, one line each.
import { registerCheck } from './commands/check.js';
import { registerTrace } from './commands/trace.js';
import { registerReplay } from './commands/replay.js';
import { registerDoctor } from './commands/doctor.js';
import { registerLab } from './commands/lab.js';
import { registerApply } from './commands/apply.js';
import { registerCollect } from './commands/collect.js';

export function createProgram(): Command {
  const program = new Command('kdiag')
    .description(
      'Find which timeout kills long-lived TCP connections through kube-proxy\n' +
        '(conntrack, IPVS, socket keepalive, cloud NAT/LB), prove it, and fix it.',
    )
    .version(KDIAG_VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ sortSubcommands: false, helpWidth: 80 });

  registerTrace(program);
  registerCheck(program);
  registerReplay(program);
  registerDoctor(program);
  registerLab(program);
  registerApply(program);
  registerCollect(program);

  return program;
}

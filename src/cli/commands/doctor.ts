// kdiag doctor: checks this host for what kdiag needs and says what each missing piece disables.
import type { Command } from 'commander';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check root, bpftrace, tracefs, BTF, tracepoints, conntrack, IPVS, kube-proxy')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      '\nExit status: 0 ready, 1 degraded (some features off), 2 cannot trace.\n\nExample:\n  sudo kdiag doctor --json | jq .probes',
    )
    .action(async (opts: { json?: boolean }) => {
      const { detectHostCapabilities } = await import('../../sources/host-capabilities.js');
      const { diagnoseHost, formatDoctorText } = await import('../../services/doctor.js');
      const report = diagnoseHost(await detectHostCapabilities());
      process.stdout.write(
        opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctorText(report),
      );
      process.exitCode = report.exitCode;
    });
}

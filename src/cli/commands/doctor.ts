// kdiag doctor: checks this host for what kdiag needs and says what each missing piece disables.
import type { Command } from 'commander';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      'check root, bpftrace (attach proofs), tracefs, BTF, tracepoints, conntrack, nft, IPVS, kube-proxy and the data plane',
    )
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      '\nEach capability reported present is proven: bpftrace attaches a tracepoint, a kprobe and\n' +
        'a kfunc and exits, conntrack -E listens for a moment, nft and ipvsadm list; a failure is\n' +
        "given in the tool's own words. The proofs run in parallel, each with a deadline.\n" +
        '\nExit status: 0 ready, 1 degraded (some features off), 2 cannot trace.\n\nExample:\n  sudo kdiag doctor --json | jq .probes',
    )
    .action(async (opts: { json?: boolean }) => {
      const { detectHostCapabilities } = await import('../../sources/host-capabilities.js');
      const { diagnoseHost, formatDoctorText } = await import('../../services/doctor.js');
      const tty = process.stderr.isTTY === true && opts.json !== true;
      const host = await detectHostCapabilities(
        tty
          ? {
              onProof: (r, done, total) =>
                process.stderr.write(
                  `\r\x1b[KProofs run: ${done}/${total} (${r.id} ${r.ok === undefined ? 'not tried' : r.ok ? 'yes' : 'no'})`,
                ),
            }
          : {},
      );
      if (tty) process.stderr.write('\r\x1b[K');
      const { readVantageWarning } = await import('../../host/vantage.js');
      const report = diagnoseHost(host, await readVantageWarning());
      process.stdout.write(
        opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctorText(report),
      );
      process.exitCode = report.exitCode;
    });
}

// kdiag lab: build a kube-proxy-like node in network namespaces and drive failure scenarios.
import type { Command } from 'commander';

const out = (s: string): void => void process.stdout.write(`${s}\n`);

/** Registers `kdiag lab up|down|list|run`. */
export function registerLab(program: Command): void {
  const lab = program
    .command('lab')
    .description(
      'network-namespace lab: a kube-proxy-like node (kdiag-lab-node) with scenarios that break real TCP flows',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  kdiag lab up --drop-invalid\n  kdiag trace --netns kdiag-lab-node      (second terminal)\n  kdiag lab run conntrack-expiry\n  kdiag lab down',
    );

  lab
    .command('up')
    .description('Create the lab namespaces and kube-proxy rules (removes leftovers first)')
    .option('--drop-invalid', "install kube-proxy's KUBE-FORWARD INVALID DROP rule", false)
    .action(async (opts: { dropInvalid: boolean }) => {
      const { labUp, NS } = await import('../../lab/lab.js');
      await labUp({ dropInvalid: opts.dropInvalid, onStep: (s) => out(s.message) });
      out(`Lab up. Watch it with: kdiag trace --netns ${NS.node}`);
    });

  lab
    .command('down')
    .description('Remove every kdiag-lab-* namespace and the processes inside')
    .action(async () => {
      const { checkLabEnvironment, labDown } = await import('../../lab/lab.js');
      await checkLabEnvironment();
      const n = await labDown((s) => out(s.message));
      if (n === 0) out('No lab namespaces found');
    });

  lab
    .command('list')
    .description('List the scenarios')
    .action(async () => {
      const { listScenarios } = await import('../../lab/scenarios.js');
      const rows = listScenarios();
      const w = Math.max(...rows.map((r) => r.id.length));
      for (const r of rows) out(`${r.id.padEnd(w)}  ${r.fm.padEnd(5)}  ${r.title}`);
    });

  lab
    .command('run')
    .description('Run one scenario; uses the lab that is up, or builds one and removes it after')
    .argument('<scenario>', 'scenario id (see kdiag lab list)')
    .option('--keep', 'leave the namespaces up afterwards', false)
    .option(
      '--delay <seconds>',
      'wait this long after setup before traffic starts (to attach a tracer)',
      '0',
    )
    .option('--json', 'print the result as JSON', false)
    .action(async (scenario: string, opts: { keep: boolean; delay: string; json: boolean }) => {
      const { UsageError } = await import('../../errors.js');
      const { attachLab, checkLabEnvironment, labUp } = await import('../../lab/lab.js');
      const { SCENARIOS, runScenario } = await import('../../lab/scenarios.js');
      if (!SCENARIOS.some((s) => s.id === scenario)) {
        throw new UsageError(`unknown scenario: ${scenario}`, 'run kdiag lab list to see them');
      }
      const delay = Number(opts.delay);
      if (!Number.isFinite(delay) || delay < 0 || delay > 600)
        throw new UsageError(`bad --delay: ${opts.delay}`, 'give seconds between 0 and 600');
      await checkLabEnvironment();
      const t0 = Date.now();
      const onStep = opts.json
        ? undefined
        : (s: { t: number; message: string }) =>
            out(`[${((s.t - t0) / 1000).toFixed(1).padStart(5)}s] ${s.message}`);
      const existing = await attachLab(onStep);
      const lab = existing ?? (await labUp(onStep ? { onStep } : {}));
      if (existing) onStep?.({ t: Date.now(), message: 'Existing lab reused' });
      try {
        const r = await runScenario(scenario, {
          lab,
          ...(onStep ? { onStep } : {}),
          onReady: async () => {
            if (delay > 0) {
              onStep?.({ t: Date.now(), message: `Waiting ${delay} s before traffic (--delay)` });
              await new Promise((res) => setTimeout(res, delay * 1000));
            }
          },
        });
        if (opts.json) {
          out(JSON.stringify(r, null, 2));
        } else {
          for (const n of r.notes) out(`  note: ${n}`);
          const ev = r.conntrackEvents.filter((l) => /DESTROY|NEW/.test(l)).slice(-6);
          if (ev.length > 0) out(`  conntrack events (${lab.ns.node}):`);
          for (const l of ev) out(`    ${l.replace(/\t/g, ' ')}`);
          out(`Result: ${r.summary}`);
        }
        if (!r.matched) process.exitCode = 1;
      } finally {
        if (existing || opts.keep)
          onStep?.({ t: Date.now(), message: 'Lab left up (kdiag lab down removes it)' });
        else await lab.down();
      }
    });
}

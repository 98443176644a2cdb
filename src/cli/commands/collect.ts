// kdiag collect: flags → services/collect.ts; progress on stderr, the summary (or the manifest as JSON)
// on stdout; exit 0 when the bundle is whole, 2 when files failed or nothing could be written.
import type { Command } from 'commander';

interface CollectFlags {
  out?: string;
  netns?: string;
  kubeProxyConfig?: string;
  json?: boolean;
  tar?: boolean;
  redact?: boolean;
  redactKey?: string;
}

/** Registers `kdiag collect`. */
export function registerCollect(program: Command): void {
  program
    .command('collect')
    .description(
      'write a bundle folder of read-only command outputs from this node\n(conntrack, IPVS, sysctls, sockets, iptables, kube-proxy config)',
    )
    .option('--out <dir>', 'bundle folder (default ./kdiag-bundle-<host>-<UTC time>)')
    .option('--netns <name>', 'run the netfilter and socket commands in this named netns')
    .option('--kube-proxy-config <file>', "kube-proxy's config file, when it cannot be found")
    .option('--json', 'print the manifest as JSON on stdout')
    .option(
      '--tar',
      'write the bundle as one <folder>.tar.gz instead of a folder (kdiag check reads it as is)',
    )
    .option(
      '--redact',
      'replace addresses and names with stand-ins, the same one everywhere (the mapping is not kept)',
    )
    .option('--redact-key <hex>', 'with --redact: bundles made with one key share stand-ins')
    .addHelpText(
      'after',
      '\nExamples:\n  sudo kdiag collect\n  sudo kdiag collect --tar --out /tmp/node1   # writes /tmp/node1.tar.gz\n  sudo kdiag collect --out /tmp/node1 --netns kdiag-lab-client --json',
    )
    .action(async (flags: CollectFlags) => {
      const { collectBundle } = await import('../../services/collect.js');
      const result = await collectBundle({
        ...(flags.out === undefined ? {} : { out: flags.out }),
        ...(flags.netns === undefined ? {} : { netns: flags.netns }),
        ...(flags.kubeProxyConfig === undefined ? {} : { kubeProxyConfig: flags.kubeProxyConfig }),
        ...(flags.tar ? { tar: true } : {}),
        ...(flags.redact ? { redact: true } : {}),
        ...(flags.redactKey === undefined ? {} : { redactKey: flags.redactKey }),
        onProgress: (line) => process.stderr.write(`${line}\n`),
      });
      const { manifest } = result;
      if (flags.json) {
        process.stdout.write(
          `${JSON.stringify({ dir: result.dir, ...(result.archive === undefined ? {} : { archive: result.archive }), ...manifest }, null, 2)}\n`,
        );
      } else {
        process.stdout.write(`Bundle written to ${result.archive ?? result.dir}\n`);
        process.stdout.write(
          `  ${result.written} files; ${manifest.missing.length} not collected${manifest.missing.length > 0 ? ' (see kdiag-collect.json)' : ''}\n`,
        );
      }
      const { collectOutcome } = await import('../output/collect-outcome.js');
      const outcome = collectOutcome(result);
      if (outcome.message !== undefined) process.stderr.write(`${outcome.message}\n`);
      process.exitCode = outcome.exitCode;
    });
}

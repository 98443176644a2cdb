// kdiag cluster manifest: prints the DaemonSet (and its Namespace) for continuous tracing on every
// node, recordings kept on the host; `| kubectl apply -f -` installs it.
import { Option, type Command } from 'commander';

interface ManifestFlags {
  image: string;
  namespace: string;
  hostDir: string;
  segment: string;
  keepDays: string;
  pullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
}

/** Registers `kdiag cluster` and its `manifest` subcommand. */
export function registerCluster(program: Command): void {
  const cluster = program
    .command('cluster')
    .description('cluster-wide kdiag: the tracing DaemonSet (kubectl kdiag runs on single nodes)');
  cluster
    .command('manifest')
    .description('print a Namespace and a DaemonSet that trace every node, recordings on the host')
    .option('--image <image>', 'the kdiag image the nodes can pull', 'localhost/kdiag:0.1.0')
    .option('--namespace <ns>', 'namespace to create and run in', 'kdiag')
    .option('--host-dir <dir>', 'node folder for the recordings', '/var/lib/kdiag/recordings')
    .option('--segment <duration>', 'length of one recording (kdiag trace --duration)', '1h')
    .option('--keep-days <n>', 'recordings older than this are removed', '7')
    .addOption(
      new Option('--pull-policy <policy>', 'imagePullPolicy').choices([
        'Always',
        'IfNotPresent',
        'Never',
      ]),
    )
    .addHelpText(
      'after',
      '\nExamples:\n  kdiag cluster manifest --image REGISTRY/kdiag:0.1.0 | kubectl apply -f -\n  kdiag cluster manifest > deploy/daemonset/kdiag.yaml',
    )
    .action(async (flags: ManifestFlags) => {
      const { daemonSetYaml } = await import('../output/cluster-manifest.js');
      process.stdout.write(daemonSetYaml(flags));
    });
}

// kdiag trace: live drops and resets with their cause, and the flows that will break next.
import { Option, type Command } from 'commander';
import { UsageError } from '../../errors.js';
import {
  addAnalysisOptions,
  analysisOptionsFrom,
  parseDurationSec,
  parseIntervalMs,
  type AnalysisFlags,
} from './analysis-options.js';

interface TraceFlags extends AnalysisFlags {
  json?: boolean;
  duration?: string;
  record?: string;
  netns?: string;
  probeNetns?: string[];
  port?: string[];
  addr?: string[];
  pod?: string[];
  probes?: string;
  interval?: string;
  kubeProxyConfig?: string;
  metrics?: string;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function registerTrace(program: Command): void {
  const cmd = program
    .command('trace')
    .description(
      'trace drops and resets live, attribute each to its cause, and predict the next breaks',
    )
    .option('--json', 'print NDJSON: one object per event, finding, prediction and status')
    .option('--duration <duration>', 'stop after this long (e.g. 30s, 10m); default: until Ctrl-C')
    .option(
      '--record <file>',
      'record every raw record to FILE (.ndjson, or .ndjson.gz) for kdiag replay',
    )
    .option(
      '--netns <name>',
      'read conntrack, iptables and sysctls inside this named network namespace; the probes keep only its events and those of the named namespaces wired to it over veths',
    )
    .option(
      '--probe-netns <name>',
      'the probes keep only events of this named network namespace (repeatable; replaces the set --netns finds)',
      collect,
    )
    .option('--port <port>', 'show only flows with this port (repeatable)', collect)
    .option('--addr <address>', 'show only flows with this address (repeatable)', collect)
    .option(
      '--pod <ns/name>',
      'show only flows owned by this pod, or ns/ for a namespace (repeatable)',
      collect,
    )
    .addOption(
      new Option('--probes <list>', 'bpftrace probes: default, all, none, or a comma list').default(
        'default',
      ),
    )
    .addOption(
      new Option(
        '--interval <duration>',
        "how often conntrack, ss and IPVS are read (at most; a slow read is spaced out to stay under a fifth of the time, and pods' namespaces are read in turn, 5 a second)",
      ).default('2s'),
    )
    .option(
      '--kube-proxy-config <file>',
      "kube-proxy's KubeProxyConfiguration, when kdiag cannot find it",
    )
    .option(
      '--metrics <addr>',
      'serve Prometheus metrics at http://ADDR/metrics while tracing: PORT (127.0.0.1) or IP:PORT (docs/metrics.md)',
    );
  addAnalysisOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Examples:
  sudo kdiag trace                                  # until Ctrl-C
  sudo kdiag trace --duration 10m --record incident.ndjson
  sudo kdiag trace --json --port 5432 | jq 'select(.type=="finding")'
  sudo kdiag trace --netns kdiag-lab-node           # watch a kdiag lab run

Probes (probes/README.md): trace_skb_drop, trace_tcp_reset, trace_tcp_retrans and
trace_tcp_state run by default; top_flow_activity (per-flow idle time measured in
the kernel) samples every segment and costs throughput: add it with --probes all.
Ctrl-C stops the probes, leaves a complete recording and prints the summary.

Network namespaces: with --netns NODE the probes filter in the kernel to NODE and
every named namespace (under /run/netns) reachable from it over veth pairs, never
through the host's own namespace; trace says which at the start. Namespaces with
no name, or created after the start, are not traced; past 64 namespaces it does
not filter. --probe-netns NAME (repeatable) chooses the namespaces instead.

Exit status: 0 nothing found, 1 findings, 2 could not run or usage error,
130 stopped by Ctrl-C (SIGINT), 143 stopped by SIGTERM.`,
  );
  cmd.action(async (flags: TraceFlags) => {
    const analysis = await analysisOptionsFrom(flags);
    const durationSec =
      flags.duration === undefined
        ? undefined
        : await parseDurationSec(flags.duration, '--duration');
    const intervalMs = await parseIntervalMs(flags.interval ?? '2s');
    const ports = (flags.port ?? []).map((p) => {
      const n = Number(p);
      if (!Number.isInteger(n) || n < 0 || n > 65535)
        throw new UsageError(`--port must be 0-65535 (got "${p}")`);
      return n;
    });
    const metrics =
      flags.metrics === undefined
        ? undefined
        : (await import('../../metrics/listen-address.js')).parseListenAddress(flags.metrics);
    const { runTraceCommand } = await import('../../services/trace-command.js');
    const { tracePresenter } = await import('../output/trace-output.js');
    const progress = (s: string): void => void process.stderr.write(`${s}\n`);
    process.exitCode = await runTraceCommand({
      present: tracePresenter(Boolean(flags.json), (s) => void process.stdout.write(s), progress),
      progress,
      ...(durationSec === undefined ? {} : { durationMs: durationSec * 1000 }),
      intervalMs,
      ...(flags.record ? { record: flags.record } : {}),
      ...(flags.netns ? { netns: flags.netns } : {}),
      ...(flags.probeNetns ? { probeNetns: flags.probeNetns } : {}),
      ...(flags.kubeProxyConfig ? { kubeProxyConfig: flags.kubeProxyConfig } : {}),
      ...(metrics ? { metrics } : {}),
      probes: flags.probes ?? 'default',
      filter: { ports, addrs: flags.addr ?? [], pods: flags.pod ?? [] },
      analysis,
    });
  });
}

// Options shared by the commands that diagnose (replay, check, trace): path idle timeout and cloud preset.
import { Command, CommanderError, Option } from 'commander';
import { UsageError } from '../../errors.js';
import { printableExcerpt } from '../../model/printable.js';

// Node's timers hold at most 2^31-1 ms; a longer --duration would fire at once.
const MAX_DURATION_MS = 2 ** 31 - 1;

/**
 * Parses a duration like `350s`, `6m`, `1h30m`, `400ms` (a bare number is seconds) into seconds,
 * kept to the millisecond: rounding to whole seconds turned `--interval 400ms` into 0.
 */
export async function parseDurationSec(
  text: string,
  what: string,
  opts: { minMs?: number } = {},
): Promise<number> {
  const { default: parse } = await import('parse-duration');
  const t = text.trim();
  const v = /^\d+$/.test(t) ? Number(t) : t.length > 40 ? null : parse(t, 's');
  const shown = t.length > 40 ? `${t.slice(0, 40)}…` : t;
  if (v === null || v === undefined || !Number.isFinite(v) || v <= 0)
    throw new UsageError(
      `${what} must be a positive duration such as 350s, 6m or 1h (got "${printableExcerpt(shown)}")`,
    );
  const ms = Math.round(v * 1000);
  const minMs = opts.minMs ?? 1;
  if (ms < minMs)
    throw new UsageError(`${what} must be at least ${minMs} ms (got "${printableExcerpt(shown)}")`);
  if (ms > MAX_DURATION_MS)
    throw new UsageError(`${what} must be at most 24 days (got "${printableExcerpt(shown)}")`);
  return ms / 1000;
}

// Reading conntrack, ss and IPVS more often than this costs more than the reads show.
const MIN_INTERVAL_MS = 100;

/** Parses `--interval` into milliseconds, refusing anything under 100 ms. */
export async function parseIntervalMs(text: string): Promise<number> {
  return Math.round(
    (await parseDurationSec(text, '--interval', { minMs: MIN_INTERVAL_MS })) * 1000,
  );
}

/** Parses an offset into a recording: `90s`, `2m`, or `-30s` counted back from the end. */
export async function parseOffsetSec(text: string): Promise<number> {
  const t = text.trim();
  const neg = t.startsWith('-');
  const body = neg ? t.slice(1) : t;
  if (/^0+(s|ms|m)?$/.test(body)) return 0;
  const v = await parseDurationSec(body, '--at');
  return neg ? -v : v;
}

export function addAnalysisOptions(cmd: Command): Command {
  return cmd
    .addHelpText('after', CLOUD_HELP)
    .addOption(
      new Option(
        '--path-idle-timeout <duration>',
        'idle timeout of a NAT/LB/firewall on the path (e.g. 350s)',
      ),
    )
    .addOption(
      new Option(
        '--cloud <preset>',
        'a provider or proxy idle timer on the flows that cross it: PRESET[:TIMEOUT][@SCOPE], ' +
          'SCOPE one of egress, ingress, all, dst=CIDR[,CIDR], svc=NS/NAME; repeatable ' +
          '(--cloud list shows the presets)',
      ).argParser(collect),
    );
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Help text for the commands that take --cloud: what the scope means, with an example. */
export const CLOUD_HELP =
  '\n--cloud applies an element only to the flows that cross it: a NAT (aws-nat,\n' +
  'gcp-nat…) to egress leaving the private ranges, a load balancer (aws-nlb,\n' +
  'azure-lb…) to flows arriving from outside or at a NodePort. @egress, @ingress,\n' +
  '@all, @dst=CIDR or @svc=NS/NAME say otherwise; :TIMEOUT overrides the default.\n' +
  '  kdiag check bundle/ --cloud aws-nat --cloud aws-nlb:600s@svc=shop/web';

export interface AnalysisFlags {
  pathIdleTimeout?: string;
  cloud?: string | string[];
}

/** Turns the flags into analysis options, validating each --cloud value (PRESET[:TIMEOUT][@SCOPE]). */
export async function analysisOptionsFrom(
  flags: AnalysisFlags,
): Promise<{ pathIdleTimeoutSec?: number; cloud?: string[] }> {
  const out: { pathIdleTimeoutSec?: number; cloud?: string[] } = {};
  if (flags.pathIdleTimeout !== undefined)
    out.pathIdleTimeoutSec = await parseDurationSec(flags.pathIdleTimeout, '--path-idle-timeout');
  if (flags.cloud !== undefined) {
    const values = typeof flags.cloud === 'string' ? [flags.cloud] : flags.cloud;
    if (values.includes('list')) {
      const { formatCloudPresetTable } = await import('../output/cloud-presets-text.js');
      // Asked for, so it is the answer: stdout and exit 0, like --help.
      process.stdout.write(formatCloudPresetTable());
      throw new CommanderError(0, 'kdiag.cloudList', '');
    }
    const { parseCloudSpec } = await import('../../model/cloud-scope.js');
    const specs: string[] = [];
    for (const v of values) {
      const r = parseCloudSpec(v);
      if (!r.ok) throw new UsageError(`--cloud "${printableExcerpt(v.slice(0, 60))}" ${r.error}`);
      specs.push(r.value.text);
    }
    out.cloud = specs;
  }
  return out;
}

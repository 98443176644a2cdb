// Options shared by the commands that diagnose (replay, check, trace): path idle timeout and cloud preset.
import { Command, Option } from 'commander';
import { UsageError } from '../../errors.js';
import type { CloudPreset } from '../../model/cloud-presets.js';

/** Parses a duration like `350s`, `6m`, `1h30m` (a bare number is seconds) into whole seconds. */
export async function parseDurationSec(text: string, what: string): Promise<number> {
  const { default: parse } = await import('parse-duration');
  const v = /^\d+$/.test(text.trim()) ? Number(text.trim()) : parse(text.trim(), 's');
  if (v === null || v === undefined || !Number.isFinite(v) || v <= 0) throw new UsageError(`${what} must be a positive duration such as 350s, 6m or 1h (got "${text}")`);
  return Math.round(v);
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
    .addOption(new Option('--path-idle-timeout <duration>', 'idle timeout of a NAT/LB/firewall on the path (e.g. 350s)'))
    .addOption(new Option('--cloud <preset>', 'a provider idle timeout on the path (see --cloud list)'));
}

export interface AnalysisFlags {
  pathIdleTimeout?: string;
  cloud?: string;
}

/** Turns the flags into analysis options, validating the cloud preset against the analysis table. */
export async function analysisOptionsFrom(flags: AnalysisFlags): Promise<{ pathIdleTimeoutSec?: number; cloud?: CloudPreset }> {
  const out: { pathIdleTimeoutSec?: number; cloud?: CloudPreset } = {};
  if (flags.pathIdleTimeout !== undefined) out.pathIdleTimeoutSec = await parseDurationSec(flags.pathIdleTimeout, '--path-idle-timeout');
  if (flags.cloud !== undefined) {
    const { CLOUD_PRESETS } = await import('../../model/cloud-presets.js');
    const names = Object.keys(CLOUD_PRESETS);
    if (flags.cloud === 'list') {
      throw new UsageError(`cloud presets: ${names.map((n) => `${n} (${CLOUD_PRESETS[n as keyof typeof CLOUD_PRESETS].timeoutSec}s)`).join(', ')}`);
    }
    if (!names.includes(flags.cloud)) throw new UsageError(`unknown --cloud preset "${flags.cloud}"; one of: ${names.join(', ')}`);
    out.cloud = flags.cloud as CloudPreset;
  }
  return out;
}

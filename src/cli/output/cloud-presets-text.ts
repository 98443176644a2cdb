// `--cloud list`: every preset with its idle timeout, what it does at expiry, the flows it applies
// to by default and the provider document it comes from (addresses in docs/cloud-layers.md).
import {
  CLOUD_PRESET_ALIASES,
  CLOUD_PRESETS,
  cloudPresetNames,
  type CloudReach,
} from '../../model/cloud-presets.js';
import { wrap } from './text-layout.js';

const REACH: Record<CloudReach, string> = {
  all: 'all',
  external: 'egress',
  ingress: 'ingress',
};

/** The preset table, one row per preset and an indented line with its label and source. */
export function formatCloudPresetTable(): string {
  const rows = cloudPresetNames().map((n) => {
    const p = CLOUD_PRESETS[n];
    return [
      n,
      p.timeoutSec === null ? 'given' : `${p.timeoutSec}s`,
      p.behaviour,
      REACH[p.reach],
      p.keepaliveRefreshes ? 'yes' : 'no',
    ];
  });
  const head = ['PRESET', 'TIMEOUT', 'AT EXPIRY', 'FLOWS', 'KEEPALIVE'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(head)];
  cloudPresetNames().forEach((n, i) => {
    const p = CLOUD_PRESETS[n];
    out.push(line(rows[i]!));
    out.push(...wrap(`${p.label}; source: ${p.docTitle}`, 78, 4));
  });
  out.push('');
  out.push(
    ...wrap(
      `KEEPALIVE: whether TCP keepalive probes re-arm it. Aliases: ${Object.entries(
        CLOUD_PRESET_ALIASES,
      )
        .map(([a, n]) => `${a}=${n}`)
        .join(', ')}. Sources with addresses: docs/cloud-layers.md.`,
      78,
      0,
    ),
  );
  return `${out.join('\n')}\n`;
}

// The Cilium agent's CT timeout options, from any of: `kubectl -n kube-system get cm cilium-config
// -o yaml` (keys under `data:`), a plain `key=value` / `key: value` dump (`cilium-dbg config -a`
// prints `key:value`), or the agent's command line (`--bpf-ct-timeout-regular-tcp=8000s`, one
// argument a line or on one line). Only the CT timeout and GC interval keys are read.
import {
  CILIUM_CT_TIMEOUT_KEYS,
  type CiliumCtSettings,
  type CiliumCtTimeoutKey,
  type CiliumSetting,
} from '../model/cilium.js';
import { clip, type ParseIssue, type ParseResult } from './result.js';

const KEYS: ReadonlySet<string> = new Set([
  ...CILIUM_CT_TIMEOUT_KEYS,
  'conntrack-gc-interval',
  'conntrack-gc-max-interval',
]);

const UNIT_NS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/**
 * A Go duration (time.ParseDuration: `8000s`, `2h13m20s`, `1.5h`, `0`) in seconds. The agent reads
 * these options with viper's GetDuration (spf13/cast ToDurationE), which takes a string without a
 * unit as nanoseconds: `bareNs` reports that case.
 */
export function parseGoDuration(s: string): { sec: number; bareNs?: boolean } | undefined {
  const t = s.trim();
  if (t.length === 0 || t.length > 40) return undefined;
  if (/^\d+$/.test(t)) return { sec: Number(t) / 1e9, bareNs: Number(t) !== 0 };
  if (t === '0') return { sec: 0 };
  let rest = t.startsWith('+') ? t.slice(1) : t;
  if (rest.startsWith('-')) return undefined;
  let ns = 0;
  let parts = 0;
  while (rest.length > 0) {
    const m = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/.exec(rest);
    if (!m) return undefined;
    ns += Number(m[1]) * UNIT_NS[m[2]!]!;
    rest = rest.slice(m[0].length);
    parts++;
  }
  return parts > 0 && Number.isFinite(ns) ? { sec: ns / 1e9 } : undefined;
}

function unquote(v: string): string {
  const t = v.trim();
  if (t.length >= 2 && ((t[0] === '"' && t.endsWith('"')) || (t[0] === "'" && t.endsWith("'"))))
    return t.slice(1, -1);
  return t;
}

/** Reads the CT timeout options out of a ConfigMap, a key/value dump or agent flags. */
export function parseCiliumConfig(
  text: string,
  from = 'cilium-config',
): ParseResult<CiliumCtSettings> {
  const issues: ParseIssue[] = [];
  const timeouts: Partial<Record<CiliumCtTimeoutKey, CiliumSetting>> = {};
  let gcIntervalSec: CiliumSetting | undefined;
  let gcMaxIntervalSec: CiliumSetting | undefined;
  let flagsSeen = false;
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n]!.replace(/\r$/, '');
    if (raw.length > 4000) continue;
    // Flags may share a line (`cilium-agent --config-dir=… --bpf-ct-timeout-regular-tcp=1h`).
    const words = raw.includes('--') ? raw.trim().split(/\s+/) : [raw];
    for (let w = 0; w < words.length; w++) {
      let item = words[w]!.trim();
      // YAML list items of a DaemonSet's args (`- --bpf-ct-…=…`).
      if (item.startsWith('- ')) item = item.slice(2).trim();
      const flag = item.startsWith('--');
      if (flag) item = item.slice(2);
      const m = /^([a-z0-9-]{3,64})(?:\s*[:=]\s*|$)(.*)$/.exec(item);
      if (!m || !KEYS.has(m[1]!)) continue;
      const key = m[1]!;
      let value = m[2]!;
      // `--flag value` as two words.
      if (flag && value === '' && !/[:=]/.test(item)) value = words[++w] ?? '';
      if (flag) flagsSeen = true;
      const v = unquote(value);
      const d = parseGoDuration(v);
      const at = (code: string, message: string): void => {
        issues.push({ line: n + 1, code, message, text: clip(raw) });
      };
      if (!d) {
        at(
          'cilium-config.bad-duration',
          `${key}: "${clip(v, 40)}" is not a duration (e.g. 8000s, 2h)`,
        );
        continue;
      }
      if (d.bareNs)
        at(
          'cilium-config.bare-number',
          `${key}: "${v}" has no unit; the agent reads a bare number as nanoseconds (${d.sec} s)`,
        );
      const source = flag ? `cilium-agent --${key}=${v}` : `${from} ${key}=${v}`;
      const setting = { value: d.sec, source };
      if (key === 'conntrack-gc-interval') gcIntervalSec = setting;
      else if (key === 'conntrack-gc-max-interval') gcMaxIntervalSec = setting;
      else timeouts[key as CiliumCtTimeoutKey] = setting;
    }
  }
  const value: CiliumCtSettings = {
    timeouts,
    ...(gcIntervalSec ? { gcIntervalSec } : {}),
    ...(gcMaxIntervalSec ? { gcMaxIntervalSec } : {}),
    from: flagsSeen ? `${from} (agent flags)` : from,
  };
  return { value, issues };
}

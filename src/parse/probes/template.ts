// Fills a probe's placeholders ({{REASON:NO_SOCKET}}, {{HZ}} …) with values read from this kernel,
// so that no kernel-specific number is written in a .bt file.
import { invertSymbols } from '../tracefs-format.js';

export interface TemplateInputs {
  /** enum skb_drop_reason from skb:kfree_skb's format file, number → name. */
  readonly dropReasons?: Record<string, string>;
  /** enum sk_rst_reason from tcp:tcp_send_reset's format file (≥ 6.10), number → name. */
  readonly rstReasons?: Record<string, string>;
  /** Field names per tracepoint (`tcp:tcp_send_reset` → [...]) for FIELD_OR. */
  readonly fields?: Readonly<Record<string, readonly string[]>>;
  readonly hz?: number;
  readonly intervalSec?: number;
  /** netns inodes to keep; empty or absent = all. */
  readonly netns?: readonly number[];
}

export interface RenderedProbe {
  readonly program: string;
  /** Names the kernel lacks (`REASON:TCP_OLD_SEQUENCE`, `FIELD:tcp:tcp_send_reset:reason`). */
  readonly missing: string[];
  /** Placeholders that could not be filled: the probe cannot run (message per placeholder). */
  readonly errors: string[];
}

// A number no enum reaches, so a filter on a reason this kernel lacks never matches.
const NEVER = '0xffffffff';
const PLACEHOLDER = /\{\{([A-Z_]{1,20})(?::([^{}]{1,120}))?\}\}/g;

/** Replaces every placeholder of a probe's text; pure. */
export function renderProbe(text: string, inputs: TemplateInputs): RenderedProbe {
  const missing: string[] = [];
  const errors: string[] = [];
  const drop = inputs.dropReasons ? invertSymbols(numericKeys(inputs.dropReasons)) : undefined;
  const rst = inputs.rstReasons ? invertSymbols(numericKeys(inputs.rstReasons)) : undefined;
  const fill = (all: string, key: string, arg: string | undefined): string => {
    switch (key) {
      case 'REASON':
      case 'RST_REASON': {
        const table = key === 'REASON' ? drop : rst;
        if (!table) {
          errors.push(`${all}: no ${key === 'REASON' ? 'drop' : 'reset'} reason table (the kernel's format file has none)`);
          return NEVER;
        }
        const n = arg === undefined ? undefined : table.get(arg);
        if (n === undefined) {
          missing.push(`${key}:${arg ?? ''}`);
          return NEVER;
        }
        return String(n);
      }
      case 'FIELD_OR': {
        // FIELD_OR:<group>:<event>:<field>:<fallback expression>
        const parts = (arg ?? '').split(':');
        if (parts.length !== 4 || !/^[a-z0-9_]+$/.test(parts[2] ?? '') || !/^-?[0-9]{1,10}$/.test(parts[3] ?? '')) {
          errors.push(`${all}: expected FIELD_OR:<group>:<event>:<field>:<number>`);
          return all;
        }
        const [group, event, field, fallback] = parts as [string, string, string, string];
        const have = inputs.fields?.[`${group}:${event}`];
        if (have?.includes(field)) return `args->${field}`;
        missing.push(`FIELD:${group}:${event}:${field}`);
        return fallback;
      }
      case 'HZ':
        if (inputs.hz === undefined || !Number.isInteger(inputs.hz) || inputs.hz <= 0) {
          errors.push('{{HZ}}: the kernel HZ is unknown');
          return all;
        }
        return String(inputs.hz);
      case 'INTERVAL_S':
      case 'INTERVAL_NS': {
        const s = inputs.intervalSec ?? 1;
        if (!Number.isFinite(s) || s <= 0 || s > 3600) {
          errors.push(`${all}: interval ${s} s out of range (0 < s <= 3600)`);
          return all;
        }
        return key === 'INTERVAL_S' ? String(Math.max(1, Math.round(s))) : String(Math.round(s * 1e9));
      }
      case 'NETNS_IN': {
        // NETNS_IN:$var: true when the probe keeps an event of netns $var (one comparison per inode).
        const inodes = inputs.netns ?? [];
        if (arg === undefined || !/^\$[a-z_][a-z0-9_]*$/.test(arg)) {
          errors.push(`${all}: expected NETNS_IN:$variable`);
          return all;
        }
        const bad = inodes.find((n) => !Number.isInteger(n) || n <= 0 || n > 0xffffffff);
        if (bad !== undefined) {
          errors.push(`${all}: ${bad} is not a netns inode`);
          return all;
        }
        if (inodes.length === 0) return '1';
        return `(${inodes.map((n) => `${arg} == ${n}`).join(' || ')})`;
      }
      default:
        errors.push(`${all}: unknown placeholder`);
        return all;
    }
  };
  // Comment lines keep their placeholders: the header documents them.
  const program = text
    .split('\n')
    .map((line) => (line.trimStart().startsWith('//') ? line : line.replace(PLACEHOLDER, fill)))
    .join('\n');
  return { program, missing: [...new Set(missing)], errors };
}

/** Placeholders a probe text uses, by kind (`REASON`, `HZ` …), for the catalog test and doctor. */
export function placeholderKinds(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(PLACEHOLDER)) out.add(m[1]!);
  return out;
}

function numericKeys(t: Record<string, string>): Record<number, string> {
  const out: Record<number, string> = {};
  for (const [k, v] of Object.entries(t)) {
    const n = Number(k);
    if (Number.isSafeInteger(n)) out[n] = v;
  }
  return out;
}

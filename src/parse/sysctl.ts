// `sysctl -a` (procps-ng), `key=value` and /proc/sys path forms, keyed by the dotted name.
import { procSysKey } from './paste/line-shapes.js';
import { promptOf } from './paste-noise.js';
import { lineIssue, parseRows, row, SKIP, type LineOutcome, type ParseResult } from './result.js';

const MAX_LINE = 4096;
const MAX_KEY = 256;
const KEY = /^[A-Za-z0-9_.\-/:@+]+$/;

/** Issue codes that report an unreadable key: information, not a parse failure. */
export const SYSCTL_INFO_CODES: ReadonlySet<string> = new Set(['sysctl.unreadable']);

/**
 * A /proc/sys path becomes the dotted name the way procps does it: '/' separates levels and a '.'
 * inside a level (a VLAN interface `eth0.100`) becomes '/'.
 */
export function sysctlKeyFromPath(path: string): string {
  const rel = path.replace(/^\/proc\/sys\//, '').replace(/^\/+/, '');
  let out = '';
  for (const ch of rel) out += ch === '/' ? '.' : ch === '.' ? '/' : ch;
  return out;
}

function normalizeKey(raw: string): string {
  // A path's first separator is '/'; a dotted name may hold '/' only inside a level (eth0/100).
  const slash = raw.indexOf('/');
  const dot = raw.indexOf('.');
  return slash >= 0 && (dot < 0 || slash < dot) ? sysctlKeyFromPath(raw) : raw;
}

function toolMessage(line: string): LineOutcome<never> {
  // procps-ng: "permission denied on key 'k'", "cannot stat /proc/sys/…: …", "reading key \"k\"".
  const denied = /^sysctl: permission denied on key '([^']{1,256})'/.exec(line);
  if (denied !== null)
    return lineIssue('sysctl.unreadable', `unreadable key ${denied[1]} (permission denied)`);
  const stat = /^sysctl: cannot stat (\/proc\/sys\/\S{1,256}?):/.exec(line);
  if (stat !== null)
    return lineIssue(
      'sysctl.unreadable',
      `unreadable key ${sysctlKeyFromPath(stat[1]!)} (no such key)`,
    );
  const reading = /^sysctl: reading key "([^"]{1,256})"/.exec(line);
  if (reading !== null) return lineIssue('sysctl.unreadable', `unreadable key ${reading[1]}`);
  return lineIssue('sysctl.tool-error', 'sysctl reported an error');
}

/** Parses one sysctl line into [dotted key, value]; `sysctl:` messages become sysctl.unreadable. */
export function parseSysctlLine(line: string): LineOutcome<[string, string]> {
  if (line.length > MAX_LINE)
    return lineIssue('sysctl.line-too-long', `line longer than ${MAX_LINE} characters`);
  if (line.startsWith('sysctl: ')) return toolMessage(line);
  let keyPart: string;
  let valuePart: string;
  const eq = line.indexOf('=');
  if (eq >= 0) {
    keyPart = line.slice(0, eq);
    valuePart = line.slice(eq + 1);
  } else if (line.startsWith('/proc/sys/') && line.includes(':')) {
    // `grep -r . /proc/sys/net/netfilter` prints path:value.
    const colon = line.indexOf(':');
    keyPart = line.slice(0, colon);
    valuePart = line.slice(colon + 1);
  } else {
    return lineIssue('sysctl.bad-line', 'expected "key = value"');
  }
  const raw = keyPart.trim();
  if (raw === '' || raw.length > MAX_KEY || !KEY.test(raw))
    return lineIssue('sysctl.bad-key', `bad key "${raw.slice(0, 60)}"`);
  // sysctl prints "key = value"; multi-value entries (tcp_rmem) keep their inner tabs.
  const value = valuePart.replace(/^[ \t]+/, '').replace(/[ \t\r]+$/, '');
  return row([normalizeKey(raw), value]);
}

// A bare value: what `cat /proc/sys/…` prints (one word, or tab-separated words like tcp_rmem).
const BARE_VALUE = /^[^\s=:]{1,256}(?:\t[^\s=:]{1,256}){0,7}$/;

/**
 * Parses `sysctl -a` output into a dotted-key map; the last value of a repeated key wins. In a
 * paste, the bare value under a `cat /proc/sys/…` command line belongs to the key it names.
 */
export function parseSysctl(text: string): ParseResult<Record<string, string>> {
  let catKey: string | undefined;
  const rows = parseRows(text, (line) => {
    const out = parseSysctlLine(line);
    if (out.kind !== 'issue') {
      catKey = undefined;
      return out;
    }
    const command = promptOf(line);
    if (command !== undefined) {
      catKey = procSysKey(command);
      return SKIP;
    }
    const key = catKey;
    catKey = undefined;
    return key !== undefined && BARE_VALUE.test(line) ? row<[string, string]>([key, line]) : out;
  });
  const value: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, v] of rows.value) value[k] = v;
  // an unreadable key is said, not a failure to read the text
  const issues = rows.issues.map((i) =>
    SYSCTL_INFO_CODES.has(i.code) ? { ...i, severity: 'info' as const } : i,
  );
  return { value, issues };
}

// `--cloud PRESET[:TIMEOUT][@SCOPE]`: which element, its idle timeout when not the default, and
// which flows cross it. Pure: the CLI validates with it, the analysis matches flows with it.
import {
  CLOUD_PRESETS,
  cloudPresetOf,
  type CloudPreset,
  type CloudReach,
} from './cloud-presets.js';

/** The flows an element applies to. */
export type CloudScope =
  | { readonly kind: CloudReach }
  | { readonly kind: 'dst'; readonly cidrs: readonly Cidr[] }
  | { readonly kind: 'svc'; readonly namespace: string; readonly name: string };

export interface Cidr {
  readonly text: string;
  readonly v6: boolean;
  /** The address as 4 or 16 bytes. */
  readonly bytes: readonly number[];
  readonly bits: number;
}

/** One `--cloud` value, parsed. */
export interface CloudLayerRequest {
  readonly preset: CloudPreset;
  readonly timeoutSec: number;
  /** True when the timeout came from `:TIMEOUT`, not the preset. */
  readonly timeoutGiven: boolean;
  readonly scope: CloudScope;
  /** True when the scope came from `@SCOPE`, not the preset's default. */
  readonly scopeGiven: boolean;
  /** The value as given (for headers and sources). */
  readonly text: string;
}

export type CloudSpecResult =
  | { readonly ok: true; readonly value: CloudLayerRequest }
  | { readonly ok: false; readonly error: string };

// Bounded inputs: a spec longer than this is not a preset name and a scope.
const MAX_SPEC = 200;

/** Parses one `--cloud` value; the error names the part that is wrong. */
export function parseCloudSpec(raw: string): CloudSpecResult {
  const text = raw.trim();
  if (text.length === 0) return bad('is empty');
  if (text.length > MAX_SPEC) return bad(`is longer than ${MAX_SPEC} characters`);
  const at = text.indexOf('@');
  const head = at < 0 ? text : text.slice(0, at);
  const scopeText = at < 0 ? undefined : text.slice(at + 1);
  const colon = head.indexOf(':');
  const name = colon < 0 ? head : head.slice(0, colon);
  const preset = cloudPresetOf(name);
  if (preset === undefined) return bad(`names no preset ("${name}"; see --cloud list)`);
  const info = CLOUD_PRESETS[preset];
  let timeoutSec: number | null = info.timeoutSec;
  const timeoutGiven = colon >= 0;
  if (timeoutGiven) {
    const t = durationSec(head.slice(colon + 1));
    if (t === undefined)
      return bad(`has a bad timeout "${head.slice(colon + 1)}" (say 350s, 6m or 1h)`);
    timeoutSec = t;
  }
  if (timeoutSec === null)
    return bad(`needs a timeout: ${preset} has no default (say ${preset}:50s)`);
  let scope: CloudScope = { kind: info.reach };
  if (scopeText !== undefined) {
    const s = parseScope(scopeText);
    if (typeof s === 'string') return bad(s);
    scope = s;
  }
  return {
    ok: true,
    value: {
      preset,
      timeoutSec,
      timeoutGiven,
      scope,
      scopeGiven: scopeText !== undefined,
      text,
    },
  };
}

function bad(what: string): CloudSpecResult {
  return { ok: false, error: what };
}

function parseScope(s: string): CloudScope | string {
  if (s === 'egress' || s === 'external') return { kind: 'external' };
  if (s === 'ingress' || s === 'all') return { kind: s };
  if (s.startsWith('dst=')) {
    const cidrs: Cidr[] = [];
    for (const part of s.slice(4).split(',')) {
      const c = parseCidr(part.trim());
      if (c === undefined) return `has a bad CIDR "${part}" after @dst= (say 203.0.113.0/24)`;
      cidrs.push(c);
    }
    return { kind: 'dst', cidrs };
  }
  if (s.startsWith('svc=')) {
    const m = /^([a-z0-9][a-z0-9-]{0,62})\/([a-z0-9][a-z0-9-]{0,62})$/.exec(s.slice(4));
    if (!m) return `has a bad Service "${s.slice(4)}" after @svc= (say default/web)`;
    return { kind: 'svc', namespace: m[1]!, name: m[2]! };
  }
  return `has an unknown scope "@${s}" (one of @egress, @ingress, @all, @dst=CIDR, @svc=NS/NAME)`;
}

/** Seconds from `350`, `350s`, `6m`, `1h`, `1h30m`; undefined when not a positive duration. */
export function durationSec(text: string): number | undefined {
  const t = text.trim();
  if (!/^(\d{1,7}(ms|s|m|h)?)+$/.test(t) || t.length > 20) return undefined;
  let total = 0;
  for (const m of t.matchAll(/(\d+)(ms|s|m|h)?/g)) {
    const n = Number(m[1]);
    const u = m[2] ?? 's';
    total += u === 'ms' ? n / 1000 : u === 'm' ? n * 60 : u === 'h' ? n * 3600 : n;
  }
  return total > 0 && Number.isFinite(total) ? total : undefined;
}

/** Parses `a.b.c.d/n`, `a.b.c.d` (a /32), or an IPv6 prefix. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const bytes = addrBytes(addr);
  if (bytes === undefined) return undefined;
  const max = bytes.length * 8;
  if (slash >= 0 && !/^\d{1,3}$/.test(text.slice(slash + 1))) return undefined;
  const bits = slash < 0 ? max : Number(text.slice(slash + 1));
  if (bits > max) return undefined;
  return { text, v6: bytes.length === 16, bytes, bits };
}

/** True when the address lies in the prefix. */
export function cidrContains(c: Cidr, addr: string): boolean {
  const b = addrBytes(addr);
  if (b === undefined || b.length !== c.bytes.length) return false;
  let left = c.bits;
  for (let i = 0; left > 0; i++, left -= 8) {
    const mask = left >= 8 ? 0xff : (0xff << (8 - left)) & 0xff;
    if ((b[i]! & mask) !== (c.bytes[i]! & mask)) return false;
  }
  return true;
}

function addrBytes(addr: string): number[] | undefined {
  if (addr.includes(':')) return v6Bytes(addr);
  const p = addr.split('.');
  if (p.length !== 4) return undefined;
  const out: number[] = [];
  for (const x of p) {
    if (!/^\d{1,3}$/.test(x)) return undefined;
    const n = Number(x);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

function v6Bytes(addr: string): number[] | undefined {
  const a = addr.toLowerCase();
  if (a.length > 45 || a.split('::').length > 2) return undefined;
  const [l, r] = a.includes('::') ? a.split('::') : [a, undefined];
  const left = l ? l.split(':') : [];
  const right = r ? r.split(':') : [];
  const fill = 8 - left.length - right.length;
  if (r === undefined ? left.length !== 8 : fill < 0) return undefined;
  const groups = [...left, ...Array<string>(r === undefined ? 0 : fill).fill('0'), ...right];
  const out: number[] = [];
  for (const g of groups) {
    if (!/^[0-9a-f]{1,4}$/.test(g)) return undefined;
    const n = parseInt(g, 16);
    out.push(n >> 8, n & 0xff);
  }
  return out;
}

/** The default NodePort range (kube-apiserver --service-node-port-range). */
export const NODE_PORT_MIN = 30000;
export const NODE_PORT_MAX = 32767;

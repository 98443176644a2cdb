// bpftrace `-f json` output (one JSON object per line: {"type": …, "data": …}) and the tagged,
// TAB-separated printf lines of kdiag's probes inside it.
import { lineIssue, row, SKIP, type LineOutcome } from '../result.js';
import type { PacketTuple, ProbeStatusEvent } from '../../model/probe-event.js';
import { addr4End, canonicalIpv6, quadValue } from '../ip-text.js';

/** What one envelope line holds: a probe's printf (tag + fields) or a status of bpftrace itself. */
export type Envelope =
  | { readonly kind: 'printf'; readonly tag: string; readonly fields: readonly string[] }
  | { readonly kind: 'status'; readonly event: ProbeStatusEvent };

const MAX_LINE = 64 * 1024;

/** Reads one stdout line of `bpftrace -f json`. */
export function parseEnvelope(line: string): LineOutcome<Envelope> {
  const text = line.trim();
  if (text === '') return SKIP;
  if (text.length > MAX_LINE) return lineIssue('probe.too-long', `line longer than ${MAX_LINE} characters`);
  if (!text.startsWith('{')) return lineIssue('probe.not-json', 'not a bpftrace JSON line (was -f json given?)');
  const fast = fastPrintf(text);
  if (fast !== undefined) return fast;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return lineIssue('probe.not-json', 'bad JSON');
  }
  if (typeof raw !== 'object' || raw === null || typeof (raw as { type?: unknown }).type !== 'string') {
    return lineIssue('probe.bad-envelope', 'JSON without a "type"');
  }
  const { type, data } = raw as { type: string; data?: unknown };
  switch (type) {
    case 'printf': {
      if (typeof data !== 'string') return lineIssue('probe.bad-envelope', 'printf without string data');
      const body = data.endsWith('\n') ? data.slice(0, -1) : data;
      if (body === '') return SKIP;
      const fields = body.split('\t');
      return row({ kind: 'printf', tag: fields[0]!, fields: fields.slice(1) });
    }
    case 'attached_probes': {
      const n = (data as { probes?: unknown } | undefined)?.probes;
      const count = typeof n === 'number' && Number.isFinite(n) ? n : undefined;
      return status({ status: 'attached', ...(count === undefined ? {} : { count }), message: `Probes attached${count === undefined ? '' : ` (${count})`}` });
    }
    case 'lost_events': {
      const n = (data as { events?: unknown } | undefined)?.events;
      const count = typeof n === 'number' && Number.isFinite(n) ? n : undefined;
      return status({ status: 'lost', ...(count === undefined ? {} : { count }), message: `lost ${count ?? 'some'} events (perf buffer full)` });
    }
    case 'helper_error': {
      const d = data as { helper?: unknown; retcode?: unknown } | undefined;
      return status({ status: 'error', message: `bpf helper ${String(d?.helper ?? '?')} failed (${String(d?.retcode ?? '?')})` });
    }
    default:
      // map/hist/stats/value/time/join: kdiag's probes print none of these; keep them visible.
      return status({ status: 'info', message: `bpftrace ${type}: ${JSON.stringify(data ?? null).slice(0, 160)}` });
  }
}

// bpftrace 0.17 prints every printf as exactly this, with only \t and \n escaped in kdiag's lines;
// JSON.parse of the envelope was a sixth of a probe line's cost (bench/).
const PRINTF_HEAD = '{"type": "printf", "data": "';
const PRINTF_TAIL = '"}';

/**
 * The printf branch without JSON.parse, for an envelope of that exact shape whose string holds no
 * quote, no control character and no escape other than \t and \n; undefined (use JSON.parse) otherwise.
 * The fields are cut straight out of the line at the \t escapes (one pass, no decoded copy) when the
 * only \n is the last one, as kdiag's printf lines have it.
 */
function fastPrintf(text: string): LineOutcome<Envelope> | undefined {
  if (!text.startsWith(PRINTF_HEAD) || !text.endsWith(PRINTF_TAIL)) return undefined;
  const from = PRINTF_HEAD.length;
  const to = text.length - PRINTF_TAIL.length;
  if (to < from) return undefined;
  const cuts: number[] = [];
  let inner = false; // a \n before the end: decoded the general way below
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */ || c < 32) return undefined;
    if (c === 92 /* \ */) {
      const n = text.charCodeAt(i + 1);
      if (i + 1 >= to || (n !== 116 /* t */ && n !== 110 /* n */)) return undefined;
      if (n === 116) cuts.push(i);
      else if (i + 2 !== to) inner = true;
      i++;
    }
  }
  if (inner) {
    // every backslash starts a \t or \n pair here (checked above), so plain replacement decodes it
    const data = text.slice(from, to).replaceAll('\\n', '\n').replaceAll('\\t', '\t');
    const body = data.endsWith('\n') ? data.slice(0, -1) : data;
    if (body === '') return SKIP;
    const fields = body.split('\t');
    return row({ kind: 'printf', tag: fields[0]!, fields: fields.slice(1) });
  }
  // the body ends before a final \n
  const end = to - 2 >= from && text.charCodeAt(to - 2) === 92 && text.charCodeAt(to - 1) === 110 ? to - 2 : to;
  if (end === from) return SKIP;
  const tag = text.slice(from, cuts.length > 0 ? cuts[0] : end);
  const fields: string[] = new Array(cuts.length);
  for (let j = 0; j < cuts.length; j++) fields[j] = text.slice(cuts[j]! + 2, j + 1 < cuts.length ? cuts[j + 1] : end);
  return row({ kind: 'printf', tag, fields });
}

function status(e: Omit<ProbeStatusEvent, 'kind'>): LineOutcome<Envelope> {
  return row({ kind: 'status', event: { kind: 'probe-status', ...e } });
}

/** Turns a bpftrace stderr line into a status event (bpftrace 0.17 warns about RLIMIT_MEMLOCK on every start). */
export function parseProbeStderr(line: string): LineOutcome<ProbeStatusEvent> {
  const text = line.trim();
  if (text === '') return SKIP;
  const message = text.slice(0, 300);
  const benign = /RLIMIT_MEMLOCK|^WARNING|^\s*~|^\//.test(text);
  return row({ kind: 'probe-status', status: benign || !/ERROR|error/.test(text) ? 'info' : 'error', message });
}

/** Field parsing helpers shared by the probe parsers. */
export function uint(s: string | undefined, max = Number.MAX_SAFE_INTEGER): number | undefined {
  // = /^\d{1,20}$/ and Number(s), without the regex (a probe line has a dozen of these)
  if (s === undefined) return undefined;
  const len = s.length;
  if (len < 1 || len > 20) return undefined;
  let n = 0;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return undefined;
    n = n * 10 + c;
  }
  if (len > 15) n = Number(s); // exact below 10^15 either way
  return Number.isSafeInteger(n) && n <= max ? n : undefined;
}

/** A possibly negative integer (a reason of -1 means "the kernel has none"). */
export function int(s: string | undefined): number | undefined {
  // = /^-?\d{1,11}$/ and Number(s) (which makes "-0" -0)
  if (s === undefined) return undefined;
  const len = s.length;
  const neg = len > 0 && s.charCodeAt(0) === 45;
  const from = neg ? 1 : 0;
  if (len - from < 1 || len - from > 11) return undefined;
  let n = 0;
  for (let i = from; i < len; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return undefined;
    n = n * 10 + c;
  }
  return neg ? -n : n;
}

/** = /^\d{1,3}(?:\.\d{1,3}){3}$/, without the regex. */
function isAddr4(s: string): boolean {
  return addr4End(s, 0) === s.length;
}

/** An address as bpftrace's ntop() prints it, for the given family (4 or 6); IPv6 in canonical text. */
export function addr(s: string | undefined, family: number): string | undefined {
  if (s === undefined) return undefined;
  if (family === 4) return isAddr4(s) ? s : undefined;
  if (family === 6) return canonicalIpv6(s);
  return undefined;
}

const PROTO_NAMES: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6', 132: 'sctp' };

/** IP protocol number → the tuple's proto name. */
export function protoName(n: number): string {
  return PROTO_NAMES[n] ?? `ip-proto-${n}`;
}

/**
 * Reads `family saddr sport daddr dport` with the family at `at` and the addresses from
 * `addrAt` (default right after it); undefined when any is bad.
 */
export function tupleAt(f: readonly string[], at: number, proto: string, addrAt = at + 1): PacketTuple | undefined {
  const family = uint(f[at], 10);
  if (family !== 4 && family !== 6) return undefined;
  const saddr = addr(f[addrAt], family);
  const sport = uint(f[addrAt + 1], 65535);
  const daddr = addr(f[addrAt + 2], family);
  const dport = uint(f[addrAt + 3], 65535);
  if (saddr === undefined || sport === undefined || daddr === undefined || dport === undefined) return undefined;
  const v4 = family === 4;
  return { proto, saddr, sport, daddr, dport, saddr4: v4 ? quadValue(saddr, 0, saddr.length) : undefined, daddr4: v4 ? quadValue(daddr, 0, daddr.length) : undefined };
}

/** Checks the tag of a printf line: right name, supported version. */
export function checkTag(tag: string, expected: readonly string[]): LineOutcome<never> | undefined {
  if (expected.includes(tag)) return undefined;
  const base = tag.replace(/\.v\d+$/, '');
  if (expected.some((t) => t.replace(/\.v\d+$/, '') === base)) {
    return lineIssue('probe.unsupported-version', `line format ${tag} not supported (this kdiag reads ${expected.join(', ')})`);
  }
  return lineIssue('probe.unknown-tag', `unknown line tag "${tag.slice(0, 40)}"`);
}

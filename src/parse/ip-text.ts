// Address text as every parser hands it to the model. Flows join across sources by address text, and
// the tools spell one IPv6 address several ways: conntrack(8), ss, ipvsadm and bpftrace's ntop() use
// inet_ntop (`::ffff:10.0.0.1`), the kernel's /proc files use %pI6 (`0000:…:ffff:0a00:0001`), and
// WHATWG URL parsing (what ipvsadm's parser used) writes `::ffff:a00:1`. canonicalIpv6 turns each
// into one text, RFC 5952's: lower case, no leading zeros, the longest run of two or more zero
// groups (the first of equal runs) as `::`, and an IPv4-mapped address (::ffff:0:0/96) as
// `::ffff:a.b.c.d`, which is also what inet_ntop prints for it.
import { ipv4Value } from '../model/endpoint.js';

/**
 * The value of the address dottedQuadEnd last accepted as an int32 (a.b.c.d → a<<24|b<<16|c<<8|d),
 * or undefined when it was not canonical (an octet with a leading zero names the address differently).
 */
let lastQuad: number | undefined;

// A local constant, not byte-lexer's: dottedQuadEnd is inlined into the conntrack scanner's loop.
const SP = 32;

/**
 * End of a dotted quad at b[from…] (four octets of 1–3 digits, each at most 255, then a space or
 * `end`), or -1 for anything else. Its int32 is then lastDottedQuad().
 */
export function dottedQuadEnd(b: Uint8Array, from: number, end: number): number {
  let i = from;
  let v = 0;
  let canonical = true;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (b[i] !== 46 || i >= end) return -1;
      i++;
    }
    const first = i;
    const last = Math.min(first + 3, end);
    let octet = 0;
    for (; i < last; i++) {
      const d = b[i]! - 48;
      if (d < 0 || d > 9) break;
      octet = octet * 10 + d;
    }
    if (i === first || octet > 255) return -1;
    if (i - first > 1 && b[first] === 48) canonical = false;
    v = (v << 8) | octet;
  }
  if (i < end && b[i] !== SP) return -1;
  lastQuad = canonical ? v : undefined;
  return i;
}

/** The int32 of the quad dottedQuadEnd last accepted; undefined when it had a leading-zero octet. */
export function lastDottedQuad(): number | undefined {
  return lastQuad;
}

/** Longest IPv6 text: eight groups of four digits and seven colons, or six and a dotted quad. */
export const IPV6_MAX_TEXT = 45;

// Scratch for one address at a time: its eight groups, the canonical text's bytes, and a string's codes.
const GROUPS = new Int32Array(8);
const OUT = new Uint8Array(64);
const IN = new Uint8Array(IPV6_MAX_TEXT + 8);

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Reads the IPv6 address in b[from, to) (RFC 4291 text: hex groups, at most one `::`, an optional
 * dotted-quad tail) into GROUPS; false when it is not one.
 */
function readIpv6(b: Uint8Array, from: number, to: number): boolean {
  if (to - from < 2 || to - from > IPV6_MAX_TEXT) return false;
  let n = 0;
  let gap = -1;
  let i = from;
  if (b[i] === 58) {
    if (b[i + 1] !== 58) return false;
    gap = 0;
    i += 2;
  }
  while (i < to) {
    const start = i;
    let v = 0;
    for (; i < to && i - start < 5; i++) {
      const h = hexValue(b[i]!);
      if (h < 0) break;
      v = (v << 4) | h;
    }
    if (i < to && b[i] === 46) {
      // an IPv4 tail ends the address: inet_pton wants its octets without leading zeros
      if (n > 6 || dottedQuadEnd(b, start, to) !== to || lastQuad === undefined) return false;
      GROUPS[n++] = lastQuad >>> 16;
      GROUPS[n++] = lastQuad & 0xffff;
      i = to;
      break;
    }
    if (i === start || i - start > 4 || n === 8) return false;
    GROUPS[n++] = v;
    if (i === to) break;
    if (b[i] !== 58) return false;
    i++;
    if (b[i] === 58 && i < to) {
      if (gap >= 0) return false;
      gap = n;
      i++;
    } else if (i === to) return false;
  }
  if (gap < 0) return n === 8;
  if (n > 7) return false;
  // move the groups after the gap to the end and zero the gap
  const tail = n - gap;
  for (let k = 0; k < tail; k++) GROUPS[7 - k] = GROUPS[n - 1 - k]!;
  for (let k = gap; k < 8 - tail; k++) GROUPS[k] = 0;
  return true;
}

const HEX = '0123456789abcdef';

/** Writes a group in lower-case hex without leading zeros at OUT[o]; returns the next position. */
function putHex(v: number, o: number): number {
  let shift = 12;
  while (shift > 0 && v >> shift === 0) shift -= 4;
  for (; shift >= 0; shift -= 4) OUT[o++] = HEX.charCodeAt((v >> shift) & 15);
  return o;
}

function putDec(v: number, o: number): number {
  if (v >= 100) OUT[o++] = 48 + ((v / 100) | 0);
  if (v >= 10) OUT[o++] = 48 + (((v / 10) | 0) % 10);
  OUT[o++] = 48 + (v % 10);
  return o;
}

/** Writes the canonical text of GROUPS into OUT; returns its length. */
function writeCanonical(): number {
  const g = GROUPS;
  let o = 0;
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    // ::ffff:
    OUT[0] = 58;
    OUT[1] = 58;
    OUT[2] = 102;
    OUT[3] = 102;
    OUT[4] = 102;
    OUT[5] = 102;
    OUT[6] = 58;
    o = putDec(g[6]! >> 8, 7);
    OUT[o++] = 46;
    o = putDec(g[6]! & 255, o);
    OUT[o++] = 46;
    o = putDec(g[7]! >> 8, o);
    OUT[o++] = 46;
    return putDec(g[7]! & 255, o);
  }
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      OUT[o++] = 58;
      if (i === 0) OUT[o++] = 58;
      i += bestLen - 1;
      continue;
    }
    o = putHex(g[i]!, o);
    if (i < 7) OUT[o++] = 58;
  }
  return o;
}

/**
 * The canonical text of the IPv6 address in s[from, to), whose character codes are b[from, to)
 * (from lineCodes); null when it is not an IPv6 address. Text that is already canonical comes back
 * as s.slice(from, to), so the common case builds no string of its own.
 */
export function canonicalIpv6Codes(
  s: string,
  b: Uint8Array,
  from: number,
  to: number,
): string | null {
  if (!readIpv6(b, from, to)) return null;
  const n = writeCanonical();
  let same = n === to - from;
  for (let i = 0; same && i < n; i++) same = OUT[i] === b[from + i];
  return same ? s.slice(from, to) : String.fromCharCode(...OUT.subarray(0, n));
}

/** The canonical (RFC 5952) text of an IPv6 address in any valid spelling; undefined when it is not one. */
export function canonicalIpv6(text: string): string | undefined {
  const n = text.length;
  if (n < 2 || n > IPV6_MAX_TEXT) return undefined;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    IN[i] = c > 255 ? 255 : c;
  }
  return canonicalIpv6Codes(text, IN, 0, n) ?? undefined;
}

/**
 * Where a dotted quad (\d{1,3}(?:\.\d{1,3}){3}) starting at `from` ends: the index of the first
 * character after it, or -1 when there is none there.
 */
export function addr4End(s: string, from: number): number {
  let dots = 0;
  let digits = 0;
  let p = from;
  for (; p < s.length; p++) {
    const c = s.charCodeAt(p);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (++digits > 3) return -1;
    } else break;
  }
  return dots === 3 && digits > 0 ? p : -1;
}

/** ipv4Value as a tuple's optional field: the int32, or undefined when s[from, to) is not canonical. */
export function quadValue(s: string, from: number, to: number): number | undefined {
  const v = ipv4Value(s, from, to);
  return v === v ? v : undefined;
}

// conntrack -L (plain, -o extended[,id][,ktimestamp][,labels]) and /proc/net/nf_conntrack lines.
// A hand-rolled scanner over space-separated tokens: this runs on snapshots of 10^5–10^6 entries,
// so it reads each character about once (keys by first character + compare, numbers and addresses
// checked while finding their end), allocates only what the entry keeps, and never uses a regex per
// token. Speed: bench/parse-conntrack.ts.
import type { Counters, ConntrackEntry } from '../model/conntrack.js';
import type { Family, Tuple } from '../model/endpoint.js';
import { SKIP, lineIssue, parseRows, row, type LineOutcome, type ParseResult } from './result.js';

/** Longest line the scanner looks at; real lines stay under 1 kB (IPv6 in /proc's full form ~ 600). */
export const CONNTRACK_MAX_LINE = 8192;

const SP = 32;
const LBRACKET = 91;

// Field ids the token loop dispatches on: addresses 1-2, numbers 3-17, text 20-25.
const K_SRC = 1;
const K_DST = 2;
const K_SPORT = 3;
const K_DPORT = 4;
const K_PACKETS = 5;
const K_BYTES = 6;
const K_TYPE = 7;
const K_CODE = 8;
const K_ID = 9;
const K_MARK = 10;
const K_USE = 11;
const K_DELTA = 12;
const K_ZONE = 13;
const K_SECMARK = 14;
const K_ZONE_ORIG = 15;
const K_ZONE_REPLY = 16;
const K_STREAM_TIMEOUT = 17;
const K_SECCTX = 20;
const K_HELPER = 21;
const K_LABELS = 22;
const K_SRCKEY = 23;
const K_DSTKEY = 24;
const K_GRE_TIMEOUT = 25;

// Character compares for the keys on every line (src= dst= sport= dport= packets= bytes= mark=…): cheaper
// than a startsWith call each on every token.
function at3(u: Uint8Array, p: number, a: number, b: number, c: number): boolean {
  return u[p] === a && u[p + 1] === b && u[p + 2] === c;
}

function at4(u: Uint8Array, p: number, a: number, b: number, c: number, d: number): boolean {
  return u[p] === a && u[p + 1] === b && u[p + 2] === c && u[p + 3] === d;
}

// The scanner reads character codes from a byte copy of the line: one native encodeInto per line is
// far cheaper than a charCodeAt per character (each re-checks the string's representation; lines
// from split() are sliced strings). Every compare in the scanner is against ASCII or `> 127`, so a
// line with other characters is copied with each code above 255 stored as 255: same decisions.
// Bytes past the end are zeroed so look-ahead key compares fail like charCodeAt's NaN would.
const LOOKAHEAD = 16;
const CODES = new Uint8Array(CONNTRACK_MAX_LINE + 1024);
const ENCODER = new TextEncoder();

function codesOf(s: string): Uint8Array {
  const n = s.length;
  const b = n + LOOKAHEAD <= CODES.length ? CODES : new Uint8Array(n + LOOKAHEAD);
  const r = ENCODER.encodeInto(s, b);
  if (r.read !== n || r.written !== n) {
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      b[i] = c > 255 ? 255 : c;
    }
  }
  for (let i = n; i < n + LOOKAHEAD; i++) b[i] = 0;
  return b;
}

function badNumber(s: string, p: number, vs: number, te: number): LineOutcome<never> {
  return lineIssue('conntrack.bad-number', `${s.slice(p, vs - 1)} is not a valid number: ${JSON.stringify(s.slice(vs, Math.min(te, vs + 60)))}`);
}

/** End of the token starting at `from`: the next space or `end`. */
function tokenEnd(s: string, from: number, end: number): number {
  // indexOf is a vectorised search; a charCodeAt loop over every character costs twice the whole parse
  const i = s.indexOf(' ', from);
  return i === -1 || i > end ? end : i;
}

/** `0x` and 1–8 hex digits (GRE keys). */
function isHexWord(s: string, from: number, to: number): boolean {
  if (to - from < 3 || to - from > 10 || s.charCodeAt(from) !== 48 || s.charCodeAt(from + 1) !== 120) return false;
  for (let i = from + 2; i < to; i++) {
    const c = s.charCodeAt(i);
    if (!(isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70))) return false;
  }
  return true;
}

const CODE = {
  tooLong: 'conntrack.line-too-long',
  badL3: 'conntrack.bad-l3',
  badProto: 'conntrack.bad-proto',
  badNumber: 'conntrack.bad-number',
  badState: 'conntrack.bad-state',
  badAddress: 'conntrack.bad-address',
  badTuple: 'conntrack.bad-tuple',
  unknownToken: 'conntrack.unknown-token',
  duplicateField: 'conntrack.duplicate-field',
  unterminated: 'conntrack.unterminated-bracket',
  toolMessage: 'conntrack.tool-message',
} as const;

/** Quotes a piece of the line for a message, bounded and with control characters made visible. */
function quote(s: string, from: number, to: number): string {
  const cut = to - from > 60 ? `${s.slice(from, from + 60)}…` : s.slice(from, to);
  return JSON.stringify(cut);
}

/** Decimal digits in [from, to) as a number; -1 when empty, not all digits or longer than 20 digits. */
export function parseDec(s: string, from: number, to: number): number {
  const n = to - from;
  if (n <= 0 || n > 20) return -1;
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

function dup(key: string): LineOutcome<never> {
  return lineIssue(CODE.duplicateField, `${key}= appears twice`);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function eq(s: string, from: number, to: number, lit: string): boolean {
  return to - from === lit.length && s.startsWith(lit, from);
}

/** Interned l4 names, so the common case allocates no string. */
function l4Name(s: string, from: number, to: number): string | null {
  switch (to - from) {
    case 3:
      if (s.startsWith('tcp', from)) return 'tcp';
      if (s.startsWith('udp', from)) return 'udp';
      if (s.startsWith('gre', from)) return 'gre';
      break;
    case 4:
      if (s.startsWith('icmp', from)) return 'icmp';
      if (s.startsWith('sctp', from)) return 'sctp';
      if (s.startsWith('dccp', from)) return 'dccp';
      break;
    case 6:
      if (s.startsWith('icmpv6', from)) return 'icmpv6';
      break;
    case 7:
      if (s.startsWith('udplite', from)) return 'udplite';
      if (s.startsWith('unknown', from)) return 'unknown';
      break;
  }
  if (to - from > 16) return null;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 97 && c <= 122) || isDigit(c) || c === 45 || c === 95)) return null;
  }
  return s.slice(from, to);
}

/** Interned TCP state words; other words (SCTP, DCCP) are checked to be upper-case and sliced. */
function stateWord(s: string, from: number, to: number): string | null {
  switch (s.charCodeAt(from)) {
    case 69: if (eq(s, from, to, 'ESTABLISHED')) return 'ESTABLISHED'; break;
    case 84: if (eq(s, from, to, 'TIME_WAIT')) return 'TIME_WAIT'; break;
    case 83:
      if (eq(s, from, to, 'SYN_SENT')) return 'SYN_SENT';
      if (eq(s, from, to, 'SYN_RECV')) return 'SYN_RECV';
      if (eq(s, from, to, 'SYN_SENT2')) return 'SYN_SENT2';
      break;
    case 67:
      if (eq(s, from, to, 'CLOSE')) return 'CLOSE';
      if (eq(s, from, to, 'CLOSE_WAIT')) return 'CLOSE_WAIT';
      break;
    case 70: if (eq(s, from, to, 'FIN_WAIT')) return 'FIN_WAIT'; break;
    case 76: if (eq(s, from, to, 'LAST_ACK')) return 'LAST_ACK'; break;
    case 78: if (eq(s, from, to, 'NONE')) return 'NONE'; break;
  }
  if (to - from > 32) return null;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 65 && c <= 90) || isDigit(c) || c === 95)) return null;
  }
  return s.slice(from, to);
}

/**
 * /proc/net/nf_conntrack prints IPv6 with %pI6 (8 groups of 4 digits); conntrack(8) prints inet_ntop
 * text. Compress the former so both sources name a flow the same way.
 */
export function compressIPv6(full: string): string {
  const parts = full.split(':');
  if (parts.length !== 8) return full.toLowerCase();
  const g: number[] = [];
  for (const p of parts) {
    if (p.length === 0 || p.length > 4) return full.toLowerCase();
    const v = Number.parseInt(p, 16);
    if (!Number.isFinite(v)) return full.toLowerCase();
    g.push(v);
  }
  // inet_ntop writes IPv4-mapped addresses with a dotted tail.
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${g[6]! >> 8}.${g[6]! & 255}.${g[7]! >> 8}.${g[7]! & 255}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = g.map((v) => v.toString(16));
  if (bestLen < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

const SUMMARY = /^conntrack v[0-9.]{1,20} \(conntrack-tools\): [0-9]{1,20} flow (?:entries|events|expectations) have been (?:shown|deleted|updated|created)\.$/;

/**
 * What to do with a line conntrack(8) wrote to stderr and that ended up among the rows: the
 * `N flow entries have been shown.` summary is skipped; other messages from the tool are issues.
 * Returns undefined for a line that is not a tool message.
 */
export function conntrackToolLine(line: string): LineOutcome<never> | undefined {
  if (line.startsWith('conntrack v')) {
    if (line.length < 200 && SUMMARY.test(line)) return SKIP;
    return lineIssue(CODE.toolMessage, `conntrack says: ${quote(line, 0, line.length)}`);
  }
  if (line.startsWith('nfct_')) {
    // e.g. `nfct_labelmap_new: No such file or directory` with -o labels and no connlabel.conf
    return lineIssue(CODE.toolMessage, `libnetfilter_conntrack says: ${quote(line, 0, line.length)}`);
  }
  return undefined;
}

/**
 * Scans one entry in line[from, end): the layout shared by -L, -E (after the event type) and /proc.
 * Never throws; anything it does not know becomes an issue.
 */
export function scanConntrackEntry(s: string, from: number, end: number): LineOutcome<ConntrackEntry> {
  const b = codesOf(s);
  let p = from;
  let te = 0;

  // --- header: [l3name l3num] l4name l4num [timeout] [state]
  while (p < end && b[p]! === SP) p++;
  if (p >= end) return lineIssue(CODE.badProto, 'empty entry: no protocol name');
  te = tokenEnd(s, p, end);

  let family: Family | null = null;
  if (te - p === 4 && s.startsWith('ipv', p)) {
    const v = b[p + 3]!;
    family = v === 52 ? 'ipv4' : v === 54 ? 'ipv6' : null;
    if (family === null) return lineIssue(CODE.badL3, `unknown l3 name ${quote(s, p, te)}`);
    p = te;
    while (p < end && b[p]! === SP) p++;
    te = tokenEnd(s, p, end);
    const l3num = parseDec(s, p, te);
    if (l3num !== (family === 'ipv4' ? 2 : 10)) {
      return lineIssue(CODE.badL3, `l3 number ${quote(s, p, te)} does not match ${family}`);
    }
    p = te;
    while (p < end && b[p]! === SP) p++;
    te = tokenEnd(s, p, end);
  }

  const proto = l4Name(s, p, te);
  if (proto === null) return lineIssue(CODE.badProto, `not an l4 protocol name: ${quote(s, p, te)}`);
  p = te;
  while (p < end && b[p]! === SP) p++;
  te = tokenEnd(s, p, end);
  const protonum = parseDec(s, p, te);
  if (protonum < 0 || protonum > 255) {
    return lineIssue(CODE.badProto, `l4 protocol number is not 0-255: ${quote(s, p, te)}`);
  }
  p = te;
  while (p < end && b[p]! === SP) p++;
  te = tokenEnd(s, p, end);

  let timeout: number | null = null;
  if (p < end && isDigit(b[p]!)) {
    timeout = parseDec(s, p, te);
    if (timeout < 0) return lineIssue(CODE.badNumber, `timeout is not a number: ${quote(s, p, te)}`);
    p = te;
    while (p < end && b[p]! === SP) p++;
    te = tokenEnd(s, p, end);
  }

  let state: string | null = null;
  if (p < end) {
    // keys are lower case; a state word is upper case (anything else here is not a state)
    const c = b[p]!;
    let isState = (c >= 65 && c <= 90) || c > 127;
    if (c >= 97 && c <= 122) {
      const e = s.indexOf('=', p);
      isState = e === -1 || e >= te;
    }
    if (isState) {
      state = stateWord(s, p, te);
      if (state === null) return lineIssue(CODE.badState, `not a state word: ${quote(s, p, te)}`);
      p = te;
    }
  }
  // the token loop starts on the space before a token
  if (state === null) p--;

  // --- tuples, counters, flags and the trailer
  let oSrc: string | null = null;
  let oDst: string | null = null;
  let oSport = -1;
  let oDport = -1;
  let rSrc: string | null = null;
  let rDst: string | null = null;
  let rSport = -1;
  let rDport = -1;
  let icmpType = -1;
  let icmpCode = -1;
  let icmpId = -1;
  let rIcmpType = -1;
  let rIcmpId = -1;
  let oPackets = -1;
  let oBytes = -1;
  let rPackets = -1;
  let rBytes = -1;
  let dir = 0; // 0 before orig src, 1 orig, 2 reply
  let n6 = 0; // IPv6 addresses seen: all four or none
  let trailer = false;
  let unreplied = false;
  let assured = false;
  let offload = false;
  let hwOffload = false;
  let mark: number | undefined;
  let secmark: number | undefined;
  let zone: number | undefined;
  let deltaTime: number | undefined;
  let use: number | undefined;
  let id: number | undefined;
  let labels: string | undefined;
  let helper: string | undefined;
  let start: string | undefined;
  let stop: string | undefined;
  let secctx: string | undefined;

  for (;;) {
    // p is at the space that ended the previous token: step over it without reading it
    if (++p >= end) break;
    let c = b[p]!;
    while (c === SP && ++p < end) c = b[p]!;
    if (p >= end) break;

    if (c === LBRACKET) {
      te = tokenEnd(s, p, end);
      if (eq(s, p, te, '[UNREPLIED]')) {
        if (dir !== 1) return lineIssue(CODE.badTuple, '[UNREPLIED] is not between the two tuples');
        unreplied = true;
      } else if (eq(s, p, te, '[ASSURED]')) { assured = true; trailer = true; }
      else if (eq(s, p, te, '[OFFLOAD]')) { offload = true; trailer = true; }
      else if (eq(s, p, te, '[HW_OFFLOAD]')) { hwOffload = true; trailer = true; }
      else if (s.startsWith('[start=', p) || s.startsWith('[stop=', p)) {
        // ctime text contains spaces: `[start=Mon Nov 23 04:42:36 2026]`
        const close = s.indexOf(']', p);
        if (close === -1 || close >= end || close - p > 64) {
          return lineIssue(CODE.unterminated, `no closing ] for ${quote(s, p, te)}`);
        }
        const isStart = b[p + 3]! === 97;
        const v = s.slice(p + (isStart ? 7 : 6), close);
        if (isStart) start = v;
        else stop = v;
        trailer = true;
        te = close + 1;
      } else {
        return lineIssue(CODE.unknownToken, `unknown flag ${quote(s, p, te)}`);
      }
      p = te;
      continue;
    }

    // Which key: the first character picks the candidates, startsWith (a native compare) checks the
    // whole key with its '='. Reading the key one charCodeAt at a time costs about twice as much.
    let k = 0;
    let vs = p;
    switch (c) {
      case 115: // s; the second character saves a failed compare on the hot keys
        if (b[p + 1]! === 112) { if (at4(b, p + 2, 111, 114, 116, 61)) { k = K_SPORT; vs += 6; } }
        else if (at3(b, p + 1, 114, 99, 61)) { k = K_SRC; vs += 4; }
        else if (s.startsWith('secmark=', p)) { k = K_SECMARK; vs += 8; }
        else if (s.startsWith('secctx=', p)) { k = K_SECCTX; vs += 7; }
        else if (s.startsWith('srckey=', p)) { k = K_SRCKEY; vs += 7; }
        else if (s.startsWith('stream_timeout=', p)) { k = K_STREAM_TIMEOUT; vs += 15; }
        break;
      case 100: // d
        c = b[p + 1]!;
        if (c === 112) { if (at4(b, p + 2, 111, 114, 116, 61)) { k = K_DPORT; vs += 6; } }
        else if (c === 101) { if (at3(b, p + 2, 108, 116, 97) && at3(b, p + 5, 45, 116, 105) && at3(b, p + 8, 109, 101, 61)) { k = K_DELTA; vs += 11; } }
        else if (at3(b, p + 1, 115, 116, 61)) { k = K_DST; vs += 4; }
        else if (s.startsWith('dstkey=', p)) { k = K_DSTKEY; vs += 7; }
        break;
      case 112: if (at4(b, p + 1, 97, 99, 107, 101) && at3(b, p + 5, 116, 115, 61)) { k = K_PACKETS; vs += 8; } break;
      case 98: if (at4(b, p + 1, 121, 116, 101, 115) && b[p + 5]! === 61) { k = K_BYTES; vs += 6; } break;
      case 109: if (at4(b, p + 1, 97, 114, 107, 61)) { k = K_MARK; vs += 5; } break;
      case 117: if (at3(b, p + 1, 115, 101, 61)) { k = K_USE; vs += 4; } break;
      case 105: if (b[p + 1]! === 100 && b[p + 2]! === 61) { k = K_ID; vs += 3; } break;
      case 99: if (s.startsWith('code=', p)) { k = K_CODE; vs += 5; } break;
      case 104: if (s.startsWith('helper=', p)) { k = K_HELPER; vs += 7; } break;
      case 108: if (s.startsWith('labels=', p)) { k = K_LABELS; vs += 7; } break;
      case 116: // t
        if (s.startsWith('type=', p)) { k = K_TYPE; vs += 5; }
        else if (s.startsWith('timeout=', p)) { k = K_GRE_TIMEOUT; vs += 8; }
        break;
      case 122: // z
        if (s.startsWith('zone=', p)) { k = K_ZONE; vs += 5; }
        else if (s.startsWith('zone-orig=', p)) { k = K_ZONE_ORIG; vs += 10; }
        else if (s.startsWith('zone-reply=', p)) { k = K_ZONE_REPLY; vs += 11; }
        break;
    }
    // a key found this way lies before `end`: `end` is at a space or the end of the line
    if (k === 0 || vs > end) {
      te = tokenEnd(s, p, end);
      const e = s.indexOf('=', p);
      if (e === -1 || e >= te) return lineIssue(CODE.unknownToken, `expected key=value, got ${quote(s, p, te)}`);
      return lineIssue(CODE.unknownToken, `unknown field ${quote(s, p, e)}`);
    }

    if (k <= K_DST) {
      // An address: one pass finds its end and checks IPv4 octets / IPv6 characters.
      let i = vs;
      let dots = 0;
      let colons = 0;
      let digits = 0;
      let octet = 0;
      let ok4 = true;
      let ok6 = true;
      for (; i < end; i++) {
        const ch = b[i]!;
        if (ch === SP) break;
        if (ch >= 48 && ch <= 57) {
          octet = octet * 10 + (ch - 48);
          if (++digits > 3 || octet > 255) ok4 = false;
        } else if (ch === 46) {
          if (digits === 0) ok4 = false;
          dots++;
          digits = 0;
          octet = 0;
        } else if (ch === 58) { colons++; ok4 = false; }
        else if ((ch >= 97 && ch <= 102) || (ch >= 65 && ch <= 70)) ok4 = false;
        else { ok4 = false; ok6 = false; }
      }
      te = i;
      let a: string | null = null;
      if (ok4 && dots === 3 && digits > 0) a = s.slice(vs, te);
      else if (ok6 && colons >= 2 && colons <= 7 && te - vs <= 45) {
        n6++;
        // /proc/net/nf_conntrack prints IPv6 with %pI6 (8 groups of 4 digits); conntrack(8) uses inet_ntop
        a = te - vs === 39 && colons === 7 ? compressIPv6(s.slice(vs, te)) : s.slice(vs, te);
      }
      const name = k === K_SRC ? 'src' : 'dst';
      if (a === null) return lineIssue(CODE.badAddress, `${name} is not an IP address: ${quote(s, vs, tokenEnd(s, vs, end))}`);
      if (trailer) return lineIssue(CODE.badTuple, `${name}= after the reply tuple`);
      if (k === K_SRC) {
        if (dir === 0) { oSrc = a; dir = 1; }
        else if (dir === 1) {
          if (oDst === null) return lineIssue(CODE.badTuple, 'original tuple has no dst=');
          rSrc = a; dir = 2;
        } else return lineIssue(CODE.badTuple, 'more than two tuples (third src=)');
      } else if (dir === 1 && oDst === null) oDst = a;
      else if (dir === 2 && rDst === null) rDst = a;
      else return lineIssue(CODE.badTuple, 'dst= without a preceding src=');
      p = te;
      continue;
    }

    if (k < K_SECCTX) {
      // A decimal number, parsed while looking for its end.
      let v = 0;
      let i = vs;
      for (; i < end; i++) {
        const d = b[i]! - 48;
        if (d < 0 || d > 9) break;
        v = v * 10 + d;
      }
      te = i;
      if (i === vs || i - vs > 20 || (i < end && b[i]! !== SP)) {
        return lineIssue(CODE.badNumber, `${s.slice(p, vs - 1)} is not a valid number: ${quote(s, vs, tokenEnd(s, vs, end))}`);
      }
      switch (k) {
        case K_SPORT:
        case K_DPORT:
          if (trailer || dir === 0) return lineIssue(CODE.badTuple, `${s.slice(p, vs - 1)}= outside a tuple`);
          if (v > 65535) return badNumber(s, p, vs, te);
          if (k === K_SPORT) { if (dir === 1) oSport = v; else rSport = v; }
          else if (dir === 1) oDport = v;
          else rDport = v;
          break;
        case K_PACKETS:
          if (trailer || dir === 0) return lineIssue(CODE.badTuple, 'packets= outside a tuple');
          if ((dir === 1 ? oPackets : rPackets) >= 0) return dup('packets');
          if (dir === 1) oPackets = v; else rPackets = v;
          break;
        case K_BYTES:
          if (trailer || dir === 0) return lineIssue(CODE.badTuple, 'bytes= outside a tuple');
          if ((dir === 1 ? oBytes : rBytes) >= 0) return dup('bytes');
          if (dir === 1) oBytes = v; else rBytes = v;
          break;
        case K_TYPE:
        case K_CODE:
          if (trailer || dir === 0) return lineIssue(CODE.badTuple, `${s.slice(p, vs - 1)}= outside a tuple`);
          if (v > 255) return badNumber(s, p, vs, te);
          if (dir === 1) { if (k === K_TYPE) icmpType = v; else icmpCode = v; }
          else if (k === K_TYPE) rIcmpType = v;
          break;
        case K_ID:
          // `id=` is the ICMP id inside a tuple right after type/code, else the conntrack id (-o id)
          if (!trailer && dir === 1 && icmpType >= 0 && icmpId < 0) {
            if (v > 65535) return badNumber(s, p, vs, te);
            icmpId = v;
          } else if (!trailer && dir === 2 && rIcmpType >= 0 && rIcmpId < 0) {
            if (v > 65535) return badNumber(s, p, vs, te);
            rIcmpId = v;
          } else {
            if (v > 0xffffffff) return badNumber(s, p, vs, te);
            if (id !== undefined) return dup('id');
            id = v;
            trailer = true;
          }
          break;
        case K_MARK:
          if (v > 0xffffffff) return badNumber(s, p, vs, te);
          if (mark !== undefined) return dup('mark');
          mark = v; trailer = true;
          break;
        case K_USE:
          if (v > 0xffffffff) return badNumber(s, p, vs, te);
          if (use !== undefined) return dup('use');
          use = v; trailer = true;
          break;
        case K_DELTA:
          if (deltaTime !== undefined) return dup('delta-time');
          deltaTime = v; trailer = true;
          break;
        case K_ZONE:
          if (v > 0xffff) return badNumber(s, p, vs, te);
          if (zone !== undefined) return dup('zone');
          zone = v; trailer = true;
          break;
        case K_SECMARK:
          if (v > 0xffffffff) return badNumber(s, p, vs, te);
          if (secmark !== undefined) return dup('secmark');
          secmark = v; trailer = true;
          break;
        case K_ZONE_ORIG:
        case K_ZONE_REPLY:
          // directional zones follow their tuple; not kept in the model
          if (trailer || dir !== (k === K_ZONE_ORIG ? 1 : 2)) {
            return lineIssue(CODE.badTuple, `${s.slice(p, vs - 1)}= outside its tuple`);
          }
          if (v > 0xffff) return badNumber(s, p, vs, te);
          break;
        case K_STREAM_TIMEOUT:
          if (dir !== 0 || proto !== 'gre') return lineIssue(CODE.unknownToken, 'stream_timeout= outside a GRE header');
          break;
      }
      p = te;
      continue;
    }

    // Text values and the rare GRE fields.
    te = tokenEnd(s, vs, end);
    switch (k) {
      case K_SECCTX:
        if (secctx !== undefined) return dup('secctx');
        secctx = s.slice(vs, te); trailer = true;
        break;
      case K_HELPER:
        if (helper !== undefined) return dup('helper');
        helper = s.slice(vs, te); trailer = true;
        break;
      case K_LABELS:
        if (labels !== undefined) return dup('labels');
        labels = s.slice(vs, te); trailer = true;
        break;
      case K_SRCKEY:
      case K_DSTKEY:
        // GRE keys (`srckey=0x0`): part of the tuple, not kept in the model
        if (trailer || dir === 0) return lineIssue(CODE.badTuple, `${s.slice(p, vs - 1)}= outside a tuple`);
        if (!isHexWord(s, vs, te)) return badNumber(s, p, vs, te);
        break;
      case K_GRE_TIMEOUT:
        // /proc prints GRE's own `timeout=30, stream_timeout=180` before the tuple
        if (dir !== 0 || proto !== 'gre') return lineIssue(CODE.unknownToken, 'timeout= outside a GRE header');
        if (te - vs < 2 || b[te - 1]! !== 44 || parseDec(s, vs, te - 1) < 0) return badNumber(s, p, vs, te);
        break;
    }
    p = te;
  }

  if (oSrc === null || oDst === null) return lineIssue(CODE.badTuple, 'no original tuple (src= dst=)');
  if (rSrc === null || rDst === null) return lineIssue(CODE.badTuple, 'no reply tuple (src= dst=)');
  const fam: Family = family ?? (n6 === 0 ? 'ipv4' : 'ipv6');
  if (n6 !== (fam === 'ipv6' ? 4 : 0)) return lineIssue(CODE.badAddress, `addresses are not all ${fam}`);
  if ((oSport < 0) !== (oDport < 0) || (rSport < 0) !== (rDport < 0)) {
    return lineIssue(CODE.badTuple, 'a tuple has only one of sport=/dport=');
  }
  if ((oPackets < 0) !== (oBytes < 0) || (rPackets < 0) !== (rBytes < 0)) {
    return lineIssue(CODE.badTuple, 'packets= and bytes= must come together');
  }
  if (icmpType >= 0 && (icmpCode < 0 || icmpId < 0)) {
    return lineIssue(CODE.badTuple, 'ICMP tuple needs type=, code= and id=');
  }

  const orig: Tuple = { src: oSrc, dst: oDst, sport: oSport < 0 ? undefined : oSport, dport: oDport < 0 ? undefined : oDport };
  const reply: Tuple = { src: rSrc, dst: rDst, sport: rSport < 0 ? undefined : rSport, dport: rDport < 0 ? undefined : rDport };
  const origCounters: Counters | undefined = oPackets < 0 ? undefined : { packets: oPackets, bytes: oBytes };
  const replyCounters: Counters | undefined = rPackets < 0 ? undefined : { packets: rPackets, bytes: rBytes };
  // One object shape for every entry (absent optionals are undefined) keeps consumers monomorphic.
  return row<ConntrackEntry>({
    family: fam,
    proto,
    protonum,
    timeout,
    state,
    orig,
    reply,
    origCounters,
    replyCounters,
    icmp: icmpType < 0 ? undefined : { type: icmpType, code: icmpCode, id: icmpId },
    unreplied,
    assured,
    offload,
    hwOffload,
    mark,
    secmark,
    secctx,
    zone,
    deltaTime,
    use,
    id,
    labels,
    helper,
    start,
    stop,
  });
}

/** Parses one line of `conntrack -L [-o extended,…]` or `/proc/net/nf_conntrack`. */
export function parseConntrackEntryLine(line: string): LineOutcome<ConntrackEntry> {
  if (line.length > CONNTRACK_MAX_LINE) {
    return lineIssue(CODE.tooLong, `line is ${line.length} characters, more than ${CONNTRACK_MAX_LINE}`);
  }
  const c0 = line.charCodeAt(0);
  if (c0 === 99 /* c */ || c0 === 110 /* n */) {
    const tool = conntrackToolLine(line);
    if (tool !== undefined) return tool;
  }
  let end = line.length;
  while (end > 0 && line.charCodeAt(end - 1) === SP) end--;
  return scanConntrackEntry(line, 0, end);
}

/** Parses a whole `conntrack -L` capture or `/proc/net/nf_conntrack` text. */
export function parseConntrackList(text: string): ParseResult<ConntrackEntry[]> {
  return parseRows(text, parseConntrackEntryLine);
}

export { CODE as CONNTRACK_ISSUE_CODES };

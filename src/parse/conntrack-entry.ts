// conntrack -L (plain, -o extended[,id][,ktimestamp][,labels]) and /proc/net/nf_conntrack lines.
// A hand-rolled scanner over space-separated tokens: this runs on snapshots of 10^5–10^6 entries,
// so it reads each character about once (keys by first character + compare, numbers and addresses
// checked while finding their end), allocates only what the entry keeps, and never uses a regex per
// token. All the reading is done on a byte copy of the line; string methods are left for slicing
// out what the entry keeps and for building messages. Speed: bench/parse-conntrack.ts.
import type { Counters, ConntrackEntry } from '../model/conntrack.js';
import type { Family, Tuple } from '../model/endpoint.js';
import { SKIP, lineIssue, parseRows, row, type LineOutcome, type ParseResult } from './result.js';

/** Longest line the scanner looks at; real lines stay under 1 kB (IPv6 in /proc's full form ~ 600). */
export const CONNTRACK_MAX_LINE = 8192;

const SP = 32;
const LBRACKET = 91;
const EQ = 61;

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
// than a loop over a word on every token.
function at3(u: Uint8Array, p: number, a: number, b: number, c: number): boolean {
  return u[p] === a && u[p + 1] === b && u[p + 2] === c;
}

function at4(u: Uint8Array, p: number, a: number, b: number, c: number, d: number): boolean {
  return u[p] === a && u[p + 1] === b && u[p + 2] === c && u[p + 3] === d;
}

// The scanner reads character codes from a byte copy of the line: one native encodeInto per line is
// far cheaper than a charCodeAt per character (each re-checks the string's representation; lines
// from split() are sliced strings), and so are byte compares than startsWith/indexOf calls. Every
// compare in the scanner is against ASCII or `> 127`, so a line with other characters is copied with
// each code above 255 stored as 255: same decisions.
// Bytes past the end are zeroed so look-ahead key compares fail like startsWith past the end would.
const LOOKAHEAD = 16;
const CODES = new Uint8Array(CONNTRACK_MAX_LINE + 1024);
const ENCODER = new TextEncoder();

/** The line's character codes (see above); valid until the next call. */
export function conntrackLineCodes(s: string): Uint8Array {
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

/** ASCII text as bytes, to compare with a line's codes. */
function ascii(text: string): Uint8Array {
  const u = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) u[i] = text.charCodeAt(i);
  return u;
}

/** Whether the token b[from, to) is exactly `word`. */
function isWord(b: Uint8Array, from: number, to: number, word: Uint8Array): boolean {
  const n = word.length;
  if (to - from !== n) return false;
  for (let i = 0; i < n; i++) if (b[from + i] !== word[i]) return false;
  return true;
}

/** Whether b holds `word` at p (words are at most LOOKAHEAD long, so past the line this reads zeros). */
function hasAt(b: Uint8Array, p: number, word: Uint8Array): boolean {
  for (let i = 0; i < word.length; i++) if (b[p + i] !== word[i]) return false;
  return true;
}

/** First position of `code` in b[from, to), or -1. */
export function byteIndex(b: Uint8Array, code: number, from: number, to: number): number {
  for (let i = from; i < to; i++) if (b[i] === code) return i;
  return -1;
}

/** End of the token starting at `from`: the next space or `end`. */
function tokenEnd(b: Uint8Array, from: number, end: number): number {
  // Tokens are short (a header word, a flag, a value): a loop beats an indexOf call on the string.
  let i = from;
  while (i < end && b[i] !== SP) i++;
  return i;
}

/** First non-space position at or after `from`, or `end`. */
function skipSpaces(b: Uint8Array, from: number, end: number): number {
  let i = from;
  while (i < end && b[i] === SP) i++;
  return i;
}

/** Decimal digits in b[from, to) as a number; -1 when empty, not all digits or longer than 20 digits (as parseDec). */
export function decimalAt(b: Uint8Array, from: number, to: number): number {
  const n = to - from;
  if (n <= 0 || n > 20) return -1;
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = b[i]! - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

function badNumber(s: string, p: number, vs: number, te: number): LineOutcome<never> {
  return lineIssue('conntrack.bad-number', `${s.slice(p, vs - 1)} is not a valid number: ${JSON.stringify(s.slice(vs, Math.min(te, vs + 60)))}`);
}

/** `0x` and 1–8 hex digits (GRE keys). */
function isHexWord(b: Uint8Array, from: number, to: number): boolean {
  if (to - from < 3 || to - from > 10 || b[from] !== 48 || b[from + 1] !== 120) return false;
  for (let i = from + 2; i < to; i++) {
    const c = b[i]!;
    if (!(isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70))) return false;
  }
  return true;
}

// The words the scanner compares whole tokens or key prefixes with.
const W = {
  ipv: ascii('ipv'),
  unreplied: ascii('[UNREPLIED]'),
  assured: ascii('[ASSURED]'),
  offload: ascii('[OFFLOAD]'),
  hwOffload: ascii('[HW_OFFLOAD]'),
  start: ascii('[start='),
  stop: ascii('[stop='),
  secmark: ascii('secmark='),
  secctx: ascii('secctx='),
  srckey: ascii('srckey='),
  dstkey: ascii('dstkey='),
  streamTimeout: ascii('stream_timeout='),
  code: ascii('code='),
  helper: ascii('helper='),
  labels: ascii('labels='),
  type: ascii('type='),
  greTimeout: ascii('timeout='),
  zone: ascii('zone='),
  zoneOrig: ascii('zone-orig='),
  zoneReply: ascii('zone-reply='),
} as const;

/** A word the scanner hands out as one shared string instead of a slice per line. */
interface Interned {
  readonly text: string;
  readonly bytes: Uint8Array;
}

function interned(...texts: string[]): readonly Interned[] {
  return texts.map((text) => ({ text, bytes: ascii(text) }));
}

// Most frequent first: a lookup stops at the first match.
const L4_NAMES = interned('tcp', 'udp', 'icmp', 'icmpv6', 'gre', 'sctp', 'udplite', 'dccp', 'unknown');
const TCP_STATES = interned('ESTABLISHED', 'TIME_WAIT', 'SYN_SENT', 'SYN_RECV', 'CLOSE', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'NONE', 'SYN_SENT2');

function lookup(b: Uint8Array, from: number, to: number, words: readonly Interned[]): string | null {
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (isWord(b, from, to, w.bytes)) return w.text;
  }
  return null;
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

/** Interned l4 names, so the common case allocates no string. */
function l4Name(s: string, b: Uint8Array, from: number, to: number): string | null {
  const known = lookup(b, from, to, L4_NAMES);
  if (known !== null) return known;
  if (to - from > 16) return null;
  for (let i = from; i < to; i++) {
    const c = b[i]!;
    if (!((c >= 97 && c <= 122) || isDigit(c) || c === 45 || c === 95)) return null;
  }
  return s.slice(from, to);
}

/** Interned TCP state words; other words (SCTP, DCCP) are checked to be upper-case and sliced. */
function stateWord(s: string, b: Uint8Array, from: number, to: number): string | null {
  const known = lookup(b, from, to, TCP_STATES);
  if (known !== null) return known;
  if (to - from > 32) return null;
  for (let i = from; i < to; i++) {
    const c = b[i]!;
    if (!((c >= 65 && c <= 90) || isDigit(c) || c === 95)) return null;
  }
  return s.slice(from, to);
}

/**
 * End of a dotted quad at b[from…] (four octets of 1–3 digits, each at most 255, then a space or
 * `end`), or -1 for anything else, which the general address loop then reads.
 */
/**
 * The value of the address dottedQuadEnd last accepted as an int32 (a.b.c.d → a<<24|b<<16|c<<8|d),
 * or undefined when it was not canonical (an octet with a leading zero names the address differently).
 */
let lastQuad: number | undefined;

function dottedQuadEnd(b: Uint8Array, from: number, end: number): number {
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

/** What scanHeader read: one object reused for every line. */
interface Header {
  family: Family | null;
  proto: string;
  protonum: number;
  timeout: number | null;
  state: string | null;
  /** Where the token loop starts: the space before the first key. */
  next: number;
}

const header: Header = { family: null, proto: '', protonum: 0, timeout: null, state: null, next: 0 };

/**
 * Reads `[l3name l3num] l4name l4num [timeout] [state]` into `header`, or returns the issue. It is a
 * function of its own because V8 inlines helpers into a function only up to a budget of bytecode:
 * the header's helpers would use up what the token loop's compares need.
 */
function scanHeader(s: string, b: Uint8Array, from: number, end: number): LineOutcome<never> | null {
  let p = skipSpaces(b, from, end);
  if (p >= end) return lineIssue(CODE.badProto, 'empty entry: no protocol name');
  let te = tokenEnd(b, p, end);

  let family: Family | null = null;
  if (te - p === 4 && hasAt(b, p, W.ipv)) {
    const v = b[p + 3]!;
    family = v === 52 ? 'ipv4' : v === 54 ? 'ipv6' : null;
    if (family === null) return lineIssue(CODE.badL3, `unknown l3 name ${quote(s, p, te)}`);
    p = skipSpaces(b, te, end);
    te = tokenEnd(b, p, end);
    const l3num = decimalAt(b, p, te);
    if (l3num !== (family === 'ipv4' ? 2 : 10)) {
      return lineIssue(CODE.badL3, `l3 number ${quote(s, p, te)} does not match ${family}`);
    }
    p = skipSpaces(b, te, end);
    te = tokenEnd(b, p, end);
  }

  const proto = l4Name(s, b, p, te);
  if (proto === null) return lineIssue(CODE.badProto, `not an l4 protocol name: ${quote(s, p, te)}`);
  p = skipSpaces(b, te, end);
  te = tokenEnd(b, p, end);
  const protonum = decimalAt(b, p, te);
  if (protonum < 0 || protonum > 255) {
    return lineIssue(CODE.badProto, `l4 protocol number is not 0-255: ${quote(s, p, te)}`);
  }
  p = skipSpaces(b, te, end);
  te = tokenEnd(b, p, end);

  let timeout: number | null = null;
  if (p < end && isDigit(b[p]!)) {
    timeout = decimalAt(b, p, te);
    if (timeout < 0) return lineIssue(CODE.badNumber, `timeout is not a number: ${quote(s, p, te)}`);
    p = skipSpaces(b, te, end);
    te = tokenEnd(b, p, end);
  }

  let state: string | null = null;
  if (p < end) {
    // keys are lower case; a state word is upper case (anything else here is not a state)
    const c = b[p]!;
    let isState = (c >= 65 && c <= 90) || c > 127;
    if (c >= 97 && c <= 122) isState = byteIndex(b, EQ, p, te) === -1;
    if (isState) {
      state = stateWord(s, b, p, te);
      if (state === null) return lineIssue(CODE.badState, `not a state word: ${quote(s, p, te)}`);
      p = te;
    }
  }
  header.family = family;
  header.proto = proto;
  header.protonum = protonum;
  header.timeout = timeout;
  header.state = state;
  header.next = state === null ? p - 1 : p;
  return null;
}

/**
 * Scans one entry in line[from, end): the layout shared by -L, -E (after the event type) and /proc.
 * Never throws; anything it does not know becomes an issue.
 */
export function scanConntrackEntry(s: string, from: number, end: number): LineOutcome<ConntrackEntry> {
  return scanConntrackCodes(s, conntrackLineCodes(s), from, end);
}

/** scanConntrackEntry on a line whose codes the caller already has (from conntrackLineCodes(s)). */
export function scanConntrackCodes(s: string, b: Uint8Array, from: number, end: number): LineOutcome<ConntrackEntry> {
  const bad = scanHeader(s, b, from, end);
  if (bad !== null) return bad;
  const family = header.family;
  const proto = header.proto;
  const protonum = header.protonum;
  const timeout = header.timeout;
  const state = header.state;
  // the token loop starts on the space before a token
  let p = header.next;
  let te = 0;

  // --- tuples, counters, flags and the trailer
  let oSrc: string | null = null;
  let oDst: string | null = null;
  let oSrc4: number | undefined;
  let oDst4: number | undefined;
  let rSrc4: number | undefined;
  let rDst4: number | undefined;
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
      te = tokenEnd(b, p, end);
      if (isWord(b, p, te, W.assured)) { assured = true; trailer = true; }
      else if (isWord(b, p, te, W.unreplied)) {
        if (dir !== 1) return lineIssue(CODE.badTuple, '[UNREPLIED] is not between the two tuples');
        unreplied = true;
      } else if (isWord(b, p, te, W.offload)) { offload = true; trailer = true; }
      else if (isWord(b, p, te, W.hwOffload)) { hwOffload = true; trailer = true; }
      else if (hasAt(b, p, W.start) || hasAt(b, p, W.stop)) {
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

    // Which key: the first character picks the candidates, byte compares check the whole key with its '='.
    let k = 0;
    let vs = p;
    switch (c) {
      case 115: // s; the second character saves a failed compare on the hot keys
        if (b[p + 1]! === 112) { if (at4(b, p + 2, 111, 114, 116, 61)) { k = K_SPORT; vs += 6; } }
        else if (at3(b, p + 1, 114, 99, 61)) { k = K_SRC; vs += 4; }
        else if (hasAt(b, p, W.secmark)) { k = K_SECMARK; vs += 8; }
        else if (hasAt(b, p, W.secctx)) { k = K_SECCTX; vs += 7; }
        else if (hasAt(b, p, W.srckey)) { k = K_SRCKEY; vs += 7; }
        else if (hasAt(b, p, W.streamTimeout)) { k = K_STREAM_TIMEOUT; vs += 15; }
        break;
      case 100: // d
        c = b[p + 1]!;
        if (c === 112) { if (at4(b, p + 2, 111, 114, 116, 61)) { k = K_DPORT; vs += 6; } }
        else if (c === 101) { if (at3(b, p + 2, 108, 116, 97) && at3(b, p + 5, 45, 116, 105) && at3(b, p + 8, 109, 101, 61)) { k = K_DELTA; vs += 11; } }
        else if (at3(b, p + 1, 115, 116, 61)) { k = K_DST; vs += 4; }
        else if (hasAt(b, p, W.dstkey)) { k = K_DSTKEY; vs += 7; }
        break;
      case 112: if (at4(b, p + 1, 97, 99, 107, 101) && at3(b, p + 5, 116, 115, 61)) { k = K_PACKETS; vs += 8; } break;
      case 98: if (at4(b, p + 1, 121, 116, 101, 115) && b[p + 5]! === 61) { k = K_BYTES; vs += 6; } break;
      case 109: if (at4(b, p + 1, 97, 114, 107, 61)) { k = K_MARK; vs += 5; } break;
      case 117: if (at3(b, p + 1, 115, 101, 61)) { k = K_USE; vs += 4; } break;
      case 105: if (b[p + 1]! === 100 && b[p + 2]! === 61) { k = K_ID; vs += 3; } break;
      case 99: if (hasAt(b, p, W.code)) { k = K_CODE; vs += 5; } break;
      case 104: if (hasAt(b, p, W.helper)) { k = K_HELPER; vs += 7; } break;
      case 108: if (hasAt(b, p, W.labels)) { k = K_LABELS; vs += 7; } break;
      case 116: // t
        if (hasAt(b, p, W.type)) { k = K_TYPE; vs += 5; }
        else if (hasAt(b, p, W.greTimeout)) { k = K_GRE_TIMEOUT; vs += 8; }
        break;
      case 122: // z
        if (hasAt(b, p, W.zone)) { k = K_ZONE; vs += 5; }
        else if (hasAt(b, p, W.zoneOrig)) { k = K_ZONE_ORIG; vs += 10; }
        else if (hasAt(b, p, W.zoneReply)) { k = K_ZONE_REPLY; vs += 11; }
        break;
    }
    // a key found this way lies before `end`: `end` is at a space or the end of the line
    if (k === 0 || vs > end) {
      te = tokenEnd(b, p, end);
      const e = byteIndex(b, EQ, p, te);
      if (e === -1) return lineIssue(CODE.unknownToken, `expected key=value, got ${quote(s, p, te)}`);
      return lineIssue(CODE.unknownToken, `unknown field ${quote(s, p, e)}`);
    }

    if (k <= K_DST) {
      // An address: a plain dotted quad by dottedQuadEnd; anything else in one pass that finds its
      // end and checks IPv4 octets / IPv6 characters.
      let a: string | null = null;
      let a4: number | undefined;
      te = dottedQuadEnd(b, vs, end);
      if (te >= 0) {
        a = s.slice(vs, te);
        a4 = lastQuad;
      } else {
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
        if (ok4 && dots === 3 && digits > 0) a = s.slice(vs, te);
        else if (ok6 && colons >= 2 && colons <= 7 && te - vs <= 45) {
          n6++;
          // /proc/net/nf_conntrack prints IPv6 with %pI6 (8 groups of 4 digits); conntrack(8) uses inet_ntop
          a = te - vs === 39 && colons === 7 ? compressIPv6(s.slice(vs, te)) : s.slice(vs, te);
        }
      }
      const name = k === K_SRC ? 'src' : 'dst';
      if (a === null) return lineIssue(CODE.badAddress, `${name} is not an IP address: ${quote(s, vs, tokenEnd(b, vs, end))}`);
      if (trailer) return lineIssue(CODE.badTuple, `${name}= after the reply tuple`);
      if (k === K_SRC) {
        if (dir === 0) { oSrc = a; oSrc4 = a4; dir = 1; }
        else if (dir === 1) {
          if (oDst === null) return lineIssue(CODE.badTuple, 'original tuple has no dst=');
          rSrc = a; rSrc4 = a4; dir = 2;
        } else return lineIssue(CODE.badTuple, 'more than two tuples (third src=)');
      } else if (dir === 1 && oDst === null) { oDst = a; oDst4 = a4; }
      else if (dir === 2 && rDst === null) { rDst = a; rDst4 = a4; }
      else return lineIssue(CODE.badTuple, 'dst= without a preceding src=');
      p = te;
      continue;
    }

    if (k < K_SECCTX) {
      // A decimal number, parsed while looking for its end. Up to 9 digits the sum stays a small
      // integer; ids and byte counts go on in doubles. One loop for both would do every digit in
      // doubles (V8 types the sum by the largest value it has seen).
      let v = 0;
      let i = vs;
      const short = Math.min(vs + 9, end);
      for (; i < short; i++) {
        const d = b[i]! - 48;
        if (d < 0 || d > 9) break;
        v = v * 10 + d;
      }
      if (i === short) {
        for (; i < end; i++) {
          const d = b[i]! - 48;
          if (d < 0 || d > 9) break;
          v = v * 10 + d;
        }
      }
      te = i;
      if (i === vs || i - vs > 20 || (i < end && b[i]! !== SP)) {
        return lineIssue(CODE.badNumber, `${s.slice(p, vs - 1)} is not a valid number: ${quote(s, vs, tokenEnd(b, vs, end))}`);
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
    te = tokenEnd(b, vs, end);
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
        if (!isHexWord(b, vs, te)) return badNumber(s, p, vs, te);
        break;
      case K_GRE_TIMEOUT:
        // /proc prints GRE's own `timeout=30, stream_timeout=180` before the tuple
        if (dir !== 0 || proto !== 'gre') return lineIssue(CODE.unknownToken, 'timeout= outside a GRE header');
        if (te - vs < 2 || b[te - 1]! !== 44 || decimalAt(b, vs, te - 1) < 0) return badNumber(s, p, vs, te);
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

  const orig: Tuple = { src: oSrc, dst: oDst, sport: oSport < 0 ? undefined : oSport, dport: oDport < 0 ? undefined : oDport, src4: oSrc4, dst4: oDst4 };
  const reply: Tuple = { src: rSrc, dst: rDst, sport: rSport < 0 ? undefined : rSport, dport: rDport < 0 ? undefined : rDport, src4: rSrc4, dst4: rDst4 };
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
  const b = conntrackLineCodes(line);
  const c0 = b[0]!;
  if (c0 === 99 /* c */ || c0 === 110 /* n */) {
    const tool = conntrackToolLine(line);
    if (tool !== undefined) return tool;
  }
  let end = line.length;
  while (end > 0 && b[end - 1]! === SP) end--;
  return scanConntrackCodes(line, b, 0, end);
}

/** Parses a whole `conntrack -L` capture or `/proc/net/nf_conntrack` text. */
export function parseConntrackList(text: string): ParseResult<ConntrackEntry[]> {
  return parseRows(text, parseConntrackEntryLine);
}

export { CODE as CONNTRACK_ISSUE_CODES };

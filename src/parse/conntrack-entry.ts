// conntrack -L (plain, -o extended[,id][,ktimestamp][,labels]) and /proc/net/nf_conntrack lines.
// A hand-rolled scanner over space-separated tokens: this runs on snapshots of 10^5–10^6 entries,
// so it reads each character about once (keys by first character + compare, numbers and addresses
// checked while finding their end), allocates only what the entry keeps, and never uses a regex per
// token. All the reading is done on a byte copy of the line; string methods are left for slicing
// out what the entry keeps and for building messages. Speed: bench/parse-conntrack.ts.
import type { Counters, ConntrackEntry } from '../model/conntrack.js';
import type { Family, Tuple } from '../model/endpoint.js';
import {
  ascii,
  at3,
  at4,
  byteIndex,
  decimalAt,
  hasAt,
  interned,
  isDigit,
  isHexWord,
  isWord,
  lineCodes,
  lookup,
  quote,
  skipSpaces,
  tokenEnd,
} from './byte-lexer.js';
import { conntrackToolLine } from './conntrack-tool-line.js';
import { canonicalIpv6Codes, dottedQuadEnd, lastDottedQuad } from './ip-text.js';
import { lineIssue, parseRows, row, type LineOutcome, type ParseResult } from './result.js';

// Character codes the token loop compares with, as local constants: TurboFan folds a module's own
// `const` into the code, but reads an imported binding from its module cell on every use.
const SP = 32;
const LBRACKET = 91;
const EQ = 61;

/** Longest line the scanner looks at; real lines stay under 1 kB (IPv6 in /proc's full form ~ 600). */
export const CONNTRACK_MAX_LINE = 8192;

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

function badNumber(s: string, p: number, vs: number, te: number): LineOutcome<never> {
  return lineIssue(
    'conntrack.bad-number',
    `${s.slice(p, vs - 1)} is not a valid number: ${JSON.stringify(s.slice(vs, Math.min(te, vs + 60)))}`,
  );
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

// Every name kernel l4proto_name() and libnetfilter_conntrack proto2str print, most frequent first.
const L4_NAMES = interned(
  'tcp',
  'udp',
  'icmp',
  'icmpv6',
  'gre',
  'sctp',
  'udplite',
  'dccp',
  'igmp',
  'unknown',
);
const TCP_STATES = interned(
  'ESTABLISHED',
  'TIME_WAIT',
  'SYN_SENT',
  'SYN_RECV',
  'CLOSE',
  'FIN_WAIT',
  'CLOSE_WAIT',
  'LAST_ACK',
  'NONE',
  'SYN_SENT2',
);

/** The number printed beside each l4 name; `unknown` (-1) goes with any number. */
const L4_NUMBERS: Readonly<Record<string, number>> = {
  tcp: 6,
  udp: 17,
  icmp: 1,
  icmpv6: 58,
  gre: 47,
  sctp: 132,
  udplite: 136,
  dccp: 33,
  igmp: 2,
  unknown: -1,
};

const CODE = {
  tooLong: 'conntrack.line-too-long',
  badL3: 'conntrack.bad-l3',
  badProto: 'conntrack.bad-proto',
  l4Mismatch: 'conntrack.l4-mismatch',
  badNumber: 'conntrack.bad-number',
  badState: 'conntrack.bad-state',
  badAddress: 'conntrack.bad-address',
  badTuple: 'conntrack.bad-tuple',
  unknownToken: 'conntrack.unknown-token',
  duplicateField: 'conntrack.duplicate-field',
  unterminated: 'conntrack.unterminated-bracket',
  toolMessage: 'conntrack.tool-message',
} as const;

function dup(key: string): LineOutcome<never> {
  return lineIssue(CODE.duplicateField, `${key}= appears twice`);
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

const header: Header = {
  family: null,
  proto: '',
  protonum: 0,
  timeout: null,
  state: null,
  next: 0,
};

/**
 * Reads `[l3name l3num] l4name l4num [timeout] [state]` into `header`, or returns the issue. It is a
 * function of its own because V8 inlines helpers into a function only up to a budget of bytecode:
 * the header's helpers would use up what the token loop's compares need.
 */
function scanHeader(
  s: string,
  b: Uint8Array,
  from: number,
  end: number,
): LineOutcome<never> | null {
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

  // a copy that lost the name's first letter (`cp 6`) or the whole name (`6 46`) is no l4 name
  const proto = lookup(b, p, te, L4_NAMES);
  if (proto === null)
    return lineIssue(CODE.badProto, `not an l4 protocol name: ${quote(s, p, te)}`);
  p = skipSpaces(b, te, end);
  te = tokenEnd(b, p, end);
  const protonum = decimalAt(b, p, te);
  if (protonum < 0 || protonum > 255) {
    return lineIssue(CODE.badProto, `l4 protocol number is not 0-255: ${quote(s, p, te)}`);
  }
  const wanted = L4_NUMBERS[proto]!;
  if (protonum !== wanted && wanted >= 0) {
    return lineIssue(CODE.l4Mismatch, `${proto} is protocol ${wanted}, not ${protonum}`);
  }
  p = skipSpaces(b, te, end);
  te = tokenEnd(b, p, end);

  let timeout: number | null = null;
  if (p < end && isDigit(b[p]!)) {
    timeout = decimalAt(b, p, te);
    if (timeout < 0)
      return lineIssue(CODE.badNumber, `timeout is not a number: ${quote(s, p, te)}`);
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
export function scanConntrackEntry(
  s: string,
  from: number,
  end: number,
): LineOutcome<ConntrackEntry> {
  return scanConntrackCodes(s, lineCodes(s), from, end);
}

/** scanConntrackEntry on a line whose codes the caller already has (from lineCodes(s)). */
export function scanConntrackCodes(
  s: string,
  b: Uint8Array,
  from: number,
  end: number,
): LineOutcome<ConntrackEntry> {
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
      if (isWord(b, p, te, W.assured)) {
        assured = true;
        trailer = true;
      } else if (isWord(b, p, te, W.unreplied)) {
        if (dir !== 1) return lineIssue(CODE.badTuple, '[UNREPLIED] is not between the two tuples');
        unreplied = true;
      } else if (isWord(b, p, te, W.offload)) {
        offload = true;
        trailer = true;
      } else if (isWord(b, p, te, W.hwOffload)) {
        hwOffload = true;
        trailer = true;
      } else if (hasAt(b, p, W.start) || hasAt(b, p, W.stop)) {
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
        if (b[p + 1]! === 112) {
          if (at4(b, p + 2, 111, 114, 116, 61)) {
            k = K_SPORT;
            vs += 6;
          }
        } else if (at3(b, p + 1, 114, 99, 61)) {
          k = K_SRC;
          vs += 4;
        } else if (hasAt(b, p, W.secmark)) {
          k = K_SECMARK;
          vs += 8;
        } else if (hasAt(b, p, W.secctx)) {
          k = K_SECCTX;
          vs += 7;
        } else if (hasAt(b, p, W.srckey)) {
          k = K_SRCKEY;
          vs += 7;
        } else if (hasAt(b, p, W.streamTimeout)) {
          k = K_STREAM_TIMEOUT;
          vs += 15;
        }
        break;
      case 100: // d
        c = b[p + 1]!;
        if (c === 112) {
          if (at4(b, p + 2, 111, 114, 116, 61)) {
            k = K_DPORT;
            vs += 6;
          }
        } else if (c === 101) {
          if (
            at3(b, p + 2, 108, 116, 97) &&
            at3(b, p + 5, 45, 116, 105) &&
            at3(b, p + 8, 109, 101, 61)
          ) {
            k = K_DELTA;
            vs += 11;
          }
        } else if (at3(b, p + 1, 115, 116, 61)) {
          k = K_DST;
          vs += 4;
        } else if (hasAt(b, p, W.dstkey)) {
          k = K_DSTKEY;
          vs += 7;
        }
        break;
      case 112:
        if (at4(b, p + 1, 97, 99, 107, 101) && at3(b, p + 5, 116, 115, 61)) {
          k = K_PACKETS;
          vs += 8;
        }
        break;
      case 98:
        if (at4(b, p + 1, 121, 116, 101, 115) && b[p + 5]! === 61) {
          k = K_BYTES;
          vs += 6;
        }
        break;
      case 109:
        if (at4(b, p + 1, 97, 114, 107, 61)) {
          k = K_MARK;
          vs += 5;
        }
        break;
      case 117:
        if (at3(b, p + 1, 115, 101, 61)) {
          k = K_USE;
          vs += 4;
        }
        break;
      case 105:
        if (b[p + 1]! === 100 && b[p + 2]! === 61) {
          k = K_ID;
          vs += 3;
        }
        break;
      case 99:
        if (hasAt(b, p, W.code)) {
          k = K_CODE;
          vs += 5;
        }
        break;
      case 104:
        if (hasAt(b, p, W.helper)) {
          k = K_HELPER;
          vs += 7;
        }
        break;
      case 108:
        if (hasAt(b, p, W.labels)) {
          k = K_LABELS;
          vs += 7;
        }
        break;
      case 116: // t
        if (hasAt(b, p, W.type)) {
          k = K_TYPE;
          vs += 5;
        } else if (hasAt(b, p, W.greTimeout)) {
          k = K_GRE_TIMEOUT;
          vs += 8;
        }
        break;
      case 122: // z
        if (hasAt(b, p, W.zone)) {
          k = K_ZONE;
          vs += 5;
        } else if (hasAt(b, p, W.zoneOrig)) {
          k = K_ZONE_ORIG;
          vs += 10;
        } else if (hasAt(b, p, W.zoneReply)) {
          k = K_ZONE_REPLY;
          vs += 11;
        }
        break;
    }
    // a key found this way lies before `end`: `end` is at a space or the end of the line
    if (k === 0 || vs > end) {
      te = tokenEnd(b, p, end);
      const e = byteIndex(b, EQ, p, te);
      if (e === -1)
        return lineIssue(CODE.unknownToken, `expected key=value, got ${quote(s, p, te)}`);
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
        a4 = lastDottedQuad();
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
          } else if (ch === 58) {
            colons++;
            ok4 = false;
          } else if ((ch >= 97 && ch <= 102) || (ch >= 65 && ch <= 70)) ok4 = false;
          else {
            ok4 = false;
            ok6 = false;
          }
        }
        te = i;
        if (ok4 && dots === 3 && digits > 0) a = s.slice(vs, te);
        else if (ok6 && colons >= 2 && colons <= 7 && te - vs <= 45) {
          n6++;
          // /proc/net/nf_conntrack prints IPv6 with %pI6 (8 groups of 4 digits); conntrack(8) uses inet_ntop
          a = canonicalIpv6Codes(s, b, vs, te);
        }
      }
      const name = k === K_SRC ? 'src' : 'dst';
      if (a === null)
        return lineIssue(
          CODE.badAddress,
          `${name} is not an IP address: ${quote(s, vs, tokenEnd(b, vs, end))}`,
        );
      if (trailer) return lineIssue(CODE.badTuple, `${name}= after the reply tuple`);
      if (k === K_SRC) {
        if (dir === 0) {
          oSrc = a;
          oSrc4 = a4;
          dir = 1;
        } else if (dir === 1) {
          if (oDst === null) return lineIssue(CODE.badTuple, 'original tuple has no dst=');
          rSrc = a;
          rSrc4 = a4;
          dir = 2;
        } else return lineIssue(CODE.badTuple, 'more than two tuples (third src=)');
      } else if (dir === 1 && oDst === null) {
        oDst = a;
        oDst4 = a4;
      } else if (dir === 2 && rDst === null) {
        rDst = a;
        rDst4 = a4;
      } else return lineIssue(CODE.badTuple, 'dst= without a preceding src=');
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
        return lineIssue(
          CODE.badNumber,
          `${s.slice(p, vs - 1)} is not a valid number: ${quote(s, vs, tokenEnd(b, vs, end))}`,
        );
      }
      switch (k) {
        case K_SPORT:
        case K_DPORT:
          if (trailer || dir === 0)
            return lineIssue(CODE.badTuple, `${s.slice(p, vs - 1)}= outside a tuple`);
          if (v > 65535) return badNumber(s, p, vs, te);
          if (k === K_SPORT) {
            if (dir === 1) oSport = v;
            else rSport = v;
          } else if (dir === 1) oDport = v;
          else rDport = v;
          break;
        case K_PACKETS:
          if (trailer || dir === 0) return lineIssue(CODE.badTuple, 'packets= outside a tuple');
          if ((dir === 1 ? oPackets : rPackets) >= 0) return dup('packets');
          if (dir === 1) oPackets = v;
          else rPackets = v;
          break;
        case K_BYTES:
          if (trailer || dir === 0) return lineIssue(CODE.badTuple, 'bytes= outside a tuple');
          if ((dir === 1 ? oBytes : rBytes) >= 0) return dup('bytes');
          if (dir === 1) oBytes = v;
          else rBytes = v;
          break;
        case K_TYPE:
        case K_CODE:
          if (trailer || dir === 0)
            return lineIssue(CODE.badTuple, `${s.slice(p, vs - 1)}= outside a tuple`);
          if (v > 255) return badNumber(s, p, vs, te);
          if (dir === 1) {
            if (k === K_TYPE) icmpType = v;
            else icmpCode = v;
          } else if (k === K_TYPE) rIcmpType = v;
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
          mark = v;
          trailer = true;
          break;
        case K_USE:
          if (v > 0xffffffff) return badNumber(s, p, vs, te);
          if (use !== undefined) return dup('use');
          use = v;
          trailer = true;
          break;
        case K_DELTA:
          if (deltaTime !== undefined) return dup('delta-time');
          deltaTime = v;
          trailer = true;
          break;
        case K_ZONE:
          if (v > 0xffff) return badNumber(s, p, vs, te);
          if (zone !== undefined) return dup('zone');
          zone = v;
          trailer = true;
          break;
        case K_SECMARK:
          if (v > 0xffffffff) return badNumber(s, p, vs, te);
          if (secmark !== undefined) return dup('secmark');
          secmark = v;
          trailer = true;
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
          if (dir !== 0 || proto !== 'gre')
            return lineIssue(CODE.unknownToken, 'stream_timeout= outside a GRE header');
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
        secctx = s.slice(vs, te);
        trailer = true;
        break;
      case K_HELPER:
        if (helper !== undefined) return dup('helper');
        helper = s.slice(vs, te);
        trailer = true;
        break;
      case K_LABELS:
        if (labels !== undefined) return dup('labels');
        labels = s.slice(vs, te);
        trailer = true;
        break;
      case K_SRCKEY:
      case K_DSTKEY:
        // GRE keys (`srckey=0x0`): part of the tuple, not kept in the model
        if (trailer || dir === 0)
          return lineIssue(CODE.badTuple, `${s.slice(p, vs - 1)}= outside a tuple`);
        if (!isHexWord(b, vs, te)) return badNumber(s, p, vs, te);
        break;
      case K_GRE_TIMEOUT:
        // /proc prints GRE's own `timeout=30, stream_timeout=180` before the tuple
        if (dir !== 0 || proto !== 'gre')
          return lineIssue(CODE.unknownToken, 'timeout= outside a GRE header');
        if (te - vs < 2 || b[te - 1]! !== 44 || decimalAt(b, vs, te - 1) < 0)
          return badNumber(s, p, vs, te);
        break;
    }
    p = te;
  }

  if (oSrc === null || oDst === null)
    return lineIssue(CODE.badTuple, 'no original tuple (src= dst=)');
  if (rSrc === null || rDst === null) return lineIssue(CODE.badTuple, 'no reply tuple (src= dst=)');
  const fam: Family = family ?? (n6 === 0 ? 'ipv4' : 'ipv6');
  if (n6 !== (fam === 'ipv6' ? 4 : 0))
    return lineIssue(CODE.badAddress, `addresses are not all ${fam}`);
  if (oSport < 0 !== oDport < 0 || rSport < 0 !== rDport < 0) {
    return lineIssue(CODE.badTuple, 'a tuple has only one of sport=/dport=');
  }
  if (oPackets < 0 !== oBytes < 0 || rPackets < 0 !== rBytes < 0) {
    return lineIssue(CODE.badTuple, 'packets= and bytes= must come together');
  }
  if (icmpType >= 0 && (icmpCode < 0 || icmpId < 0)) {
    return lineIssue(CODE.badTuple, 'ICMP tuple needs type=, code= and id=');
  }

  const orig: Tuple = {
    src: oSrc,
    dst: oDst,
    sport: oSport < 0 ? undefined : oSport,
    dport: oDport < 0 ? undefined : oDport,
    src4: oSrc4,
    dst4: oDst4,
  };
  const reply: Tuple = {
    src: rSrc,
    dst: rDst,
    sport: rSport < 0 ? undefined : rSport,
    dport: rDport < 0 ? undefined : rDport,
    src4: rSrc4,
    dst4: rDst4,
  };
  const origCounters: Counters | undefined =
    oPackets < 0 ? undefined : { packets: oPackets, bytes: oBytes };
  const replyCounters: Counters | undefined =
    rPackets < 0 ? undefined : { packets: rPackets, bytes: rBytes };
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
    return lineIssue(
      CODE.tooLong,
      `line is ${line.length} characters, more than ${CONNTRACK_MAX_LINE}`,
    );
  }
  const b = lineCodes(line);
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

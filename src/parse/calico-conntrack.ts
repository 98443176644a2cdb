// `calico-node -bpf conntrack dump` (felix/cmd/calico-bpf/commands/conntrack.go), both forms:
// - `--raw`: `%v -> %v` of the map's key and value (conntrack/v4/map.go Key.String and
//   Value.String: `ConntrackKey{proto=6 A:pa <-> B:pb} -> Entry{Type:0, LastSeen:NS, Flags: <none>
//   Data: {A2B:{…} B2A:{…} OrigDst:… OrigSrc:… OrigPort:… OrigSPort:… TunIP:…}}`, a NAT forward
//   entry `REVKey: ConntrackKey{…} NATSPort: N`), then dumpExtra's ` Active ago DUR` and TCP state;
// - default (prettyDump): `TCP SRC:sp -> DST:dp ` (a NAT reverse entry with the pre-DNAT hop in the
//   middle, `TCP SRC:sp -> VIP:vp -> BACKEND:bp `), optional notes, ` Active ago DUR` and the state.
//   Forward entries print nothing there.
import {
  calicoSnapshot,
  type CalicoCtEntry,
  type CalicoCtSnapshot,
  type CalicoCtType,
  type CalicoEndpoint,
  type CalicoTcpState,
} from '../model/calico.js';
import { goDurationSec } from './calico-duration.js';
import { canonicalIpv6 } from './ip-text.js';
import { lineIssue, parseRows, row, SKIP, type LineOutcome, type ParseResult } from './result.js';

const BAD = 'calico-ct.bad-line';
const MAX_LINE = 4096;

const KEY =
  /^ConntrackKey\{proto=(\d{1,3}) ([0-9a-fA-F.:]{2,45}):(\d{1,5}) <-> ([0-9a-fA-F.:]{2,45}):(\d{1,5})\}$/;
const HEAD =
  /^Entry\{Type:(\d{1,3}), LastSeen:(-?\d{1,20}), Flags: (<none>|0x[0-9a-f]{1,8}(?: [A-Za-z-]{1,20}){0,24}) /;
const DATA =
  /^Data: \{A2B:\{([^{}]{0,300})\} B2A:\{([^{}]{0,300})\} OrigDst:(\S{1,45}) OrigSrc:(\S{1,45}) OrigPort:(\d{1,5}) OrigSPort:(\d{1,5}) TunIP:(\S{1,45})\}\}$/;
const REV = /^REVKey: (ConntrackKey\{[^{}]{1,120}\}) NATSPort: (\d{1,5})\}$/;
const PRETTY_PROTO = /^(TCP|UDP|ICMP|ICMP6|UNKNOWN|Proto-\d{1,3}) /;
const STATES: ReadonlySet<string> = new Set(['ESTABLISHED', 'SYN-SENT', 'CLOSED', 'RESET']);
const ACTIVE = ' Active ago ';
const TYPES: readonly CalicoCtType[] = ['normal', 'nat-forward', 'nat-reverse'];

/** One line of the dump: an entry, or an issue naming what is wrong with it. */
export function parseCalicoCtLine(line: string): LineOutcome<CalicoCtEntry> {
  if (line.trim() === '') return SKIP;
  if (line.length > MAX_LINE) return lineIssue(BAD, `line longer than ${MAX_LINE} characters`);
  const a = line.lastIndexOf(ACTIVE);
  if (a < 0) return lineIssue(BAD, 'no "Active ago" in the line');
  const tail = line.slice(a + ACTIVE.length).split(' ');
  const ago = goDurationSec(tail[0] ?? '');
  if (ago === undefined) return lineIssue(BAD, `"${tail[0] ?? ''}" is not a Go duration`);
  const word = tail[1];
  if (tail.length > 2 || (word !== undefined && !STATES.has(word)))
    return lineIssue(BAD, `unexpected text after the age: "${tail.slice(1).join(' ')}"`);
  const timing = {
    // A packet seen while the dump ran gives a LastSeen after the dump's own clock reading.
    activeAgoSec: Math.max(0, ago),
    ...(word === undefined ? {} : { tcpState: word as CalicoTcpState }),
  };
  const head = line.slice(0, a);
  return head.startsWith('ConntrackKey{') ? rawEntry(head, timing) : prettyEntry(head, timing);
}

/** The whole dump (either form), one entry per line. */
export function parseCalicoConntrack(text: string): ParseResult<CalicoCtEntry[]> {
  return parseRows(text, parseCalicoCtLine);
}

/** The whole dump as a snapshot indexed for joining flows (model/calico.ts calicoFlowEntries). */
export function parseCalicoDump(text: string): ParseResult<CalicoCtSnapshot> {
  const r = parseCalicoConntrack(text);
  return { value: calicoSnapshot(r.value), issues: r.issues };
}

type Timing = { readonly activeAgoSec: number; readonly tcpState?: CalicoTcpState };

function rawEntry(head: string, timing: Timing): LineOutcome<CalicoCtEntry> {
  const arrow = head.indexOf('} -> Entry{');
  if (arrow < 0) return lineIssue(BAD, 'expected "ConntrackKey{…} -> Entry{…}"');
  const key = parseKey(head.slice(0, arrow + 1));
  if (!key) return lineIssue(BAD, `bad key "${head.slice(0, arrow + 1)}"`);
  const value = head.slice(arrow + 5);
  const h = HEAD.exec(value);
  if (!h) return lineIssue(BAD, 'bad Entry{Type:…, LastSeen:…, Flags: …} head');
  const type = TYPES[Number(h[1])];
  if (type === undefined) return lineIssue(BAD, `unknown entry type ${h[1]}`);
  const flags = h[3] === '<none>' ? [] : h[3]!.split(' ').slice(1);
  const lastSeenNs = Number(h[2]);
  const rest = value.slice(h[0].length);
  const common = { form: 'raw' as const, proto: key.proto, type, flags, lastSeenNs, ...timing };
  if (type === 'nat-forward') {
    const r = REV.exec(rest);
    const rk = r ? parseKey(r[1]!) : undefined;
    if (!rk) return lineIssue(BAD, 'NAT forward entry without a readable REVKey');
    // The client is the endpoint the forward key shares with the reverse key.
    const clientIsB = sameEp(key.b, rk.a) || sameEp(key.b, rk.b);
    return row({
      ...common,
      src: clientIsB ? key.b : key.a,
      dst: clientIsB ? key.a : key.b,
      oriented: clientIsB || sameEp(key.a, rk.a) || sameEp(key.a, rk.b),
      revKey: { a: rk.a, b: rk.b },
    });
  }
  const d = DATA.exec(rest);
  if (!d) return lineIssue(BAD, 'bad Data: {A2B:{…} B2A:{…} …} of an entry');
  const legA = leg(d[1]!);
  const legB = leg(d[2]!);
  if (!legA || !legB) return lineIssue(BAD, 'bad A2B/B2A leg');
  // The leg that opened the flow names the client; the B-A flag says the same for normal entries.
  const bOpened = legB.Opener === 'true' || (legA.Opener !== 'true' && flags.includes('B-A'));
  const oriented = legA.Opener === 'true' || legB.Opener === 'true' || flags.includes('B-A');
  const origDst = ip(d[3]!);
  const tun = ip(d[7]!);
  const origPort = Number(d[5]);
  return row({
    ...common,
    src: bOpened ? key.b : key.a,
    dst: bOpened ? key.a : key.b,
    oriented,
    ...(type === 'nat-reverse' && origDst && !isVoid(origDst)
      ? { origDst: { addr: origDst, port: origPort } }
      : {}),
    ...(tun && !isVoid(tun) ? { tunnelIp: tun } : {}),
  });
}

function prettyEntry(head: string, timing: Timing): LineOutcome<CalicoCtEntry> {
  const p = PRETTY_PROTO.exec(head);
  if (!p) return lineIssue(BAD, 'expected "PROTO SRC:PORT -> DST:PORT" or "ConntrackKey{…}"');
  const proto = protoNumber(p[1]!);
  let rest = head.slice(p[0].length).trimEnd();
  let tunnelIp: string | undefined;
  const ext = rest.indexOf(' external client, service forwarded to/from ');
  const psnat = rest.indexOf(' source port changed from ');
  const cut = [ext, psnat].filter((x) => x >= 0);
  if (cut.length > 0) {
    const notes = rest.slice(Math.min(...cut));
    rest = rest.slice(0, Math.min(...cut));
    const m = / external client, service forwarded to\/from (\S{1,45})/.exec(notes);
    if (m) tunnelIp = ip(m[1]!);
  }
  const hops = rest.split(' -> ');
  if (hops.length < 2 || hops.length > 3) return lineIssue(BAD, `expected 2 or 3 hops: "${rest}"`);
  const eps = hops.map(endpoint);
  if (eps.some((e) => e === undefined)) return lineIssue(BAD, `bad address:port in "${rest}"`);
  const [src, mid, last] = eps as CalicoEndpoint[];
  const nat = hops.length === 3;
  return row({
    form: 'pretty',
    proto,
    type: nat ? 'nat-reverse' : 'normal',
    src: src!,
    dst: nat ? last! : mid!,
    oriented: true,
    ...(nat ? { origDst: mid! } : {}),
    flags: [],
    ...timing,
    ...(tunnelIp ? { tunnelIp } : {}),
  });
}

function parseKey(s: string): { proto: number; a: CalicoEndpoint; b: CalicoEndpoint } | undefined {
  const k = KEY.exec(s);
  if (!k) return undefined;
  const a = ep(k[2]!, k[3]!);
  const b = ep(k[4]!, k[5]!);
  const proto = Number(k[1]);
  return a && b && proto <= 255 ? { proto, a, b } : undefined;
}

function endpoint(text: string): CalicoEndpoint | undefined {
  const i = text.lastIndexOf(':');
  return i <= 0 ? undefined : ep(text.slice(0, i), text.slice(i + 1));
}

function ep(addr: string, port: string): CalicoEndpoint | undefined {
  const a = ip(addr);
  const p = Number(port);
  if (a === undefined || !/^\d{1,5}$/.test(port) || p > 65535) return undefined;
  return { addr: a, port: p };
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function ip(text: string): string | undefined {
  const m = IPV4.exec(text);
  if (m) return m.slice(1).every((x) => Number(x) <= 255) ? text : undefined;
  if (text.includes(':') && /^[0-9a-fA-F:.]{2,45}$/.test(text)) return canonicalIpv6(text);
  return undefined;
}

function isVoid(addr: string): boolean {
  return addr === '0.0.0.0' || addr === '::';
}

function sameEp(a: CalicoEndpoint, b: CalicoEndpoint): boolean {
  return a.addr === b.addr && a.port === b.port;
}

/** `Bytes:1 Packets:2 … Opener:true …` → its fields; undefined when a field is not `Name:value`. */
function leg(text: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const part of text.split(' ')) {
    const c = part.indexOf(':');
    if (c <= 0) return undefined;
    out[part.slice(0, c)] = part.slice(c + 1);
  }
  return out;
}

function protoNumber(word: string): number {
  switch (word) {
    case 'TCP':
      return 6;
    case 'UDP':
      return 17;
    case 'ICMP':
      return 1;
    case 'ICMP6':
      return 58;
    case 'UNKNOWN':
      return 0;
    default:
      return Number(word.slice('Proto-'.length));
  }
}

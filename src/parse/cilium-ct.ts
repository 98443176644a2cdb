// `cilium-dbg bpf ct list global` (also `cilium bpf ct list global`), with or without `-d`, in the
// layouts of current and older releases, and `-o json`. The text layout is CtKey{4,6}Global.Dump
// (reverse=true) followed by CtEntry.StringWithTimeDiff (pkg/maps/ctmap/types.go), one entry a
// line; fixtures/tools/cilium/README.md names the functions and what changed between releases.
import {
  ciliumEndpoint,
  type CiliumCtDir,
  type CiliumCtEntry,
  type CiliumCtSnapshot,
} from '../model/cilium.js';
import {
  clip,
  type LineOutcome,
  type ParseIssue,
  type ParseResult,
  lineIssue,
  row,
  SKIP,
} from './result.js';

const MAX_LINE = 2000;
const PROTO = /^[A-Za-z][A-Za-z0-9]{0,15}$/;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const IPV6 = /^[0-9A-Fa-f:.]{2,45}$/;
const REMAINING = /^\(remaining: (-?\d{1,12}) sec\(s\)\)$/;

/** `1.2.3.4:80` or `[fd00::1]:80` → address and port, or undefined. */
function endpoint(tok: string): { addr: string; port: number } | undefined {
  let addr: string;
  let port: string;
  if (tok.startsWith('[')) {
    const close = tok.indexOf(']:');
    if (close < 0) return undefined;
    addr = tok.slice(1, close);
    port = tok.slice(close + 2);
    if (!IPV6.test(addr) || !addr.includes(':')) return undefined;
  } else {
    const colon = tok.lastIndexOf(':');
    if (colon < 0) return undefined;
    addr = tok.slice(0, colon);
    port = tok.slice(colon + 1);
    const m = IPV4.exec(addr);
    if (!m || m.slice(1).some((o) => Number(o) > 255)) return undefined;
  }
  const p = wholeNumber(port, 65535);
  return p === undefined ? undefined : { addr, port: p };
}

function wholeNumber(s: string, max: number): number | undefined {
  if (!/^\d{1,20}$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isFinite(n) && n <= max ? n : undefined;
}

function hexNumber(s: string, max: number): number | undefined {
  if (!/^0x[0-9a-fA-F]{1,8}$/.test(s)) return undefined;
  const n = Number.parseInt(s.slice(2), 16);
  return n <= max ? n : undefined;
}

/** One printed entry; a blank line (Println's newline after the last entry) is skipped. */
export function parseCiliumCtLine(line: string): LineOutcome<CiliumCtEntry> {
  if (line.trim() === '') return SKIP;
  if (line.length > MAX_LINE)
    return lineIssue('cilium-ct.too-long', 'line too long for a CT entry');
  // Skipped maps print "Unable to open <path>: … Skipping." on stderr; a pasted one lands here.
  if (line.startsWith('Unable to open ')) return SKIP;
  const toks = line.trim().split(/\s+/);
  const proto = toks[0]!;
  const dirTok = toks[1];
  if (!PROTO.test(proto) || (dirTok !== 'OUT' && dirTok !== 'IN' && dirTok !== 'SVC'))
    return lineIssue(
      'cilium-ct.bad-key',
      'expected "<PROTO> OUT|IN|SVC <addr>:<port> -> <addr>:<port>"',
    );
  const a = endpoint(toks[2] ?? '');
  const b = endpoint(toks[4] ?? '');
  if (toks[3] !== '->' || !a || !b)
    return lineIssue(
      'cilium-ct.bad-tuple',
      'expected "<addr>:<port> -> <addr>:<port>" after the direction',
    );
  let i = 5;
  let related = false;
  let service = dirTok === 'SVC';
  let serviceWord = false;
  for (; i < toks.length && (toks[i] === 'related' || toks[i] === 'service'); i++) {
    if (toks[i] === 'related') related = true;
    else {
      service = true;
      serviceWord = true;
    }
  }
  const fields = new Map<string, string>();
  let remainingSec: number | undefined;
  for (; i < toks.length; i++) {
    const t = toks[i]!;
    if (t === '(remaining:') {
      const m = REMAINING.exec(`${t} ${toks[i + 1] ?? ''} ${toks[i + 2] ?? ''}`);
      if (!m) return lineIssue('cilium-ct.bad-remaining', 'expected "(remaining: N sec(s))"');
      remainingSec = Number(m[1]);
      i += 2;
      continue;
    }
    if (t === '[') {
      // flagsString's names, "[ RxClosing SeenNonSyn ]": the Flags= number says the same.
      const close = toks.indexOf(']', i);
      if (close < 0) return lineIssue('cilium-ct.bad-flags', 'unterminated "[ … ]" after Flags=');
      i = close;
      continue;
    }
    const eq = t.indexOf('=');
    if (eq <= 0) return lineIssue('cilium-ct.bad-field', `unexpected "${clip(t, 40)}"`);
    fields.set(t.slice(0, eq), t.slice(eq + 1));
  }
  const expires = wholeNumber(fields.get('expires') ?? '', 0xffffffff);
  if (expires === undefined) return lineIssue('cilium-ct.no-expires', 'no expires=<n> field');
  const flags = hexNumber(fields.get('Flags') ?? '', 0xffff);
  if (flags === undefined) return lineIssue('cilium-ct.bad-flags', 'no Flags=0x… field');
  const revNat = wholeNumber(fields.get('RevNAT') ?? '0', 0xffff) ?? 0;
  const layout = fields.has('RxPackets') ? 'rx-tx' : fields.has('Packets') ? 'current' : undefined;
  if (layout === undefined)
    return lineIssue('cilium-ct.unknown-layout', 'neither Packets= nor RxPackets= in the entry');
  // Before the SVC form, Dump printed a service key like the others, addresses swapped for the
  // reply direction: "OUT <VIP>:<port> -> <client>:<port> service". Turn it client → VIP.
  const swap = serviceWord && dirTok !== 'SVC';
  const src = swap ? b : a;
  const dst = swap ? a : b;
  const dir: CiliumCtDir = service ? 'SVC' : dirTok;
  return row({
    proto: proto.toUpperCase(),
    dir,
    src: src.addr,
    sport: src.port,
    dst: dst.addr,
    dport: dst.port,
    related,
    service,
    expires,
    ...(remainingSec !== undefined ? { remainingSec } : {}),
    flags,
    revNat,
    layout,
  });
}

/** A listing as text (one entry a line) or as `-o json`, into a snapshot with its lines. */
export function parseCiliumCt(text: string): ParseResult<CiliumCtSnapshot> {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('[') || trimmed.startsWith('{') || trimmed === 'null')
    return parseCiliumCtJson(text);
  const entries: CiliumCtEntry[] = [];
  const lines: string[] = [];
  const issues: ParseIssue[] = [];
  const all = text.split('\n');
  for (let n = 0; n < all.length; n++) {
    const line = all[n]!.replace(/\r$/, '');
    const out = parseCiliumCtLine(line);
    if (out.kind === 'row') {
      entries.push(out.value);
      lines.push(line.trimEnd());
    } else if (out.kind === 'issue')
      issues.push({ line: n + 1, code: out.code, message: out.message, text: clip(line) });
  }
  const timeDiff = entries.length > 0 && entries.every((e) => e.remainingSec !== undefined);
  return { value: { entries, lines, timeDiff }, issues };
}

const TUPLE_F_IN = 1;
const TUPLE_F_RELATED = 2;
const TUPLE_F_SERVICE = 4;
const PROTO_NAMES: Readonly<Record<number, string>> = {
  1: 'ICMP',
  6: 'TCP',
  17: 'UDP',
  58: 'ICMPv6',
  132: 'SCTP',
};

/** A JSON address: types.IPv4/IPv6 are byte arrays (an array of numbers), or a string. */
function jsonAddr(v: unknown): string | undefined {
  if (typeof v === 'string')
    return IPV4.test(v) || (IPV6.test(v) && v.includes(':')) ? v : undefined;
  if (!Array.isArray(v) || !v.every((x) => Number.isInteger(x) && x >= 0 && x <= 255))
    return undefined;
  const b = v as number[];
  if (b.length === 4) return b.join('.');
  if (b.length !== 16) return undefined;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return compressV6(groups);
}

function compressV6(groups: string[]): string {
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/**
 * Map keys and RevNAT are dumped raw (`-o json` skips ToHost): ports in network byte order, which
 * a little-endian node (x86-64, arm64) prints byte-swapped.
 */
function netPort(v: unknown): number | undefined {
  if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 0xffff) return undefined;
  const n = v as number;
  return ((n & 0xff) << 8) | (n >> 8);
}

function num(v: unknown, max: number): number | undefined {
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= max
    ? (v as number)
    : undefined;
}

/** `cilium-dbg bpf ct list global -o json`: an array of {Key, Value} (CtMapRecord). */
export function parseCiliumCtJson(text: string): ParseResult<CiliumCtSnapshot> {
  const issues: ParseIssue[] = [];
  const empty = { value: { entries: [], lines: [], timeDiff: false }, issues };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    issues.push({
      line: 1,
      code: 'cilium-ct.bad-json',
      message: `not JSON: ${(err as Error).message}`,
    });
    return empty;
  }
  if (doc === null) return empty;
  if (!Array.isArray(doc)) {
    issues.push({
      line: 1,
      code: 'cilium-ct.bad-json',
      message: 'expected an array of {Key, Value}',
    });
    return empty;
  }
  const entries: CiliumCtEntry[] = [];
  const lines: string[] = [];
  doc.forEach((rec: unknown, idx) => {
    const bad = (message: string): void => {
      issues.push({
        line: 1,
        code: 'cilium-ct.bad-record',
        message: `record ${idx + 1}: ${message}`,
      });
    };
    if (typeof rec !== 'object' || rec === null) return bad('not an object');
    const { Key: k, Value: v } = rec as {
      Key?: Record<string, unknown>;
      Value?: Record<string, unknown>;
    };
    if (!k || !v || typeof k !== 'object' || typeof v !== 'object') return bad('no Key or Value');
    const nh = num(k.NextHeader, 255);
    const tf = num(k.Flags, 255);
    const daddr = jsonAddr(k.DestAddr);
    const saddr = jsonAddr(k.SourceAddr);
    const dport = netPort(k.DestPort);
    const sport = netPort(k.SourcePort);
    const lifetime = num(v.Lifetime, 0xffffffff);
    const flags = num(v.Flags, 0xffff);
    if (
      nh === undefined ||
      tf === undefined ||
      !daddr ||
      !saddr ||
      dport === undefined ||
      sport === undefined
    )
      return bad('Key needs DestAddr, SourceAddr, DestPort, SourcePort, NextHeader and Flags');
    if (nh === 0) return;
    if (lifetime === undefined || flags === undefined) return bad('Value needs Lifetime and Flags');
    const service = (tf & TUPLE_F_SERVICE) !== 0;
    // Field names hold for the reply direction (pkg/tuple); Dump's order gives the original one.
    const ends = service
      ? { dir: 'SVC' as const, src: saddr, sport: dport, dst: daddr, dport: sport }
      : {
          dir: (tf & TUPLE_F_IN) !== 0 ? ('IN' as const) : ('OUT' as const),
          src: daddr,
          sport,
          dst: saddr,
          dport,
        };
    const entry: CiliumCtEntry = {
      proto: PROTO_NAMES[nh] ?? `proto-${nh}`,
      ...ends,
      related: (tf & TUPLE_F_RELATED) !== 0,
      service,
      expires: lifetime,
      flags,
      revNat: netPort(v.RevNAT) ?? 0,
      layout: 'json',
    };
    entries.push(entry);
    lines.push(jsonSummary(entry));
  });
  return { value: { entries, lines, timeDiff: false }, issues };
}

function jsonSummary(e: CiliumCtEntry): string {
  const ep = ciliumEndpoint;
  return `${e.proto} ${e.dir} ${ep(e.src, e.sport)} -> ${ep(e.dst, e.dport)} expires=${e.expires} Flags=0x${e.flags.toString(16).padStart(4, '0')} (from -o json)`;
}

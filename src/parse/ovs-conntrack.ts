// `ovs-appctl dpctl/dump-conntrack [-m] [-s] [zone=N]`, one entry per line as lib/ct-dpif.c
// ct_dpif_format_entry writes it: `tcp,orig=(src=…,dst=…,sport=…,dport=…[,packets=…,bytes=…]),
// reply=(…)[,start=…[,stop=…]][,id=N][,zone=N][,status=A|B][,timeout=N][,mark=N][,labels=0x…]
// [,protoinfo=(state=…)][,helper=…][,parent=(…)]`. -m adds id, status and the verbose TCP protoinfo
// (state_orig, state_reply, wscale, flags); -s the counters, timestamps and timeout.
import type { Family } from '../model/endpoint.js';
import type { OvsCtEntry, OvsCtSnapshot, OvsTuple } from '../model/ovs.js';
import { canonicalIpv6 } from './ip-text.js';
import {
  clip,
  lineIssue,
  parseRows,
  recoverPasteLine,
  row,
  SKIP,
  type LineOutcome,
  type ParseIssue,
  type ParseResult,
} from './result.js';

const BAD = 'ovs-ct.bad-line';
const MAX_LINE = 4096;
const PROTOS: Readonly<Record<string, number>> = {
  icmp: 1,
  igmp: 2,
  tcp: 6,
  udp: 17,
  dccp: 33,
  icmpv6: 58,
  sctp: 132,
  udplite: 136,
};
// ct_dpif_tcp_state_string, in enum order (the larger of orig/reply is the one printed).
const TCP_STATES = [
  'CLOSED',
  'LISTEN',
  'SYN_SENT',
  'SYN_RECV',
  'ESTABLISHED',
  'CLOSE_WAIT',
  'FIN_WAIT_1',
  'CLOSING',
  'LAST_ACK',
  'FIN_WAIT_2',
  'TIME_WAIT',
];

/** One line of the dump: an entry, or an issue naming what is wrong. */
export function parseOvsCtLine(line: string): LineOutcome<OvsCtEntry> {
  if (line.trim() === '') return SKIP;
  if (line.length > MAX_LINE) return lineIssue(BAD, `line longer than ${MAX_LINE} characters`);
  const items = split(line);
  if (!items) return lineIssue(BAD, 'unbalanced parentheses');
  const first = items[0] ?? '';
  const protonum = PROTOS[first] ?? (/^\d{1,3}$/.test(first) ? Number(first) : NaN);
  if (!(protonum >= 0 && protonum <= 255))
    return lineIssue(BAD, `"${first.slice(0, 20)}" is not an IP protocol`);
  const fields = new Map<string, string>();
  for (const it of items.slice(1)) {
    const eq = it.indexOf('=');
    if (eq <= 0) return lineIssue(BAD, `"${it.slice(0, 40)}" is not key=value`);
    const k = it.slice(0, eq);
    if (fields.has(k)) return lineIssue(BAD, `${k}= twice`);
    fields.set(k, it.slice(eq + 1));
  }
  const o = fields.get('orig');
  const r = fields.get('reply');
  if (o === undefined || r === undefined) return lineIssue(BAD, 'no orig=(…) and reply=(…)');
  const orig = parseTuple(o);
  const reply = parseTuple(r);
  if (typeof orig === 'string') return lineIssue(BAD, `orig: ${orig}`);
  if (typeof reply === 'string') return lineIssue(BAD, `reply: ${reply}`);
  const family: Family = orig.src.includes(':') ? 'ipv6' : 'ipv4';
  const num = (k: string, max: number) => boundedInt(fields, k, max);
  const zone = num('zone', 0xffff);
  const id = num('id', 0xffffffff);
  const timeout = num('timeout', 0xffffffff);
  const mark = num('mark', 0xffffffff);
  for (const [k, v] of [
    ['zone', zone],
    ['id', id],
    ['timeout', timeout],
    ['mark', mark],
  ] as const)
    if (v === null) return lineIssue(BAD, `bad ${k}=${fields.get(k)?.slice(0, 20)}`);
  const labels = fields.get('labels');
  if (labels !== undefined && !/^(?:0x[0-9a-f]{1,32}|0)$/.test(labels))
    return lineIssue(BAD, `bad labels=${labels.slice(0, 40)}`);
  const status = fields.get('status');
  const proto = fields.get('protoinfo');
  let tcpState: string | undefined;
  // SCTP's protoinfo carries SCTP states: only TCP's is read.
  if (proto !== undefined && protonum === 6) {
    const st = protoState(proto);
    if (st === null) return lineIssue(BAD, `bad protoinfo=${proto.slice(0, 60)}`);
    tcpState = st;
  }
  const known = new Set([
    'orig',
    'reply',
    'start',
    'stop',
    'id',
    'zone',
    'status',
    'timeout',
    'mark',
    'labels',
    'protoinfo',
    'helper',
    'parent',
  ]);
  for (const k of fields.keys())
    if (!known.has(k)) return lineIssue(BAD, `unknown field ${k.slice(0, 20)}=`);
  const helper = fields.get('helper');
  return row({
    family,
    proto: PROTOS[first] !== undefined ? first : String(protonum),
    protonum,
    orig,
    reply,
    zone: zone ?? 0,
    ...(id != null ? { id } : {}),
    ...(status !== undefined ? { status: status === '0' ? [] : status.split('|') } : {}),
    ...(timeout != null ? { timeout } : {}),
    ...(mark != null ? { mark } : {}),
    ...(labels !== undefined ? { labels } : {}),
    ...(tcpState !== undefined ? { tcpState } : {}),
    ...(fields.has('start') ? { start: fields.get('start')! } : {}),
    ...(fields.has('stop') ? { stop: fields.get('stop')! } : {}),
    ...(helper !== undefined ? { helper: helper.replace(/^\(|\)$/g, '') } : {}),
  });
}

/** The whole dump. */
export function parseOvsConntrack(text: string): ParseResult<OvsCtEntry[]> {
  return parseRows(text, parseOvsCtLine);
}

/** The whole dump with each entry's line and the entries per zone. */
export function parseOvsDump(text: string): ParseResult<OvsCtSnapshot> {
  const entries: OvsCtEntry[] = [];
  const raw: string[] = [];
  const issues: ParseIssue[] = [];
  const zones: Record<number, number> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.endsWith('\r') ? lines[i]!.slice(0, -1) : lines[i]!;
    const first = parseOvsCtLine(line);
    const out = first.kind === 'issue' ? recoverPasteLine(line, first, parseOvsCtLine) : first;
    if (out.kind === 'row') {
      entries.push(out.value);
      raw.push(line);
      zones[out.value.zone] = (zones[out.value.zone] ?? 0) + 1;
    } else if (out.kind === 'issue')
      issues.push({ line: i + 1, code: out.code, message: out.message, text: clip(line) });
  }
  return { value: { entries, raw, zones }, issues };
}

/** Top-level comma-separated items, a parenthesised value kept whole; undefined when unbalanced. */
function split(s: string): string[] | undefined {
  const out: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 40) depth++;
    else if (c === 41) {
      if (--depth < 0) return undefined;
    } else if (c === 44 && depth === 0) {
      out.push(s.slice(from, i));
      from = i + 1;
    }
  }
  if (depth !== 0) return undefined;
  out.push(s.slice(from));
  return out;
}

function parseTuple(v: string): OvsTuple | string {
  if (!v.startsWith('(') || !v.endsWith(')')) return 'expected (…)';
  const kv = new Map<string, string>();
  for (const p of v.slice(1, -1).split(',')) {
    const eq = p.indexOf('=');
    if (eq <= 0) return `"${p.slice(0, 30)}" is not key=value`;
    kv.set(p.slice(0, eq), p.slice(eq + 1));
  }
  const src = addr(kv.get('src'));
  const dst = addr(kv.get('dst'));
  if (!src || !dst) return 'bad src= or dst=';
  const n = (k: string, max: number) => boundedInt(kv, k, max);
  const sport = n('sport', 65535);
  const dport = n('dport', 65535);
  const packets = n('packets', Number.MAX_SAFE_INTEGER);
  const bytes = n('bytes', Number.MAX_SAFE_INTEGER);
  const id = n('id', 65535);
  const type = n('type', 255);
  const code = n('code', 255);
  if ([sport, dport, packets, bytes, id, type, code].includes(null)) return 'bad number';
  return {
    src,
    dst,
    ...(sport != null && dport != null ? { sport, dport } : {}),
    ...(id != null && type != null && code != null ? { icmp: { id, type, code } } : {}),
    ...(packets != null && bytes != null ? { packets, bytes } : {}),
  };
}

function addr(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v))
    return v.split('.').every((x) => Number(x) <= 255) ? v : undefined;
  return v.includes(':') ? canonicalIpv6(v) : undefined;
}

/** The TCP state of `protoinfo=(…)`: `state=X`, or the larger of `state_orig`/`state_reply` (-m). */
function protoState(v: string): string | undefined | null {
  if (!v.startsWith('(') || !v.endsWith(')')) return null;
  let best = -1;
  for (const p of v.slice(1, -1).split(',')) {
    const [k, x] = p.split('=');
    if (k === 'state' || k === 'state_orig' || k === 'state_reply') {
      const i = TCP_STATES.indexOf(x ?? '');
      if (i < 0) return null;
      if (i > best) best = i;
    }
  }
  return best < 0 ? undefined : TCP_STATES[best];
}

/** A decimal field up to max: undefined when absent, null when it is not one. */
function boundedInt(
  m: ReadonlyMap<string, string>,
  k: string,
  max: number,
): number | undefined | null {
  const v = m.get(k);
  if (v === undefined) return undefined;
  return /^\d{1,20}$/.test(v) && Number(v) <= max ? Number(v) : null;
}

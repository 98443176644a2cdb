// `ss -tinoe[H][p]` (iproute2 misc/ss.c): one socket line plus a TAB-indented tcp_info line.
import type { Endpoint } from '../model/endpoint.js';
import type { SocketInfo, SocketTimer, SocketTimerName } from '../model/socket.js';
import { canonicalIpv6 } from './ip-text.js';
import { promptOf } from './paste-noise.js';
import { clip, type ParseIssue, type ParseResult } from './result.js';
import { servicePort } from './service-names.js';

const MAX_LINE = 8192;
const TIMER_NAMES: ReadonlySet<string> = new Set([
  'on',
  'keepalive',
  'timewait',
  'persist',
  'unknown',
]);
const STATE = /^[A-Z][A-Z0-9-]{0,15}$/;
const NETIDS = new Set(['tcp', 'mptcp', 'udp', 'raw', 'sctp', 'dccp']);
// print_ms_timer: "Nmin" (seconds dropped from 10 min), "NminMsec", "Nsec", "Nms" (zero-padded
// "%03ld"), and "S.mmmms" = S seconds + mmm ms; a zero timeout prints nothing at all.
const TIMER_TIME = /^(?:(\d{1,9})min)?(?:(\d{1,2})sec)?$|^([1-9])\.(\d{3})ms$|^(\d{1,3})ms$/;

/** Converts one print_ms_timer string (`119min`, `4min57sec`, `26sec`, `1.176ms`, `620ms`) to ms. */
export function parseSsTimerTime(text: string): number | undefined {
  const m = TIMER_TIME.exec(text);
  if (m === null) return undefined;
  if (m[3] !== undefined) return Number(m[3]) * 1000 + Number(m[4]);
  if (m[5] !== undefined) return Number(m[5]);
  return Number(m[1] ?? 0) * 60_000 + Number(m[2] ?? 0) * 1000;
}

type TimerOutcome = { ok: true; timer: SocketTimer } | { ok: false; code: string; message: string };

/** Parses the inside of `timer:(name,remaining,count)`. */
export function parseSsTimer(inner: string): TimerOutcome {
  const parts = inner.split(',');
  if (parts.length !== 3)
    return {
      ok: false,
      code: 'ss.bad-timer',
      message: `timer needs 3 fields: ${inner.slice(0, 60)}`,
    };
  const [name, time, countText] = parts as [string, string, string];
  if (!TIMER_NAMES.has(name))
    return { ok: false, code: 'ss.unknown-timer', message: `unknown timer ${name.slice(0, 20)}` };
  const remainingMs = parseSsTimerTime(time);
  if (remainingMs === undefined)
    return { ok: false, code: 'ss.bad-timer', message: `bad timer time ${time.slice(0, 30)}` };
  if (!/^\d{1,9}$/.test(countText))
    return {
      ok: false,
      code: 'ss.bad-timer',
      message: `bad timer count ${countText.slice(0, 20)}`,
    };
  return {
    ok: true,
    timer: { name: name as SocketTimerName, remainingMs, count: Number(countText) },
  };
}

/**
 * Reads an ss address: `10.0.0.1:80`, `[fd00::1]:80`, `[::ffff:10.0.0.1]:80`, `10.0.0.2%lo:8086`,
 * `[fe80::1]%eth0:22`, `0.0.0.0:*`, `*:*`. The interface suffix is dropped; a `*` port is 0.
 */
export function parseSsEndpoint(text: string): Endpoint | undefined {
  if (text.length > 120) return undefined;
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const portText = text.slice(colon + 1);
  let host = text.slice(0, colon);
  let port: number;
  if (portText === '*') port = 0;
  else if (/^\d{1,5}$/.test(portText) && Number(portText) <= 65535) port = Number(portText);
  else {
    const named = servicePort(portText);
    if (named === undefined) return undefined;
    port = named;
  }
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    if (close < 0) return undefined;
    const rest = host.slice(close + 1);
    if (rest !== '' && !rest.startsWith('%')) return undefined;
    const v6 = canonicalIpv6(host.slice(1, close));
    return v6 === undefined ? undefined : { addr: v6, port };
  }
  const pct = host.indexOf('%');
  if (pct >= 0) host = host.slice(0, pct);
  if (host === '*') return { addr: '*', port };
  if (!/^\d{1,3}(?:\.\d{1,3}){3}$/.test(host)) return undefined;
  return { addr: host, port };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Draft = Mutable<SocketInfo>;

function num(text: string): number | undefined {
  if (!/^\d{1,16}(?:\.\d{1,6})?$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

function parseProcesses(inner: string): { name: string; pid: number; fd: number }[] | undefined {
  // ("nginx",pid=12,fd=6),("nginx",pid=13,fd=6)
  const out: { name: string; pid: number; fd: number }[] = [];
  const re = /\("((?:[^"\\]|\\.){0,64})",pid=(\d{1,10}),fd=(\d{1,10})\)/g;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(inner)) !== null) {
    out.push({ name: m[1]!, pid: Number(m[2]), fd: Number(m[3]) });
    consumed += m[0].length;
  }
  return out.length > 0 && consumed + out.length - 1 === inner.length ? out : undefined;
}

type Issue = (code: string, message: string) => void;

function parseSocketLine(line: string, issue: Issue): Draft | undefined {
  let rest = line;
  let processes: Draft['processes'];
  // Process names are quoted and may hold spaces, so users:((…)) is cut out before splitting.
  const u = rest.indexOf(' users:((');
  if (u >= 0) {
    const end = rest.indexOf('))', u);
    if (end < 0) {
      issue('ss.bad-users', 'unterminated users:((…))');
      return undefined;
    }
    processes = parseProcesses(rest.slice(u + 8, end + 1));
    if (processes === undefined)
      issue('ss.bad-users', 'users:((…)) not in ("name",pid=N,fd=M) form');
    rest = rest.slice(0, u) + rest.slice(end + 2);
  }
  let t = rest.trim().split(/\s+/);
  if (NETIDS.has(t[0]!)) t = t.slice(1);
  if (
    t.length < 5 ||
    !STATE.test(t[0]!) ||
    !/^\d{1,12}$/.test(t[1]!) ||
    !/^\d{1,12}$/.test(t[2]!)
  ) {
    issue('ss.bad-row', 'expected "State Recv-Q Send-Q Local:Port Peer:Port …"');
    return undefined;
  }
  const local = parseSsEndpoint(t[3]!);
  const peer = parseSsEndpoint(t[4]!);
  if (local === undefined || peer === undefined) {
    issue('ss.bad-address', `bad address ${local === undefined ? t[3] : t[4]}`);
    return undefined;
  }
  const s: Draft = { state: t[0]!, recvQ: Number(t[1]), sendQ: Number(t[2]), local, peer };
  if (processes !== undefined) s.processes = processes;
  for (const tok of t.slice(5)) {
    if (tok.startsWith('timer:(')) {
      if (!tok.endsWith(')')) {
        issue('ss.bad-timer', `bad timer ${tok.slice(0, 60)}`);
        continue;
      }
      const out = parseSsTimer(tok.slice(7, -1));
      if (out.ok) s.timer = out.timer;
      else issue(out.code, out.message);
    } else if (tok.startsWith('ino:')) {
      const v = num(tok.slice(4));
      if (v !== undefined) s.ino = v;
    } else if (tok.startsWith('uid:')) {
      const v = num(tok.slice(4));
      if (v !== undefined) s.uid = v;
    } else if (tok.startsWith('sk:')) {
      s.sk = tok.slice(3);
    } else if (tok.startsWith('cgroup:')) {
      s.cgroup = tok.slice(7);
    }
  }
  return s;
}

const INFO_NUMS: Record<
  string,
  'lastsndMs' | 'lastrcvMs' | 'lastackMs' | 'rtoMs' | 'bytesSent' | 'bytesReceived'
> = {
  lastsnd: 'lastsndMs',
  lastrcv: 'lastrcvMs',
  lastack: 'lastackMs',
  rto: 'rtoMs',
  bytes_sent: 'bytesSent',
  bytes_received: 'bytesReceived',
};

function applyInfo(s: Draft, line: string, issue: Issue): void {
  for (const tok of line.trim().split(/\s+/)) {
    const colon = tok.indexOf(':');
    if (colon <= 0) continue;
    const key = tok.slice(0, colon);
    const val = tok.slice(colon + 1);
    if (key === 'retrans') {
      s.retrans = val;
      continue;
    }
    const field = INFO_NUMS[key];
    if (field === undefined) continue;
    const v = num(val);
    if (v === undefined) issue('ss.bad-info', `bad ${key} value ${val.slice(0, 30)}`);
    else s[field] = v;
  }
}

/** Parses `ss -tinoe` output (with or without header, with or without -p) into sockets. */
export function parseSs(text: string): ParseResult<SocketInfo[]> {
  const value: SocketInfo[] = [];
  const issues: ParseIssue[] = [];
  let current: Draft | undefined;
  let infoSeen = false;
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.replace(/\r$/, '');
    const issue: Issue = (code, message) => {
      issues.push({ line: n + 1, code, message, text: clip(line) });
    };
    if (line.length > MAX_LINE) {
      issue('ss.line-too-long', `line longer than ${MAX_LINE} characters`);
      continue;
    }
    if (line.startsWith('\t') || line.startsWith(' ')) {
      // Time-wait and orphan sockets get a TAB followed by blanks only.
      if (line.trim() === '') continue;
      if (current === undefined) issue('ss.orphan-info', 'info line before any socket line');
      else if (infoSeen) issue('ss.extra-info', 'second info line for one socket');
      else {
        applyInfo(current, line, issue);
        infoSeen = true;
      }
      continue;
    }
    if (line.trim() === '') continue;
    if (/^(?:State|Netid)\s+(?:State\s+)?Recv-Q\b/.test(line)) continue;
    // socket lines start with a state (upper case) or a netid; a prompt never with upper case
    const c0 = line.charCodeAt(0);
    if (!(c0 >= 65 && c0 <= 90) && promptOf(line) !== undefined) {
      current = undefined;
      continue;
    }
    current = parseSocketLine(line, issue);
    infoSeen = false;
    if (current !== undefined) value.push(current);
  }
  return { value, issues };
}

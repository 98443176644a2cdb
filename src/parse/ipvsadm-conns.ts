// IPVS connection entries: `ipvsadm -Lnc` rows and raw /proc/net/ip_vs_conn rows (ip_vs_conn_seq_show).
import type { Endpoint } from '../model/endpoint.js';
import type { IpvsConn } from '../model/ipvs.js';
import { canonicalIpv6 } from './ip-text.js';
import { parseCount, parseIpvsEndpoint } from './ipvsadm-services.js';
import { lineIssue, parseRows, row, SKIP, type LineOutcome, type ParseResult } from './result.js';

const MAX_LINE = 1024;
const PROTOS = new Set(['TCP', 'UDP', 'SCTP', 'AH', 'ESP', 'IP']);
const STATE = /^[A-Z][A-Z_]{0,15}$/;
const EXPIRE = /^(\d{1,7}):(\d{2})$/;
const HEX8 = /^[0-9A-Fa-f]{8}$/;
const HEX4 = /^[0-9A-Fa-f]{4}$/;

function hexIpv4(hex: string): string {
  const n = Number.parseInt(hex, 16);
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** /proc prints IPv4 as 8 hex digits (host order) and IPv6 as %pI6 (8 groups of 4 hex digits). */
function procEndpoint(addrText: string, portText: string): Endpoint | undefined {
  if (!HEX4.test(portText)) return undefined;
  const port = Number.parseInt(portText, 16);
  if (HEX8.test(addrText)) return { addr: hexIpv4(addrText), port };
  if (!addrText.includes(':')) return undefined;
  const v6 = canonicalIpv6(addrText);
  return v6 === undefined ? undefined : { addr: v6, port };
}

function build(
  proto: string,
  expiresSec: number,
  state: string,
  client: Endpoint,
  virtual: Endpoint,
  dest: Endpoint,
): IpvsConn {
  // Persistence templates are the only entries with client port 0 (ip_vs_conn_new from
  // ip_vs_sched_persist); their state is NONE for TCP, UDP for UDP, whatever the protocol's table says.
  return { proto, expiresSec, state, client, virtual, dest, template: client.port === 0 };
}

function parseIpvsadmRow(t: string[]): LineOutcome<IpvsConn> {
  // "%-3s %-6s %-11s %-18s %-18s %s" — with --persistent-conn two pe columns may follow.
  if (t.length < 6 || t.length > 8)
    return lineIssue('ipvsadm.bad-conn', `expected 6 columns, got ${t.length}`);
  const m = EXPIRE.exec(t[1]!);
  if (m === null || Number(m[2]) > 59) return lineIssue('ipvsadm.bad-expire', `bad expire ${t[1]}`);
  const expiresSec = Number(m[1]) * 60 + Number(m[2]);
  if (!STATE.test(t[2]!)) return lineIssue('ipvsadm.bad-state', `bad state ${t[2]}`);
  const client = parseIpvsEndpoint(t[3]!);
  const virtual = parseIpvsEndpoint(t[4]!);
  const dest = parseIpvsEndpoint(t[5]!);
  if (client === undefined || virtual === undefined || dest === undefined) {
    return lineIssue('ipvsadm.bad-address', 'bad source, virtual or destination address');
  }
  return row(build(t[0]!, expiresSec, t[2]!, client, virtual, dest));
}

function parseProcRow(t: string[]): LineOutcome<IpvsConn> {
  // "%-3s %08X %04X %08X %04X %s %04X %-11s %7u%s" (+ " <pe name> <pe data>" for SIP persistence).
  if (t.length < 9 || t.length > 11)
    return lineIssue('ipvsadm.bad-conn', `expected 9 columns, got ${t.length}`);
  const client = procEndpoint(t[1]!, t[2]!);
  const virtual = procEndpoint(t[3]!, t[4]!);
  const dest = procEndpoint(t[5]!, t[6]!);
  if (client === undefined || virtual === undefined || dest === undefined) {
    return lineIssue('ipvsadm.bad-address', 'bad hex address or port');
  }
  if (!STATE.test(t[7]!)) return lineIssue('ipvsadm.bad-state', `bad state ${t[7]}`);
  const expiresSec = parseCount(t[8], 0xffffffff);
  if (expiresSec === undefined) return lineIssue('ipvsadm.bad-expire', `bad expires ${t[8]}`);
  return row(build(t[0]!, expiresSec, t[7]!, client, virtual, dest));
}

/** Parses one `ipvsadm -Lnc` or /proc/net/ip_vs_conn line; headers are skipped. */
export function parseIpvsConnLine(line: string): LineOutcome<IpvsConn> {
  if (line.length > MAX_LINE)
    return lineIssue('ipvsadm.line-too-long', `line longer than ${MAX_LINE} characters`);
  const t = line.trim().split(/\s+/);
  const first = t[0] ?? '';
  if (line.startsWith('IPVS connection entries') || first === 'pro' || first === 'Pro') return SKIP;
  if (!PROTOS.has(first)) return lineIssue('ipvsadm.bad-conn', `unknown protocol ${first}`);
  // ipvsadm rows have 6 columns (8 with --persistent-conn); /proc rows have 9 (11 with a pe).
  if (t.length < 9 && /^\d+:/.test(t[1] ?? '')) return parseIpvsadmRow(t);
  return parseProcRow(t);
}

/** Parses a whole `ipvsadm -Lnc` or /proc/net/ip_vs_conn dump. */
export function parseIpvsConns(text: string): ParseResult<IpvsConn[]> {
  return parseRows(text, parseIpvsConnLine);
}

// `ipvsadm -Ln`: virtual services with their real servers (ipvsadm 1.31 print_service_entry).
import type { Endpoint } from '../model/endpoint.js';
import type { IpvsRealServer, IpvsService } from '../model/ipvs.js';
import { canonicalIpv6 } from './ip-text.js';
import { promptOf, withoutLeadingNoise, withoutTrailingNote } from './paste-noise.js';
import { clip, type ParseIssue, type ParseResult } from './result.js';

const MAX_LINE = 4096;
const PROTOS = new Set(['TCP', 'UDP', 'SCTP']);
const FORWARDS = new Set(['Masq', 'Local', 'Tunnel', 'Route']);
const DEC = /^\d{1,10}$/;

/** Parses a decimal count; undefined unless it is a safe non-negative integer. */
export function parseCount(
  text: string | undefined,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (text === undefined || !/^\d{1,16}$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) && n <= max ? n : undefined;
}

function isIpv4(addr: string): boolean {
  const parts = addr.split('.');
  return parts.length === 4 && parts.every((p) => DEC.test(p) && Number(p) <= 255);
}

/** Reads `a.b.c.d:port` or `[v6]:port` as ipvsadm prints it; undefined when malformed. */
export function parseIpvsEndpoint(text: string): Endpoint | undefined {
  if (text.length > 80) return undefined;
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') return undefined;
    const v6 = canonicalIpv6(text.slice(1, close));
    if (v6 === undefined) return undefined;
    host = v6;
    portText = text.slice(close + 2);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) return undefined;
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (!isIpv4(host)) return undefined;
  }
  const port = parseCount(portText, 65535);
  return port === undefined ? undefined : { addr: host, port };
}

interface Draft {
  proto: string;
  addr: string;
  port: number;
  fwmark?: number;
  scheduler: string;
  persistent?: number;
  flags: string[];
  realServers: IpvsRealServer[];
}

type ServiceOutcome = { ok: true; value: Draft } | { ok: false; code: string; message: string };

function parseServiceLine(tokens: string[]): ServiceOutcome {
  const proto = tokens[0]!;
  let i = 1;
  let draft: Draft;
  if (proto === 'FWM') {
    const mark = parseCount(tokens[1], 0xffffffff);
    if (mark === undefined)
      return {
        ok: false,
        code: 'ipvsadm.bad-fwmark',
        message: `bad firewall mark ${tokens[1] ?? ''}`,
      };
    i = 2;
    // ipvsadm prints "FWM  <mark> IPv6 <sched>" for IPv6 fwmark services.
    const v6 = tokens[i] === 'IPv6';
    if (v6) i++;
    draft = {
      proto,
      addr: v6 ? '::' : '0.0.0.0',
      port: 0,
      fwmark: mark,
      scheduler: '',
      flags: [],
      realServers: [],
    };
  } else {
    const ep = parseIpvsEndpoint(tokens[1] ?? '');
    if (ep === undefined)
      return {
        ok: false,
        code: 'ipvsadm.bad-address',
        message: `bad service address ${tokens[1] ?? ''}`,
      };
    draft = { proto, addr: ep.addr, port: ep.port, scheduler: '', flags: [], realServers: [] };
    i = 2;
  }
  const sched = tokens[i];
  if (sched === undefined || !/^[a-z][a-z0-9_-]{0,15}$/.test(sched)) {
    return {
      ok: false,
      code: 'ipvsadm.bad-scheduler',
      message: `missing or bad scheduler ${sched ?? ''}`,
    };
  }
  draft.scheduler = sched;
  for (i++; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (tok === 'persistent') {
      const t = parseCount(tokens[i + 1], 0xffffffff);
      if (t === undefined)
        return {
          ok: false,
          code: 'ipvsadm.bad-persistent',
          message: `bad persistence timeout ${tokens[i + 1] ?? ''}`,
        };
      draft.persistent = t;
      i++;
    } else if (tok === 'mask' || tok === 'pe') {
      // Persistence netmask and persistence engine: value-carrying words, kept as flags.
      if (tokens[i + 1] === undefined)
        return { ok: false, code: 'ipvsadm.bad-row', message: `${tok} without a value` };
      draft.flags.push(`${tok}=${tokens[i + 1]}`);
      i++;
    } else {
      // Scheduler flags print as "(sh-fallback,sh-port)"; "ops" is one-packet scheduling.
      for (const f of tok.replace(/^\(|\)$/g, '').split(',')) if (f !== '') draft.flags.push(f);
    }
  }
  return { ok: true, value: draft };
}

function parseRealServer(line: string): IpvsRealServer | undefined {
  const tokens = line.trim().split(/\s+/);
  if (tokens.length !== 6 || tokens[0] !== '->') return undefined;
  const ep = parseIpvsEndpoint(tokens[1]!);
  const forward = tokens[2]!;
  const weight = parseCount(tokens[3], 0x7fffffff);
  const active = parseCount(tokens[4], 0xffffffff);
  const inact = parseCount(tokens[5], 0xffffffff);
  if (
    ep === undefined ||
    !FORWARDS.has(forward) ||
    weight === undefined ||
    active === undefined ||
    inact === undefined
  ) {
    return undefined;
  }
  return { addr: ep.addr, port: ep.port, forward, weight, activeConn: active, inactConn: inact };
}

/** Parses `ipvsadm -Ln` into services, each with its real servers (an empty list is valid). */
export function parseIpvsServices(text: string): ParseResult<IpvsService[]> {
  const value: IpvsService[] = [];
  const issues: ParseIssue[] = [];
  let current: Draft | undefined;
  const flush = (): void => {
    if (current !== undefined) value.push(current);
    current = undefined;
  };
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    let line = lines[n]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') continue;
    // a time column from `ts` or a loop; real-server lines then lose their indent, hence `\s*->`
    line = withoutLeadingNoise(line) ?? line;
    const issue = (code: string, message: string): void => {
      issues.push({ line: n + 1, code, message, text: clip(line) });
    };
    if (line.length > MAX_LINE) {
      issue('ipvsadm.line-too-long', `line longer than ${MAX_LINE} characters`);
      continue;
    }
    if (line.startsWith('IP Virtual Server version') || line.startsWith('Prot LocalAddress:Port'))
      continue;
    if (/^\s*-> RemoteAddress:Port/.test(line)) continue;
    if (/^\s*->/.test(line)) {
      const noteless = withoutTrailingNote(line);
      const rs =
        parseRealServer(line) ?? (noteless === undefined ? undefined : parseRealServer(noteless));
      if (rs === undefined)
        issue(
          'ipvsadm.bad-real-server',
          'real-server line does not match "-> addr:port Forward Weight ActiveConn InActConn"',
        );
      else if (current === undefined)
        issue('ipvsadm.orphan-real-server', 'real server before any service');
      else current.realServers.push(rs);
      continue;
    }
    const tokens = line.trim().split(/\s+/);
    if (!PROTOS.has(tokens[0]!) && tokens[0] !== 'FWM') {
      if (promptOf(line) === undefined)
        issue('ipvsadm.bad-row', 'not a service, real-server or header line');
      continue;
    }
    flush();
    let out = parseServiceLine(tokens);
    const noteless = out.ok ? undefined : withoutTrailingNote(line);
    if (noteless !== undefined) {
      const again = parseServiceLine(noteless.trim().split(/\s+/));
      if (again.ok) out = again;
    }
    if (out.ok) current = out.value;
    else issue(out.code, out.message);
  }
  flush();
  return { value, issues };
}

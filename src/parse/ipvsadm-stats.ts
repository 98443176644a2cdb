// `ipvsadm -Ln --stats [--exact]`: per service and real-server counters (ipvsadm 1.31 print_largenum).
import type { IpvsStatsRow } from '../model/ipvs.js';
import { parseIpvsEndpoint } from './ipvsadm-services.js';
import { clip, type ParseIssue, type ParseResult } from './result.js';

const MAX_LINE = 1024;
const PROTOS = new Set(['TCP', 'UDP', 'SCTP', 'FWM']);
// Without --exact ipvsadm divides by 1000 per step and prints the quotient with a suffix, so a
// suffixed number is a lower bound (truncated), not a rounded value.
const SUFFIX: Record<string, number> = { '': 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };
const NUM = /^(\d{1,20})([KMGT]?)$/;

/** Reads one ipvsadm counter (`123`, `456K`, `12M` …) as a number; undefined when malformed. */
export function parseIpvsCount(text: string): number | undefined {
  const m = NUM.exec(text);
  if (m === null) return undefined;
  const n = Number(m[1]) * SUFFIX[m[2]!]!;
  return Number.isFinite(n) ? n : undefined;
}

/** Parses `ipvsadm -Ln --stats` (suffixed K/M/G/T numbers) or with `--exact` (raw integers). */
export function parseIpvsStats(text: string): ParseResult<IpvsStatsRow[]> {
  const value: IpvsStatsRow[] = [];
  const issues: ParseIssue[] = [];
  let proto: string | undefined;
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.replace(/\r$/, '');
    if (line.trim() === '') continue;
    const issue = (code: string, message: string): void => {
      issues.push({ line: n + 1, code, message, text: clip(line) });
    };
    if (line.length > MAX_LINE) {
      issue('ipvsadm.line-too-long', `line longer than ${MAX_LINE} characters`);
      continue;
    }
    if (line.startsWith('IP Virtual Server version') || /^\s+-> RemoteAddress:Port\s*$/.test(line))
      continue;
    if (line.startsWith('Prot LocalAddress:Port')) {
      if (/\bCPS\b/.test(line)) {
        issue('ipvsadm.rate-not-stats', '--rate output (CPS InPPS …) is not --stats output');
        return { value, issues };
      }
      continue;
    }
    const t = line.trim().split(/\s+/);
    const realServer = t[0] === '->';
    let kind: IpvsStatsRow['kind'];
    let addr: string;
    let port: number;
    let rowProto: string | undefined;
    let i: number;
    if (realServer) {
      const ep = parseIpvsEndpoint(t[1] ?? '');
      if (ep === undefined) {
        issue('ipvsadm.bad-address', `bad real-server address ${t[1] ?? ''}`);
        continue;
      }
      if (proto === undefined) {
        issue('ipvsadm.orphan-real-server', 'real server before any service');
        continue;
      }
      kind = 'real-server';
      ({ addr, port } = ep);
      i = 2;
    } else if (PROTOS.has(t[0]!)) {
      kind = 'service';
      rowProto = t[0]!;
      if (rowProto === 'FWM') {
        // Firewall-mark services have no address: the mark stands in the address column.
        if (!/^\d{1,10}$/.test(t[1] ?? '')) {
          issue('ipvsadm.bad-fwmark', `bad firewall mark ${t[1] ?? ''}`);
          proto = undefined;
          continue;
        }
        addr = t[1]!;
        port = 0;
        i = t[2] === 'IPv6' ? 3 : 2;
      } else {
        const ep = parseIpvsEndpoint(t[1] ?? '');
        if (ep === undefined) {
          issue('ipvsadm.bad-address', `bad service address ${t[1] ?? ''}`);
          proto = undefined;
          continue;
        }
        ({ addr, port } = ep);
        i = 2;
      }
      proto = rowProto;
    } else {
      issue('ipvsadm.bad-row', 'not a service, real-server or header line');
      continue;
    }
    const nums = t.slice(i).map(parseIpvsCount);
    if (nums.length !== 5 || nums.some((x) => x === undefined)) {
      issue('ipvsadm.bad-stats', 'expected Conns InPkts OutPkts InBytes OutBytes');
      if (!realServer) proto = undefined;
      continue;
    }
    const [conns, inPkts, outPkts, inBytes, outBytes] = nums as number[];
    value.push({
      kind,
      ...(realServer ? { proto } : { proto: rowProto }),
      addr,
      port,
      conns: conns!,
      inPkts: inPkts!,
      outPkts: outPkts!,
      inBytes: inBytes!,
      outBytes: outBytes!,
    });
  }
  return { value, issues };
}

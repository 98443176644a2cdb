// Throughput of the conntrack entry parser on `conntrack -L -o extended,id` lines (target: at least
// 1,000,000 lines/s on one core). Lines are generated first (not timed), all distinct.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseConntrackEntryLine, parseConntrackList } from '../src/parse/conntrack-entry.js';

export interface ConntrackBenchResult {
  readonly entries: number;
  readonly seconds: number;
  readonly entriesPerSec: number;
  readonly issues: number;
  /** CPU time of the timed loop: on a shared machine this, not wall time, says what one core does. */
  readonly cpuSeconds: number;
  readonly entriesPerCpuSec: number;
  /** parseConntrackList over the same lines joined by '\n' (split included). */
  readonly list: {
    readonly seconds: number;
    readonly entriesPerSec: number;
    readonly rows: number;
  };
}

/** Builds `n` distinct `-o extended,id` lines: DNAT'ed tcp ESTABLISHED/TIME_WAIT and udp, IPv4. */
export function generateConntrackExtendedLines(n: number): string[] {
  const lines: string[] = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const client = `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
    const sport = 1024 + (i % 60000);
    const backend = `10.244.${(i >>> 4) & 255}.${(i % 14) + 2}`;
    const vip = `10.96.${(i >>> 10) & 255}.${(i % 200) + 10}`;
    const id = (i * 2654435761) >>> 0;
    const kind = i % 10;
    if (kind < 6) {
      lines[i] =
        `ipv4     2 tcp      6 ${431000 + (i % 999)} ESTABLISHED src=${client} dst=${vip} sport=${sport} dport=80 packets=${(i % 97) + 3} bytes=${(i % 9973) + 180} src=${backend} dst=${client} sport=8080 dport=${sport} packets=${(i % 89) + 2} bytes=${(i % 8779) + 120} [ASSURED] mark=0 delta-time=${i % 3600} use=1 id=${id}`;
    } else if (kind < 8) {
      lines[i] =
        `ipv4     2 tcp      6 ${i % 120} TIME_WAIT src=${client} dst=${vip} sport=${sport} dport=443 packets=${(i % 97) + 5} bytes=${(i % 9973) + 300} src=${backend} dst=${client} sport=8443 dport=${sport} packets=${(i % 89) + 4} bytes=${(i % 8779) + 240} [ASSURED] mark=0 delta-time=${i % 3600} use=1 id=${id}`;
    } else if (kind === 8) {
      lines[i] =
        `ipv4     2 udp      17 ${i % 30} src=${client} dst=${vip} sport=${sport} dport=53 packets=1 bytes=${60 + (i % 40)} src=${backend} dst=${client} sport=5353 dport=${sport} packets=1 bytes=${120 + (i % 200)} mark=0 delta-time=${i % 30} use=1 id=${id}`;
    } else {
      lines[i] =
        `ipv4     2 udp      17 ${i % 30} src=${client} dst=${vip} sport=${sport} dport=53 packets=1 bytes=${60 + (i % 40)} [UNREPLIED] src=${vip} dst=${client} sport=53 dport=${sport} packets=0 bytes=0 mark=0 delta-time=${i % 30} use=1 id=${id}`;
    }
  }
  // Template literals build ropes; real input is flat text split into lines, so flatten the same way.
  return lines.join('\n').split('\n');
}

/** Times parseConntrackEntryLine over `entries` generated lines, then parseConntrackList on their join. */
export async function benchParseConntrack(entries = 1_000_000): Promise<ConntrackBenchResult> {
  const lines = generateConntrackExtendedLines(entries);
  // warm-up on a slice so the timed loop measures optimised code
  for (let i = 0; i < Math.min(20_000, entries); i++) parseConntrackEntryLine(lines[i]!);

  let issues = 0;
  let rows = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < entries; i++) {
    const out = parseConntrackEntryLine(lines[i]!);
    if (out.kind === 'row') rows++;
    else if (out.kind === 'issue') issues++;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  if (rows + issues !== entries) throw new Error('bench: lost lines');

  const text = lines.join('\n');
  const t1 = performance.now();
  const list = parseConntrackList(text);
  const listSeconds = (performance.now() - t1) / 1000;
  await Promise.resolve();
  return {
    entries,
    seconds,
    entriesPerSec: Math.round(entries / seconds),
    issues,
    cpuSeconds,
    entriesPerCpuSec: Math.round(entries / cpuSeconds),
    list: {
      seconds: listSeconds,
      entriesPerSec: Math.round(entries / listSeconds),
      rows: list.value.length,
    },
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const n = Number(process.argv[2] ?? 1_000_000);
  const result = await benchParseConntrack(Number.isFinite(n) && n > 0 ? n : 1_000_000);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

// A realistic recording for the replay benchmark, written with the real fixture writer: a node
// behind kube-proxy seen by `kdiag trace --record` — conntrack -E events (NEW, UPDATE, DESTROY) of
// short and long DNAT'ed flows, a /proc/net/nf_conntrack snapshot every 2 s of the live flows, and
// the probes' bpftrace lines (state changes, resets, retransmits, drops) in their exact formats.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  FIXTURE_FORMAT,
  FIXTURE_VERSION,
  type FixtureHeader,
} from '../src/record/fixture-header.js';
import { createFixtureWriter } from '../src/record/fixture-writer.js';
import type { RawRecord } from '../src/engine/raw-record.js';

const NODE = 'kdiag-lab-node';
const EVENTS = `conntrack:events@${NODE}`;
const TABLE = `procfs:nf_conntrack@${NODE}`;
const NETNS_INO = 4026532606;

function fixturesDir(): string {
  // dist/bench → ../../fixtures; bench → ../fixtures
  const here = dirname(fileURLToPath(import.meta.url));
  return here.includes(join('dist', 'bench'))
    ? join(here, '..', '..', 'fixtures')
    : join(here, '..', 'fixtures');
}

function probeContext(probe: string): string {
  return JSON.stringify(
    JSON.parse(
      readFileSync(join(fixturesDir(), 'tools', 'bpftrace', `${probe}.context.json`), 'utf8'),
    ),
  );
}

const ip = (i: number): string => `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255 || 1}`;

export interface RecordingStats {
  readonly records: number;
  readonly bySource: Record<string, number>;
}

/** Writes a recording of at least `target` records to `path` (must not exist). */
export async function writeRecording(path: string, target: number): Promise<RecordingStats> {
  const t0 = 1_795_400_000_000;
  const header: FixtureHeader = {
    format: FIXTURE_FORMAT,
    version: FIXTURE_VERSION,
    recordedAt: new Date(t0).toISOString(),
    kdiag: '0.1.0',
    host: { hostname: 'bench', kernel: '6.18.44-fc-v595' },
    tools: { bpftrace: 'v0.17.0', conntrack: 'v1.4.7' },
    probes: [],
    sources: [
      { id: EVENTS, argv: ['conntrack', '-E', '-o', 'timestamp,extended,id', '-b', '8388608'] },
      { id: TABLE, argv: ['cat', '/proc/net/nf_conntrack'] },
    ],
    options: { netns: NODE, intervalMs: 2000 },
    redacted: false,
  };
  const w = await createFixtureWriter(path, header);
  const bySource: Record<string, number> = {};
  const put = (rec: RawRecord): void => {
    bySource[rec.src] = (bySource[rec.src] ?? 0) + 1;
    w.write(rec);
  };
  const probes = ['trace_tcp_state', 'trace_tcp_reset', 'trace_tcp_retrans', 'trace_skb_drop'];
  for (const p of probes) {
    put({ t: t0, src: `bpftrace:${p}`, line: probeContext(p), k: 'begin' });
    put({
      t: t0,
      src: `bpftrace:${p}`,
      line: '{"type": "attached_probes", "data": {"probes": 2}}',
    });
  }
  put({ t: t0, src: `sysctl:all@${NODE}`, line: 'sysctl -a', k: 'begin' });
  for (const [k, v] of [
    ['net.netfilter.nf_conntrack_tcp_timeout_established', 86400],
    ['net.netfilter.nf_conntrack_tcp_timeout_close_wait', 3600],
    ['net.netfilter.nf_conntrack_max', 262144],
    ['net.ipv4.tcp_keepalive_time', 7200],
  ] as const) {
    put({ t: t0, src: `sysctl:all@${NODE}`, line: `${k} = ${v}` });
  }
  put({ t: t0, src: `sysctl:all@${NODE}`, line: 'exit 0', k: 'end' });
  put({ t: t0, src: EVENTS, line: 'conntrack -E -o timestamp,extended,id -b 8388608', k: 'begin' });

  // Flow i: client ip(i):port → VIP → backend; 1 in 8 is long-lived (stays in the snapshots).
  const live: number[] = [];
  const longLived: number[] = [];
  let t = t0;
  let i = 0;
  let nextSnap = t0 + 2000;
  const tuple = (k: number): { c: string; sp: number; vip: string; be: string } => ({
    c: ip(k + 1),
    sp: 1024 + (k % 60000),
    vip: `10.96.${(k >>> 10) & 63}.${(k % 200) + 10}`,
    be: `10.244.${(k >>> 4) & 255}.${(k % 14) + 2}`,
  });
  const ev = (tt: number, type: string, body: string): void => {
    const s = Math.floor(tt / 1000);
    const us = String((tt % 1000) * 1000 + (i % 1000)).padStart(6, '0');
    const tag = type === 'NEW' ? '    [NEW]' : type === 'UPDATE' ? ' [UPDATE]' : '[DESTROY]';
    put({ t: tt, src: EVENTS, line: `[${s}.${us}]\t${tag} ${body}` });
  };
  const hex = (n: number): string => n.toString();
  const tNs = (tt: number): number => (tt - t0) * 1_000_000 + 2_262_582_391_112;
  const probeLine = (src: string, data: string, tt: number): void =>
    put({
      t: tt,
      src: `bpftrace:${src}`,
      line: JSON.stringify({ type: 'printf', data }).replace(
        '{"type":"printf","data":',
        '{"type": "printf", "data": ',
      ),
    });

  while (w.count < target) {
    t += 1;
    const k = i++;
    const { c, sp, vip, be } = tuple(k);
    const id = (k * 2654435761) >>> 0;
    const o = `src=${c} dst=${vip} sport=${sp} dport=80`;
    const r = `src=${be} dst=${c} sport=8080 dport=${sp}`;
    ev(t, 'NEW', `ipv4     2 tcp      6 120 SYN_SENT ${o} [UNREPLIED] ${r} id=${hex(id)}`);
    ev(t, 'UPDATE', `ipv4     2 tcp      6 60 SYN_RECV ${o} ${r} id=${hex(id)}`);
    ev(t, 'UPDATE', `ipv4     2 tcp      6 86400 ESTABLISHED ${o} ${r} [ASSURED] id=${hex(id)}`);
    probeLine(
      'trace_tcp_state',
      `state.v1\t${tNs(t)}\t7\t2\t${NETNS_INO}\t4\t${c}\t${sp}\t${be}\t8080\t0\t0\t0\t0\n`,
      t,
    );
    probeLine(
      'trace_tcp_state',
      `state.v1\t${tNs(t)}\t2\t1\t${NETNS_INO}\t4\t${c}\t${sp}\t${be}\t8080\t0\t0\t0\t0\n`,
      t,
    );
    if (k % 8 === 0) {
      longLived.push(k);
      if (longLived.length > 20_000) longLived.shift();
    } else live.push(k);
    // short flows end a little later: FIN or, one in 16, a reset
    while (live.length > 200) {
      const d = live.shift()!;
      const x = tuple(d);
      const did = (d * 2654435761) >>> 0;
      const od = `src=${x.c} dst=${x.vip} sport=${x.sp} dport=80`;
      const rd = `src=${x.be} dst=${x.c} sport=8080 dport=${x.sp}`;
      if (d % 16 === 1) {
        ev(t, 'UPDATE', `ipv4     2 tcp      6 10 CLOSE ${od} ${rd} [ASSURED] id=${hex(did)}`);
        probeLine(
          'trace_tcp_reset',
          `rst.v1\t${tNs(t)}\treceived\tactive\t-1\t2\t${NETNS_INO}\t4\t${x.c}\t${x.sp}\t${x.be}\t8080\n`,
          t,
        );
      } else {
        ev(t, 'UPDATE', `ipv4     2 tcp      6 120 FIN_WAIT ${od} ${rd} [ASSURED] id=${hex(did)}`);
        ev(t, 'UPDATE', `ipv4     2 tcp      6 120 TIME_WAIT ${od} ${rd} [ASSURED] id=${hex(did)}`);
        probeLine(
          'trace_tcp_state',
          `state.v1\t${tNs(t)}\t1\t4\t${NETNS_INO}\t4\t${x.c}\t${x.sp}\t${x.be}\t8080\t0\t0\t0\t0\n`,
          t,
        );
      }
      ev(
        t,
        'DESTROY',
        `ipv4     2 tcp      6 ${d % 16 === 1 ? 'CLOSE' : 'TIME_WAIT'} ${od} packets=${(d % 50) + 5} bytes=${(d % 9000) + 400} ${rd} packets=${(d % 40) + 4} bytes=${(d % 7000) + 300} [ASSURED] delta-time=${d % 100} id=${hex(did)}`,
      );
    }
    if (k % 97 === 0)
      probeLine(
        'trace_tcp_retrans',
        `retrans.v1\t${tNs(t)}\t1\t1\t${NETNS_INO}\t4\t${be}\t8080\t${c}\t${sp}\t0\n`,
        t,
      );
    if (k % 211 === 0)
      probeLine(
        'trace_skb_drop',
        `drop.v1\t${tNs(t)}\t3\ttcp_v4_rcv\t${NETNS_INO}\t4\t6\t${c}\t${sp}\t${vip}\t80\t2\t2124277017\t0\n`,
        t,
      );
    if (t >= nextSnap) {
      nextSnap = t + 2000;
      put({ t, src: TABLE, line: 'cat /proc/net/nf_conntrack', k: 'begin' });
      for (const l of longLived) {
        const x = tuple(l);
        put({
          t,
          src: TABLE,
          line: `ipv4     2 tcp      6 ${86000 + (l % 400)} ESTABLISHED src=${x.c} dst=${x.vip} sport=${x.sp} dport=80 packets=${(l % 97) + 3} bytes=${(l % 9973) + 180} src=${x.be} dst=${x.c} sport=8080 dport=${x.sp} packets=${(l % 89) + 2} bytes=${(l % 8779) + 120} [ASSURED] mark=0 zone=0 use=2`,
        });
      }
      put({ t, src: TABLE, line: 'exit 0', k: 'end' });
    }
  }
  put({ t, src: EVENTS, line: 'exit 0', k: 'end' });
  await w.close();
  return { records: w.count, bySource };
}

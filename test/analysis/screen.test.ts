// screenPath mirrors pathTimeouts: for every live flow it must say exactly what livePaths used to read
// off the full path (at risk for a prediction or clamped, and the time to break).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { breaksIn, makeRuleContext, predictable } from '../../src/analysis/rule.js';
import type { CloudPreset } from '../../src/model/cloud-presets.js';
import { FlowTable } from '../../src/model/flow-table.js';
import type { Observation } from '../../src/model/observation.js';
import { buildPathContext, type PathContextOptions } from '../../src/analysis/path/context.js';
import { pathTimeouts } from '../../src/analysis/path/path-timeouts.js';
import { NOT_AT_RISK, screenPath } from '../../src/analysis/path/screen.js';
import { analyzeInput } from '../../src/services/analyze-input.js';
import {
  T0,
  ct,
  ctSnapshot,
  ipvsConn,
  ka,
  kubeProxy,
  obs,
  sock,
  ssSnapshot,
  tableOf,
} from '../helpers/builders.js';

const FIXTURES = join(__dirname, '..', '..', 'fixtures');

/** Every disagreement between screenPath and the full path, over a few clocks and external timers. */
function mismatches(table: FlowTable): string[] {
  const out: string[] = [];
  const clocks = [0, -100_000, 200_000, 3_600_000, 500_000_000];
  const extra: PathContextOptions[] = [
    {},
    { pathIdleTimeoutSec: 350 },
    { cloud: 'aws-nlb' as CloudPreset },
    { pathIdleTimeoutSec: 100, cloud: 'azure-lb' as CloudPreset },
    { pathIdleTimeoutSec: 350, cloud: 'aws-nlb' as CloudPreset },
    { cloud: 'aws-nlb@all' },
    { cloud: 'aws-nat' },
    // A proxy's timer keepalive cannot re-arm, beside one it can.
    { cloud: ['gcp-vpc', 'envoy:120s@all'] },
    { cloud: 'ingress-nginx@all' },
  ];
  for (const dt of clocks) {
    for (const o of extra) {
      const ctx = buildPathContext(table, { ...o, now: table.latestT + dt });
      for (const f of table.flows()) {
        if (!table.isLive(f)) continue;
        const p = pathTimeouts(ctx, f);
        const want =
          predictable(p) || p.layers.some((l) => l.clamp !== undefined) ? breaksIn(p) : NOT_AT_RISK;
        const got = screenPath(ctx, f);
        if (!Object.is(got, want))
          out.push(`${p.id} now+${dt} ${JSON.stringify(o)}: screen ${got}, path ${want}`);
      }
    }
  }
  return out;
}

async function tableOfInput(path: string): Promise<FlowTable> {
  const t = new FlowTable();
  await analyzeInput(path, { onObservation: (o) => t.apply(o) });
  return t;
}

/** A small deterministic generator of mixed flows: states, clamps, sockets, keepalive, IPVS, UDP, netns sysctls. */
function mixedObservations(seed: number, n: number): Observation[] {
  let s = seed;
  const rnd = (k: number): number => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s % k;
  };
  const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)]!;
  const t = T0 + 1_000_000;
  const list: Observation[] = [
    obs.sysctls(T0, {
      'net.netfilter.nf_conntrack_tcp_timeout_established': pick([
        '86400',
        '600',
        '900',
        '3600',
        'x',
      ]),
      'net.ipv4.tcp_keepalive_time': pick(['7200', '300', '60', '900']),
    }),
    obs.sysctls(
      T0,
      {
        'net.ipv4.tcp_keepalive_time': pick(['120', '900']),
        'net.netfilter.nf_conntrack_tcp_timeout_unacknowledged': pick(['300', '60']),
      },
      'a',
    ),
  ];
  if (rnd(2))
    list.push(
      obs.kubeProxy(
        T0,
        kubeProxy({
          mode: pick(['ipvs', 'iptables'] as const),
          established: pick([0, 900, 86400]),
        }),
      ),
    );
  if (rnd(2)) list.push(obs.ipvsTimeouts(T0, pick([900, 300, 7200, 600]), 120, 300));
  list.push(
    obs.ipvsServices(T0, [
      {
        proto: 'TCP',
        addr: '10.96.0.10',
        port: 80,
        scheduler: 'rr',
        flags: [],
        realServers: [
          { addr: '10.0.0.2', port: 8080, forward: 'Masq', weight: 1, activeConn: 1, inactConn: 0 },
        ],
      },
    ]),
  );
  const entries = [];
  const socks: { s: ReturnType<typeof sock>; scope: string | undefined }[] = [];
  const conns = [];
  for (let i = 0; i < n; i++) {
    const client = `${pick(['10.0.0.1', '127.0.0.1', '203.0.113.7', '192.168.1.4'])}:${20000 + i}`;
    const vip = pick(['10.96.0.10:80', '10.96.0.11:443', '198.51.100.2:80']);
    const backend = pick(['10.0.0.2:8080', '10.0.0.3:8080']);
    const proto = rnd(6) === 0 ? 'udp' : 'tcp';
    const state = pick([
      'ESTABLISHED',
      'ESTABLISHED',
      'ESTABLISHED',
      'CLOSE_WAIT',
      'TIME_WAIT',
      'SYN_SENT',
      'FIN_WAIT',
    ]);
    const full = state === 'ESTABLISHED' ? 86400 : 120;
    if (rnd(5) > 0) {
      entries.push(
        ct(`${client}>${vip}`, `${backend}>${client}`, {
          proto,
          state: proto === 'udp' ? null : state,
          timeout: pick([
            full - rnd(100),
            full - rnd(50000),
            300 - rnd(300),
            290,
            30,
            0,
            900 - rnd(900),
            null,
          ]),
          unreplied: rnd(4) === 0,
          assured: rnd(4) > 0,
        }),
      );
    }
    if (rnd(3) > 0) {
      const side = rnd(2) ? sock(client, vip) : sock(backend, client);
      const timer = pick([
        undefined,
        ka(rnd(7_200_000)),
        ka(rnd(300_000)),
        ka(7_200_000 - rnd(1_000_000)),
        ka(900_000 - rnd(120_000)),
        ka(120_000 - rnd(20_000)),
        { name: 'on' as const, remainingMs: 200, count: rnd(6) },
        { name: 'persist' as const, remainingMs: 200, count: 0 },
      ]);
      socks.push({
        s: {
          ...side,
          ...(timer ? { timer } : {}),
          sendQ: pick([0, 0, 1200]),
          lastsndMs: rnd(900_000),
          lastrcvMs: rnd(900_000),
          lastackMs: rnd(900_000),
          state: pick(['ESTAB', 'ESTAB', 'CLOSE-WAIT', 'FIN-WAIT-2']),
        },
        scope: pick([undefined, 'a']),
      });
    }
    if (rnd(3) === 0)
      conns.push(
        ipvsConn(
          client,
          vip,
          backend,
          pick(['ESTABLISHED', 'FIN_WAIT', 'CLOSE', 'NONE']),
          rnd(900),
        ),
      );
    if (rnd(4) === 0) {
      const [addr, port] = client.split(':') as [string, string];
      const [daddr, dport] = vip.split(':') as [string, string];
      list.push(
        obs.probe(t + pick([-1, 1]) * rnd(500_000), {
          kind: 'state',
          oldState: 'SYN_SENT',
          newState: 'ESTABLISHED',
          netns: 0,
          tuple: { proto: 'tcp', saddr: addr, sport: Number(port), daddr, dport: Number(dport) },
          keepalive: {
            enabled: rnd(3) > 0,
            idleSec: pick([0, 60, 600, 7200]),
            intervalSec: pick([0, 10]),
            probes: pick([0, 3]),
          },
        }),
      );
    }
  }
  list.push(...ctSnapshot(t, entries));
  list.push(
    obs.begin(t, 'ipvs-conns'),
    ...conns.map((c) => obs.ipvsConn(t, c)),
    obs.end(t, 'ipvs-conns'),
  );
  list.push(
    ...ssSnapshot(
      t,
      socks.filter((x) => x.scope === undefined).map((x) => x.s),
    ),
  );
  list.push(
    ...ssSnapshot(
      t,
      socks.filter((x) => x.scope === 'a').map((x) => x.s),
      'a',
    ),
  );
  return list.sort((a, b) => a.t - b.t);
}

/** livePaths as it was: every hit's full path, sorted by (breaksIn, position), the first `keep`, in table order. */
function naiveLive(table: FlowTable, o: PathContextOptions, keep: number): string[] {
  const ctx = buildPathContext(table, o);
  const hits: { id: string; u: number; i: number }[] = [];
  let i = 0;
  for (const f of table.flows()) {
    i++;
    if (!table.isLive(f)) continue;
    const p = pathTimeouts(ctx, f);
    if (
      p.state === 'ESTABLISHED' &&
      (predictable(p) || p.layers.some((l) => l.clamp !== undefined))
    )
      hits.push({ id: p.id, u: breaksIn(p), i });
  }
  hits.sort((a, b) => a.u - b.u || a.i - b.i);
  return hits
    .slice(0, keep)
    .sort((a, b) => a.i - b.i)
    .map((h) => h.id);
}

describe('livePaths keeps the most urgent flows', () => {
  it('the same ones, in table order, as sorting every hit', () => {
    for (let seed = 1; seed <= 6; seed++) {
      const table = tableOf(mixedObservations(seed, 200));
      for (const o of [
        { now: table.latestT + 3_600_000 },
        { now: table.latestT + 200_000, pathIdleTimeoutSec: 350 },
      ]) {
        for (const keep of [0, 1, 2, 5, 17, 64, 10_000]) {
          const got = makeRuleContext(table, buildPathContext(table, o), keep)
            .livePaths()
            .map((p) => p.id);
          expect(got).toEqual(naiveLive(table, o, keep));
        }
      }
    }
  });
});

describe('screenPath agrees with pathTimeouts', () => {
  it('on generated mixed flows', () => {
    for (let seed = 1; seed <= 12; seed++) {
      expect(mismatches(tableOf(mixedObservations(seed, 150)))).toEqual([]);
    }
  });

  it('on every recorded session and bundle', async () => {
    const inputs = [
      ...readdirSync(join(FIXTURES, 'sessions')).map((d) =>
        join(FIXTURES, 'sessions', d, 'recording.ndjson'),
      ),
      ...readdirSync(join(FIXTURES, 'bundles'), { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => join(FIXTURES, 'bundles', d.name)),
    ];
    for (const input of inputs) expect(mismatches(await tableOfInput(input)), input).toEqual([]);
  });
});

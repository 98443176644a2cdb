// Real-kernel tests of the sources inside a throwaway `kdiag-src-<random>` namespace (loopback only).
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labSkipReason } from '../helpers/lab-guard.js';
import {
  conntrackEventsSource,
  conntrackListSource,
  conntrackStatsSource,
  conntrackTableSource,
  procNfConntrackSource,
  procStatNfConntrackSource,
} from '../../src/sources/conntrack-source.js';
import { iptablesSaveSource } from '../../src/sources/iptables-source.js';
import { readOwners } from '../../src/host/owners.js';
import type { RawRecord } from '../../src/engine/raw-record.js';
import type { SnapshotSource } from '../../src/sources/snapshot-source.js';
import { podSocketSources, ssInPidNetnsSource, ssSource } from '../../src/sources/ss-source.js';
import {
  podSysctlSources,
  sysctlInPidNetnsReadArgv,
  sysctlInPidNetnsSource,
  sysctlSource,
} from '../../src/sources/sysctl-source.js';
import { createNetnsFixture, type NetnsFixture } from '../helpers/netns-fixture.js';

const reason = labSkipReason('root', 'netns', 'iptables', 'conntrack');

async function snapshot(src: SnapshotSource): Promise<RawRecord[]> {
  const out: RawRecord[] = [];
  for await (const r of src.records(new AbortController().signal)) out.push(r);
  return out;
}

/** Checks the framing: begin with the command, end with exit 0, one src and one t throughout. */
function expectFramed(recs: RawRecord[], src: string, command: string): string[] {
  expect(recs[0]).toMatchObject({ src, line: command, k: 'begin' });
  expect(recs.at(-1)).toMatchObject({ src, line: 'exit 0', k: 'end' });
  expect(new Set(recs.map((r) => r.src))).toEqual(new Set([src]));
  expect(new Set(recs.map((r) => r.t))).toEqual(new Set([recs[0]!.t]));
  return recs.filter((r) => r.k === undefined).map((r) => r.line);
}

describe.skipIf(reason)('sources in a real network namespace', () => {
  let ns: NetnsFixture;
  let now = 1_000;
  const clock = (): number => now++;

  beforeAll(async () => {
    ns = await createNetnsFixture({ estTimeout: 4321 });
  });
  afterAll(() => {
    ns?.close();
  });

  it('conntrack -L -o extended,id inside the netns sees the DNATed flow', async () => {
    const recs = await snapshot(conntrackListSource({ netns: ns.name, clock }));
    const lines = expectFramed(recs, `conntrack:list@${ns.name}`, 'conntrack -L -o extended,id');
    const held = lines.find((l) => l.includes(`sport=${ns.heldPort} dport=80 `));
    expect(held).toMatch(
      /^ipv4 +2 tcp +6 \d+ ESTABLISHED src=10\.0\.0\.1 dst=10\.96\.0\.10 .* src=10\.0\.0\.2 dst=10\.0\.0\.1 sport=8080 .* id=\d+$/,
    );
    // conntrack prints its summary on stderr: kept as an err record.
    expect(
      recs
        .filter((r) => r.k === 'err')
        .map((r) => r.line)
        .join('\n'),
    ).toMatch(/flow entries have been shown/);
  });

  it('prefers /proc/net/nf_conntrack (read by cat inside the netns) and says so in the src', async () => {
    const src = await conntrackTableSource({ netns: ns.name, clock });
    expect(src.kind).toBe('procfs:nf_conntrack');
    const lines = expectFramed(
      await snapshot(src),
      `procfs:nf_conntrack@${ns.name}`,
      'cat /proc/net/nf_conntrack',
    );
    // The remaining timeout comes from the netns's own sysctl (4321 s set in this netns only).
    const held = lines.find((l) => l.includes(`sport=${ns.heldPort} dport=80 `));
    expect(held).toMatch(/^ipv4 +2 tcp +6 (\d+) ESTABLISHED /);
    expect(Number(/ESTABLISHED/.test(held!) ? held!.split(/ +/)[4] : NaN)).toBeLessThanOrEqual(
      4321,
    );
    const direct = await snapshot(procNfConntrackSource({ netns: ns.name, clock }));
    expect(direct[0]?.src).toBe(`procfs:nf_conntrack@${ns.name}`);
  });

  it('streams the table (batches, as kdiag check reads it) with the same records as records()', async () => {
    for (const make of [
      () => conntrackListSource({ netns: ns.name, clock: () => 7 }),
      () => procNfConntrackSource({ netns: ns.name, clock: () => 7 }),
    ]) {
      const streamed: RawRecord[] = [];
      for await (const b of make().batches(new AbortController().signal)) streamed.push(...b);
      const whole = await snapshot(make());
      // The held flow's timeout ticks between the two reads: compare everything but the numbers.
      const shape = (recs: RawRecord[]) =>
        recs
          .filter((r) => r.k !== 'err' || !/flow entries/.test(r.line))
          .map((r) => [r.k ?? '', r.line.replace(/\d+/g, 'N')]);
      expect(shape(streamed)).toEqual(shape(whole));
      expect(streamed.at(-1)).toMatchObject({ k: 'end', line: 'exit 0' });
    }
  });

  it('reads conntrack -S and /proc/net/stat/nf_conntrack', async () => {
    const stats = expectFramed(
      await snapshot(conntrackStatsSource({ netns: ns.name, clock })),
      `conntrack:stats@${ns.name}`,
      'conntrack -S',
    );
    expect(stats.length).toBeGreaterThan(0);
    expect(stats.every((l) => /^cpu=\d+ +\tfound=\d+ /.test(l))).toBe(true);
    const proc = expectFramed(
      await snapshot(procStatNfConntrackSource({ netns: ns.name, clock })),
      `procfs:stat_nf_conntrack@${ns.name}`,
      'cat /proc/net/stat/nf_conntrack',
    );
    expect(proc[0]).toMatch(/^entries +clashres found new invalid/);
    expect(proc.length).toBe(stats.length + 1);
  });

  it('reads the netns sysctls, not the host ones', async () => {
    const lines = expectFramed(
      await snapshot(await sysctlSource({ netns: ns.name, clock })),
      `sysctl:all@${ns.name}`,
      (await sysctlSource()).argv.join(' '),
    );
    expect(lines).toContain('net.netfilter.nf_conntrack_tcp_timeout_established = 4321');
    expect(lines.some((l) => l.startsWith('net.ipv4.tcp_keepalive_time = '))).toBe(true);
    expect(lines.some((l) => l.startsWith('kernel.osrelease = '))).toBe(true);
    const host = execFileSync(
      'cat',
      ['/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established'],
      { encoding: 'utf8' },
    ).trim();
    expect(host).not.toBe('4321');
  });

  it('lists the netns sockets with ss -tinoeH, and owners maps their inodes to the holder process', async () => {
    const lines = expectFramed(
      await snapshot(ssSource({ netns: ns.name, clock })),
      `ss:sockets@${ns.name}`,
      'ss -tinoeH',
    );
    // The client's socket: local 10.0.0.1:<port>, peer the ClusterIP (DNAT is invisible to sockets).
    const client = lines.find((l) =>
      new RegExp(`^ESTAB +\\d+ +\\d+ +10\\.0\\.0\\.1:${ns.heldPort} +10\\.96\\.0\\.10:80 `).test(l),
    );
    expect(client).toMatch(/ timer:\(keepalive,[^)]+\) ino:\d+ /);
    const ino = Number(/ ino:(\d+) /.exec(client!)?.[1]);
    expect(ino).toBeGreaterThan(0);

    const owners = await readOwners();
    const named = owners.netns.find((n) => n.names.includes(ns.name));
    expect(named?.pids).toContain(ns.holder.pid);
    const holder = owners.pids.find((p) => p.pid === ns.holder.pid);
    expect(holder).toMatchObject({ comm: 'node', netns: named!.ino });
    expect(holder?.sockets).toContain(ino);
  });

  it('enters an unnamed netns through a process in it (how pod sockets are read)', async () => {
    const pid = ns.holder.pid!;
    const direct = await snapshot(ssInPidNetnsSource(pid, 'pod_default_web-0', { clock }));
    const lines = expectFramed(
      direct,
      'ss:sockets@pod_default_web-0',
      `nsenter --net=/proc/${pid}/ns/net ss -tinoeH`,
    );
    expect(lines.some((l) => l.includes(`10.0.0.1:${ns.heldPort} `))).toBe(true);
    // From an owners table: one source per pod netns, scoped by the pod's name.
    const owners = await readOwners({ sockets: false });
    const ino = owners.netns.find((n) => n.names.includes(ns.name))!.ino;
    const table = {
      netns: [
        {
          type: 'netns' as const,
          ino,
          names: [],
          host: false,
          pids: [pid],
          pods: ['0f5b7c2e-4d3a-4b1c-9e8f-7a6b5c4d3e2f'],
          enterPid: pid,
        },
      ],
      pods: [
        {
          type: 'pod' as const,
          uid: '0f5b7c2e-4d3a-4b1c-9e8f-7a6b5c4d3e2f',
          namespace: 'default',
          name: 'web-0',
          netns: [ino],
          hostNetwork: false,
        },
      ],
      pids: [],
    };
    const sources = podSocketSources(table, { clock });
    expect(sources.map((x) => x.id)).toEqual(['ss:sockets@pod_default_web-0']);
    const viaTable = await snapshot(sources[0]!);
    expect(viaTable.some((r) => r.line.includes(`10.0.0.1:${ns.heldPort} `))).toBe(true);
  });

  it("reads a pod's own sysctls through a process in its netns (a pod's keepalive, not the node's)", async () => {
    const pid = ns.holder.pid!;
    execFileSync('ip', [
      'netns',
      'exec',
      ns.name,
      'sysctl',
      '-q',
      '-w',
      'net.ipv4.tcp_keepalive_time=333',
    ]);
    const host = execFileSync('cat', ['/proc/sys/net/ipv4/tcp_keepalive_time'], {
      encoding: 'utf8',
    }).trim();
    expect(host).not.toBe('333');
    const equivalent = [
      'nsenter',
      `--net=/proc/${pid}/ns/net`,
      ...(await sysctlSource()).argv,
    ].join(' ');
    const lines = expectFramed(
      await snapshot(await sysctlInPidNetnsSource(pid, 'pod_default_web-0', { clock })),
      'sysctl:all@pod_default_web-0',
      equivalent,
    );
    expect(lines).toContain('net.ipv4.tcp_keepalive_time = 333');
    expect(lines).toContain('net.netfilter.nf_conntrack_tcp_timeout_established = 4321');
    // What ran: grep of the files, inside the pod's netns.
    const ran = await sysctlInPidNetnsReadArgv(pid);
    expect(ran.slice(0, 6)).toEqual([
      'nsenter',
      `--net=/proc/${pid}/ns/net`,
      'grep',
      '-H',
      '-s',
      '',
    ]);
    expect(ran).toContain('/proc/sys/net/ipv4/tcp_keepalive_time');
    const owners = await readOwners({ sockets: false });
    const ino = owners.netns.find((n) => n.names.includes(ns.name))!.ino;
    const uid = '0f5b7c2e-4d3a-4b1c-9e8f-7a6b5c4d3e2f';
    const table = {
      netns: [
        {
          type: 'netns' as const,
          ino,
          names: [],
          host: false,
          pids: [pid],
          pods: [uid],
          enterPid: pid,
        },
      ],
      pods: [
        {
          type: 'pod' as const,
          uid,
          namespace: 'default',
          name: 'web-0',
          netns: [ino],
          hostNetwork: false,
        },
      ],
      pids: [],
    };
    const sources = await podSysctlSources(table, { clock });
    expect(sources.map((x) => x.id)).toEqual(['sysctl:all@pod_default_web-0']);
  });

  it('saves the netns rules with counters', async () => {
    const lines = expectFramed(
      await snapshot(iptablesSaveSource({ netns: ns.name, clock })),
      `iptables:save@${ns.name}`,
      'iptables-save -c',
    );
    expect(
      lines.some((l) =>
        /^\[\d+:\d+\] -A OUTPUT -d 10\.96\.0\.10\/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10\.0\.0\.2:8080$/.test(
          l,
        ),
      ),
    ).toBe(true);
  });

  it('streams NEW and DESTROY events of a flow created and deleted in the netns, then stops on abort', async () => {
    const events = conntrackEventsSource({ netns: ns.name, clock });
    const ac = new AbortController();
    const seen: RawRecord[] = [];
    let port: number | undefined;
    let destroyed = false;
    const reader = (async () => {
      for await (const r of events.records(ac.signal)) {
        seen.push(r);
        if (
          port !== undefined &&
          r.line.includes('[DESTROY]') &&
          r.line.includes(`sport=${port} dport=80 `)
        ) {
          destroyed = true;
          ac.abort();
        }
      }
    })();
    try {
      // conntrack -E gives no ready signal: make flows until one of their NEW events arrives (bounded).
      for (let i = 0; i < 40 && port === undefined; i++) {
        const p = ns.oneShot();
        await new Promise((r) => setTimeout(r, 150));
        if (seen.some((r) => r.line.includes('[NEW]') && r.line.includes(`sport=${p} dport=80 `)))
          port = p;
      }
      expect(port).toBeDefined();
      ns.exec(['conntrack', '-D', '-p', 'tcp', '--orig-port-src', String(port)]);
      for (let i = 0; i < 50 && !destroyed; i++) await new Promise((r) => setTimeout(r, 100));
    } finally {
      ac.abort();
      await reader;
    }
    expect(destroyed).toBe(true);
    const src = `conntrack:events@${ns.name}`;
    expect(seen.every((r) => r.src === src)).toBe(true);
    expect(seen[0]).toMatchObject({
      k: 'begin',
      line: 'conntrack -E -o timestamp,extended,id -b 8388608',
    });
    const newLine = seen.find(
      (r) => r.line.includes('[NEW]') && r.line.includes(`sport=${port} dport=80 `),
    )!.line;
    expect(newLine).toMatch(
      /^\[\d+\.\d{6}\]\t +\[NEW\] ipv4 +2 tcp +6 120 SYN_SENT src=10\.0\.0\.1 dst=10\.96\.0\.10 .* \[UNREPLIED\] src=10\.0\.0\.2 dst=10\.0\.0\.1 sport=8080 .*id=\d+$/,
    );
    const destroy = seen.find(
      (r) => r.line.includes('[DESTROY]') && r.line.includes(`sport=${port} dport=80 `),
    )!.line;
    expect(destroy).toMatch(/\[USERSPACE\] portid=\d+/);
    expect(seen.at(-1)?.k).toBe('end');
    expect(events.status.state).toBe('done');
    // The conntrack -E child has exited (setpriv and nsenter both exec, so this pid is conntrack).
    const pid = events.status.pid;
    expect(pid).toBeGreaterThan(0);
    expect(() => process.kill(pid!, 0)).toThrow();
  });
});

// Private network namespaces for the root benchmarks, named kdiag-bench-<random>-*: never the shared
// kdiag-lab-* ones (other engineers' tests use those, and labUp() removes whatever it finds), never
// connected to the host. Two shapes:
//   ctNamespace()  one namespace, loopback only, for a big conntrack table
//   benchLab()     client ─ node (the lab's kube-proxy ruleset: VIP 203.0.113.10:80 DNAT) ─ be1
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, spawnLines, type Spawned } from '../src/host/exec.js';
import { ADDR, kubeProxyRuleset, svcChainRestore } from '../src/lab/topology.js';
import { synChurnArgv } from './syn-churn.js';

export const BENCH_PREFIX = 'kdiag-bench-';

/** A unique name prefix for this process's namespaces. */
export function benchName(suffix: string): string {
  return `${BENCH_PREFIX}${randomBytes(3).toString('hex')}-${suffix}`;
}

/** Kills what runs inside a namespace, then deletes it (idempotent). */
export async function removeNetns(name: string): Promise<void> {
  if (!name.startsWith(BENCH_PREFIX))
    throw new Error(`refusing to remove ${name}: not a benchmark namespace`);
  const pids = (await run(['ip', 'netns', 'pids', name], { reject: false })).stdout
    .split(/\s+/)
    .filter((p) => /^\d{1,10}$/.test(p));
  for (const pid of pids) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await run(['ip', 'netns', 'del', name], { reject: false });
}

/** Benchmark namespaces that exist now (all of them, from any run). */
export async function listBenchNetns(): Promise<string[]> {
  const out = (await run(['ip', 'netns', 'list'], { reject: false })).stdout;
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s/)[0] ?? '')
    .filter((n) => n.startsWith(BENCH_PREFIX));
}

/** One loopback-only namespace. */
export async function ctNamespace(): Promise<{ name: string; down: () => Promise<void> }> {
  const name = benchName('ct');
  await run(['ip', 'netns', 'add', name]);
  try {
    await run(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
  } catch (err) {
    await removeNetns(name);
    throw err;
  }
  return { name, down: () => removeNetns(name) };
}

export interface BenchLab {
  readonly ns: { readonly client: string; readonly node: string; readonly be1: string };
  readonly vip: string;
  readonly vipPort: number;
  /** Starts the traffic server in be1 (listening when this resolves). */
  startServer(lifeMs: number): Promise<Spawned & { stop: () => void }>;
  /** Runs one traffic client in the client namespace and returns its RESULT object. */
  client(
    mode: 'bulk' | 'pingpong' | 'churn',
    args: readonly string[],
    timeoutMs: number,
  ): Promise<Record<string, unknown>>;
  /** Crafted-SYN churn (syn-churn.ts) from the client namespace to the VIP; its RESULT object. */
  synChurn(rate: number, ms: number): Promise<Record<string, unknown>>;
  down(): Promise<void>;
}

/** The compiled traffic program (dist/bench/traffic.js, next to this file once built). */
export function trafficScript(): string {
  return join(dirname(fileURLToPath(import.meta.url)), 'traffic.js');
}

/** Where the traffic programs run: each pinned to one CPU (taskset), or wherever the scheduler puts them. */
export interface BenchLabOptions {
  readonly pin?: { readonly client: number; readonly server: number };
}

/**
 * The CPU pinning for throughput runs: client and server each on a core of their own (on a 2-core VM
 * free-running ones trade places and bulk throughput swings by ±20% from one run to the next; pinned,
 * ±8%), or none on a one-core machine.
 */
export function splitPin(): BenchLabOptions['pin'] {
  return availableParallelism() >= 2 ? { client: 0, server: 1 } : undefined;
}

/** Builds client ─ node ─ be1 with the lab's addresses and kube-proxy ruleset (endpoints: be1 only). */
export async function benchLab(opts: BenchLabOptions = {}): Promise<BenchLab> {
  const pinned = (cpu: number | undefined, argv: readonly string[]): string[] =>
    cpu === undefined ? [...argv] : ['taskset', '-c', String(cpu), ...argv];
  const tag = randomBytes(3).toString('hex');
  const ns = {
    client: `${BENCH_PREFIX}${tag}-client`,
    node: `${BENCH_PREFIX}${tag}-node`,
    be1: `${BENCH_PREFIX}${tag}-be1`,
  };
  const down = async (): Promise<void> => {
    for (const n of Object.values(ns)) await removeNetns(n);
  };
  const ip = (netns: string, ...args: string[]) => run(['ip', '-n', netns, ...args]);
  try {
    for (const n of Object.values(ns)) {
      await run(['ip', 'netns', 'add', n]);
      await ip(n, 'link', 'set', 'lo', 'up');
    }
    await ip(
      ns.client,
      'link',
      'add',
      'eth0',
      'type',
      'veth',
      'peer',
      'name',
      'to-client',
      'netns',
      ns.node,
    );
    await ip(
      ns.be1,
      'link',
      'add',
      'eth0',
      'type',
      'veth',
      'peer',
      'name',
      'to-be1',
      'netns',
      ns.node,
    );
    const addrs: Array<[string, string, string]> = [
      [ns.client, 'eth0', `${ADDR.client}/25`],
      [ns.node, 'to-client', `${ADDR.mboxClientSide}/25`],
      [ns.node, 'to-be1', `${ADDR.nodeBack}/24`],
      [ns.be1, 'eth0', `${ADDR.be1}/24`],
    ];
    for (const [n, dev, cidr] of addrs) {
      await ip(n, 'addr', 'add', cidr, 'dev', dev);
      await ip(n, 'link', 'set', dev, 'up');
    }
    await ip(ns.client, 'route', 'add', '203.0.113.0/24', 'via', ADDR.mboxClientSide);
    await ip(ns.client, 'route', 'add', '198.51.100.0/24', 'via', ADDR.mboxClientSide);
    await ip(ns.be1, 'route', 'add', '192.0.2.0/24', 'via', ADDR.nodeBack);
    await run(
      [
        'sysctl',
        '-q',
        '-w',
        'net.ipv4.ip_forward=1',
        'net.ipv4.conf.all.rp_filter=0',
        'net.ipv4.conf.default.rp_filter=0',
      ],
      { netns: ns.node },
    );
    await run(['iptables-restore'], {
      netns: ns.node,
      input: kubeProxyRuleset({ dropInvalid: false }),
    });
    await run(['iptables-restore', '--noflush'], {
      netns: ns.node,
      input: svcChainRestore(['be1']),
    });
    // RST-churn reuses client ports quickly: let the client pick from the whole ephemeral range
    await run(['sysctl', '-q', '-w', 'net.ipv4.ip_local_port_range=10000 65000'], {
      netns: ns.client,
    });
    await run(
      ['sysctl', '-q', '-w', 'net.core.somaxconn=4096', 'net.ipv4.tcp_max_syn_backlog=8192'],
      { netns: ns.be1 },
    );
  } catch (err) {
    await down();
    throw err;
  }
  const script = trafficScript();
  return {
    ns,
    vip: ADDR.vip,
    vipPort: ADDR.vipPort,
    async startServer(lifeMs) {
      const abort = new AbortController();
      const sp = spawnLines(
        pinned(opts.pin?.server, [
          'node',
          script,
          'server',
          '--port',
          String(ADDR.backendPort),
          '--life-ms',
          String(lifeMs),
        ]),
        {
          netns: ns.be1,
          signal: abort.signal,
          killSignal: 'SIGKILL',
          dieWithParent: true,
        },
      );
      for await (const l of sp.lines) if (l.stream === 'stdout' && l.line === 'LISTENING') break;
      return { ...sp, stop: () => abort.abort() };
    },
    async client(mode, args, timeoutMs) {
      const r = await run(
        pinned(opts.pin?.client, [
          'node',
          script,
          mode,
          '--host',
          ADDR.vip,
          '--port',
          String(ADDR.vipPort),
          ...args,
        ]),
        { netns: ns.client, reject: false, timeoutMs },
      );
      const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (!line)
        throw new Error(
          `traffic ${mode} failed (exit ${r.exitCode}): ${r.stderr.trim().slice(-300)}`,
        );
      return JSON.parse(line.slice(7)) as Record<string, unknown>;
    },
    async synChurn(rate, ms) {
      const r = await run(synChurnArgv(ADDR.client, ADDR.vip, ADDR.vipPort, rate, ms), {
        netns: ns.client,
        reject: false,
        timeoutMs: ms + 30_000,
      });
      const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (!line)
        throw new Error(`syn churn failed (exit ${r.exitCode}): ${r.stderr.trim().slice(-300)}`);
      return JSON.parse(line.slice(7)) as Record<string, unknown>;
    },
    down,
  };
}

// Real kernel: the timer facts the timer race rests on (docs/kernel-timers.md), in two kdiag-tm-*
// namespaces joined by one veth pair. Probes are counted by an iptables rule in the client's
// OUTPUT chain; the client's conntrack entry shows whether a packet re-armed it.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labSkipReason } from '../helpers/lab-guard.js';

const run = promisify(execFile);
const C = 'kdiag-tm-c';
const S = 'kdiag-tm-s';
const CLIENT_IP = '192.0.2.21';
const SERVER_IP = '192.0.2.22';
const CT_ESTABLISHED = 100;

function hasPython(): boolean {
  try {
    execFileSync('python3', ['-c', 'import socket; socket.TCP_KEEPIDLE']);
    return true;
  } catch {
    return false;
  }
}

function pythonSkipReason(): string | undefined {
  if (hasPython()) return undefined;
  const why = 'python3 with TCP_KEEPIDLE not installed (sets per-socket keepalive)';
  if (process.env.KDIAG_REQUIRE_LAB === '1')
    throw new Error(`KDIAG_REQUIRE_LAB=1 but the lab cannot run: ${why}`);
  process.stderr.write(`[lab tests skipped: ${why}]\n`);
  return why;
}

const reason = labSkipReason('root', 'netns', 'iptables', 'conntrack') ?? pythonSkipReason();

// Node's setKeepAlive fixes TCP_KEEPINTVL at 1 s (libuv), so the sockets come from python.
const SERVER = `
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', int(sys.argv[1]))); s.listen(8); s.settimeout(120)
print('listening', flush=True); conns = []
while True:
    try: conns.append(s.accept()[0])
    except Exception: break
`;
const CLIENT = `
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
idle, intvl = int(sys.argv[3]), int(sys.argv[4])
if idle > 0:
    c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, idle)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, intvl)
print('connected', c.getsockname()[1], flush=True)
for line in sys.stdin:
    if line.strip() == 'send': c.send(b'x')
    else: break
c.close()
`;

const children: ChildProcess[] = [];
const ip = (...args: string[]) =>
  execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const inNs = (ns: string, ...args: string[]) =>
  execFileSync('ip', ['netns', 'exec', ns, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  }).toString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function teardown(): void {
  for (const ns of [C, S]) {
    try {
      ip('netns', 'del', ns);
    } catch {
      // Not there: nothing to remove.
    }
  }
}

function firstLine(child: ChildProcess, want: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(
      () => reject(new Error(`no "${want.source}" from the lab helper: ${buf}`)),
      5000,
    );
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = want.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    });
  });
}

async function server(port: number): Promise<void> {
  const child = spawn('ip', ['netns', 'exec', S, 'python3', '-c', SERVER, String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  await firstLine(child, /listening/);
}

async function client(
  port: number,
  idle: number,
  intvl: number,
): Promise<{ child: ChildProcess; sport: number }> {
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      C,
      'python3',
      '-c',
      CLIENT,
      SERVER_IP,
      String(port),
      String(idle),
      String(intvl),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  children.push(child);
  const line = await firstLine(child, /connected (\d+)/);
  return { child, sport: Number(line.split(' ')[1]) };
}

interface Sample {
  t: number;
  pkts: number;
  ct: number | undefined;
}

async function sample(port: number, sport: number): Promise<Sample> {
  const t = performance.now() / 1000;
  const [ipt, ct] = await Promise.all([
    run('ip', ['netns', 'exec', C, 'iptables', '-w', '-L', 'OUTPUT', '-v', '-x', '-n']),
    run('ip', [
      'netns',
      'exec',
      C,
      'conntrack',
      '-L',
      '-p',
      'tcp',
      '--sport',
      String(sport),
      '--dport',
      String(port),
    ]).catch(() => ({ stdout: '' })),
  ]);
  const m = new RegExp(`^\\s*(\\d+)\\s+\\d+\\s+ACCEPT\\s+6 .*dpt:${port}\\b`, 'm').exec(ipt.stdout);
  const c = /^tcp\s+6\s+(\d+)\s+ESTABLISHED/m.exec(ct.stdout);
  return { t, pkts: m ? Number(m[1]) : -1, ct: c ? Number(c[1]) : undefined };
}

/** Samples every 100 ms for `seconds`; returns each probe's time and the entry's timer around it. */
async function watchProbes(port: number, sport: number, seconds: number) {
  const samples: Sample[] = [];
  const t0 = performance.now() / 1000;
  while (performance.now() / 1000 - t0 < seconds) {
    samples.push(await sample(port, sport));
    await sleep(100);
  }
  // ctLow: the lowest timer read since the previous probe. A sample reads the counter and the entry
  // in parallel, so the one just before a probe may already show the entry re-armed, and the one
  // that counts the probe may still show the old timer: ctAfter takes it or the next one.
  const probes: { t: number; ctLow: number | undefined; ctAfter: number | undefined }[] = [];
  let since = 0;
  for (let i = 1; i < samples.length; i++) {
    if (samples[i]!.pkts <= samples[i - 1]!.pkts) continue;
    const cts = samples
      .slice(since, i)
      .map((s) => s.ct)
      .filter((c) => c !== undefined);
    probes.push({
      t: samples[i]!.t - t0,
      ctLow: cts.length > 0 ? Math.min(...cts) : undefined,
      ctAfter: Math.max(samples[i]!.ct ?? -1, samples[i + 1]?.ct ?? -1),
    });
    since = i + 1;
  }
  return probes;
}

function ruleFor(port: number): void {
  inNs(C, 'iptables', '-w', '-A', 'OUTPUT', '-p', 'tcp', '--dport', String(port), '-j', 'ACCEPT');
}

/** Opens a keepalive connection, watches its probes for `seconds`, and returns them with their gaps. */
async function keepaliveRun(
  port: number,
  idle: number,
  intvl: number,
  seconds: number,
  dropAnswers: boolean,
) {
  ruleFor(port);
  await server(port);
  const { child, sport } = await client(port, idle, intvl);
  const drop = [
    'iptables',
    '-w',
    '-I',
    'INPUT',
    '-p',
    'tcp',
    '--dport',
    String(port),
    '-j',
    'DROP',
  ];
  if (dropAnswers) inNs(S, ...drop);
  const probes = await watchProbes(port, sport, seconds);
  if (dropAnswers) inNs(S, ...drop.map((a) => (a === '-I' ? '-D' : a)));
  child.stdin!.end('quit\n');
  process.stderr.write(
    `[timer-facts] idle ${idle} intvl ${intvl}${dropAnswers ? ' unanswered' : ''}: probes at ${probes.map((p) => p.t.toFixed(2)).join(', ')} s\n`,
  );
  return { probes, gaps: probes.slice(1).map((p, i) => p.t - probes[i]!.t) };
}

describe.skipIf(reason)('lab: kernel timer facts', () => {
  beforeAll(() => {
    teardown();
    ip('netns', 'add', C);
    ip('netns', 'add', S);
    ip('link', 'add', 'kdiag-tm-c0', 'type', 'veth', 'peer', 'name', 'kdiag-tm-s0');
    ip('link', 'set', 'kdiag-tm-c0', 'netns', C);
    ip('link', 'set', 'kdiag-tm-s0', 'netns', S);
    ip('-n', C, 'addr', 'add', `${CLIENT_IP}/24`, 'dev', 'kdiag-tm-c0');
    ip('-n', S, 'addr', 'add', `${SERVER_IP}/24`, 'dev', 'kdiag-tm-s0');
    for (const [ns, dev] of [
      [C, 'kdiag-tm-c0'],
      [S, 'kdiag-tm-s0'],
    ] as const) {
      ip('-n', ns, 'link', 'set', dev, 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    // A conntrack match makes the client's netns track its flows.
    inNs(
      C,
      'iptables',
      '-w',
      '-A',
      'INPUT',
      '-m',
      'conntrack',
      '--ctstate',
      'ESTABLISHED',
      '-j',
      'ACCEPT',
    );
    inNs(
      C,
      'sysctl',
      '-qw',
      `net.netfilter.nf_conntrack_tcp_timeout_established=${CT_ESTABLISHED}`,
    );
  });

  afterAll(async () => {
    for (const c of children) c.kill('SIGTERM');
    await sleep(200);
    teardown();
    expect(
      ip('netns', 'list')
        .split('\n')
        .filter((l) => l.startsWith('kdiag-tm-')),
    ).toEqual([]);
  });

  it(
    'answered probes come every keepintvl when keepintvl > keepidle, and each re-arms conntrack',
    { timeout: 30_000 },
    async () => {
      const { probes, gaps } = await keepaliveRun(9001, 2, 5, 13, false);
      expect(gaps.length).toBeGreaterThanOrEqual(1);
      for (const g of gaps) expect(Math.abs(g - 5)).toBeLessThan(Math.abs(g - 2));
      // Fact c: after each probe the entry's timer is back at the ESTABLISHED timeout.
      for (const p of probes.slice(1)) {
        expect(p.ctAfter).toBeGreaterThanOrEqual(CT_ESTABLISHED - 2);
        expect(p.ctLow).toBeLessThan(p.ctAfter! - 2);
      }
    },
  );

  it(
    'answered probes come every keepidle when keepintvl < keepidle',
    { timeout: 30_000 },
    async () => {
      const { gaps } = await keepaliveRun(9002, 4, 1, 14, false);
      expect(gaps.length).toBeGreaterThanOrEqual(2);
      for (const g of gaps) expect(Math.abs(g - 4)).toBeLessThan(Math.abs(g - 1));
    },
  );

  it(
    "unanswered probes come every keepintvl, and still re-arm the sender's conntrack entry",
    { timeout: 30_000 },
    async () => {
      const { probes, gaps } = await keepaliveRun(9004, 4, 1, 8, true);
      expect(gaps.length).toBeGreaterThanOrEqual(2);
      for (const g of gaps) expect(Math.abs(g - 1)).toBeLessThan(Math.abs(g - 4));
      for (const p of probes) expect(p.ctAfter).toBeGreaterThanOrEqual(CT_ESTABLISHED - 2);
    },
  );

  it(
    'conntrack -U on the exact tuple moves the deadline; a sysctl change waits for the next packet',
    { timeout: 30_000 },
    async () => {
      ruleFor(9003);
      await server(9003);
      const { child, sport } = await client(9003, 0, 0);
      const tuple = [
        '-p',
        'tcp',
        '-s',
        CLIENT_IP,
        '-d',
        SERVER_IP,
        '--sport',
        String(sport),
        '--dport',
        '9003',
      ];
      const timer = async () => (await sample(9003, sport)).ct;
      // The client's last handshake ACK may pass conntrack just after connect() returns.
      for (let i = 0; i < 20 && (await timer()) === undefined; i++) await sleep(50);
      expect(await timer()).toBeGreaterThanOrEqual(CT_ESTABLISHED - 2);
      inNs(C, 'conntrack', '-U', ...tuple, '--timeout', '40');
      expect(await timer()).toBeLessThanOrEqual(40);
      inNs(C, 'sysctl', '-qw', 'net.netfilter.nf_conntrack_tcp_timeout_established=300');
      expect(await timer()).toBeLessThanOrEqual(40);
      child.stdin!.write('send\n');
      await sleep(300);
      expect(await timer()).toBeGreaterThanOrEqual(298);
      // A filtered update walks the table; record what this conntrack-tools does with it.
      const filtered = await run('ip', [
        'netns',
        'exec',
        C,
        'conntrack',
        '-U',
        '-p',
        'tcp',
        '--state',
        'ESTABLISHED',
        '--timeout',
        '50',
      ]).then(
        (r) => `ok: ${r.stderr.trim()}`,
        (e: Error) => `failed: ${e.message.split('\n').slice(-2).join(' ').trim()}`,
      );
      process.stderr.write(
        `[timer-facts] conntrack -U -p tcp --state ESTABLISHED --timeout 50: ${filtered}; timer now ${await timer()}\n`,
      );
      // With the family named, the filtered update reaches the existing entry.
      inNs(
        C,
        'conntrack',
        '-U',
        '-f',
        'ipv4',
        '-p',
        'tcp',
        '--state',
        'ESTABLISHED',
        '--dport',
        '9003',
        '--timeout',
        '50',
      );
      expect(await timer()).toBeLessThanOrEqual(50);
      inNs(
        C,
        'sysctl',
        '-qw',
        `net.netfilter.nf_conntrack_tcp_timeout_established=${CT_ESTABLISHED}`,
      );
      child.stdin!.end('quit\n');
    },
  );

  it('each netns holds its own tcp_keepalive_time: a host change reaches neither an existing nor a new netns', () => {
    const key = 'net.ipv4.tcp_keepalive_time';
    const host = Number(execFileSync('sysctl', ['-n', key]).toString());
    const before = Number(inNs(C, 'sysctl', '-n', key));
    // The host's value moves by one second for under a second and is put back even on failure.
    try {
      execFileSync('sysctl', ['-qw', `${key}=${host - 1}`]);
      expect(Number(inNs(C, 'sysctl', '-n', key))).toBe(before);
      ip('netns', 'add', 'kdiag-tm-new');
      try {
        expect(Number(inNs('kdiag-tm-new', 'sysctl', '-n', key))).toBe(7200);
      } finally {
        ip('netns', 'del', 'kdiag-tm-new');
      }
    } finally {
      execFileSync('sysctl', ['-qw', `${key}=${host}`]);
    }
    inNs(C, 'sysctl', '-qw', `${key}=300`);
    expect(Number(execFileSync('sysctl', ['-n', key]).toString())).toBe(host);
  });
});

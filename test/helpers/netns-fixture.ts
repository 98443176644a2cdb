// A throwaway `kdiag-src-<random>` network namespace for source tests: loopback only (never wired to
// the host), a "ClusterIP" 10.96.0.10:80 DNAT'ed to a server on 10.0.0.2:8080 (domain.md §9.1), and a
// bounded node process holding one keepalive connection through it. `close()` removes everything.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface NetnsFixture {
  readonly name: string;
  /** The node process holding the connection (its pid is inside the namespace). */
  readonly holder: ChildProcess;
  /** The client's local port of the held connection. */
  readonly heldPort: number;
  /** Opens and closes one more connection to 10.96.0.10:80; returns the client's local port. */
  oneShot(): number;
  /** Runs a command inside the namespace and returns stdout. */
  exec(argv: readonly string[]): string;
  close(): void;
}

const HOLDER = `
const net = require('net');
const server = net.createServer((s) => { s.on('data', (d) => s.write(d)); s.on('error', () => {}); });
server.listen(8080, '10.0.0.2', () => {
  const c = net.connect({ host: '10.96.0.10', port: 80 }, () => {
    c.setKeepAlive(true, 60000);
    c.write('hi');
  });
  c.once('data', () => process.stdout.write('ready ' + c.localPort + '\\n'));
  c.on('error', (e) => { process.stderr.write(e.message + '\\n'); process.exit(1); });
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
setTimeout(() => process.exit(0), 120000);
`;

const ONE_SHOT = `
const s = require('net').connect({ host: '10.96.0.10', port: 80 }, () => { s.write('x'); });
s.once('data', () => { process.stdout.write(String(s.localPort)); s.end(); });
s.on('close', () => process.exit(0));
s.on('error', (e) => { process.stderr.write(e.message); process.exit(1); });
setTimeout(() => process.exit(2), 5000);
`;

function sh(argv: readonly string[]): string {
  return execFileSync(argv[0]!, argv.slice(1), {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 20_000,
  });
}

/** Creates the namespace, its DNAT rule and the holder connection. */
export async function createNetnsFixture(
  opts: { readonly estTimeout?: number } = {},
): Promise<NetnsFixture> {
  const name = `kdiag-src-${randomBytes(4).toString('hex')}`;
  const inNs = (argv: readonly string[]): string => sh(['ip', 'netns', 'exec', name, ...argv]);
  let holder: ChildProcess | undefined;
  const close = (): void => {
    if (holder && holder.exitCode === null) {
      holder.stdin?.end();
      holder.kill('SIGKILL');
    }
    try {
      sh(['ip', 'netns', 'del', name]);
    } catch {
      // already gone
    }
  };
  try {
    sh(['ip', 'netns', 'add', name]);
    sh(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
    sh(['ip', '-n', name, 'addr', 'add', '10.0.0.1/32', 'dev', 'lo']);
    sh(['ip', '-n', name, 'addr', 'add', '10.0.0.2/32', 'dev', 'lo']);
    sh(['ip', '-n', name, 'route', 'add', '10.96.0.0/12', 'dev', 'lo', 'src', '10.0.0.1']);
    inNs([
      'iptables',
      '-t',
      'nat',
      '-A',
      'OUTPUT',
      '-d',
      '10.96.0.10/32',
      '-p',
      'tcp',
      '--dport',
      '80',
      '-j',
      'DNAT',
      '--to-destination',
      '10.0.0.2:8080',
    ]);
    if (opts.estTimeout !== undefined)
      inNs([
        'sysctl',
        '-q',
        '-w',
        `net.netfilter.nf_conntrack_tcp_timeout_established=${opts.estTimeout}`,
      ]);
    const child = spawn('ip', ['netns', 'exec', name, process.execPath, '-e', HOLDER], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    holder = child;
    const heldPort = await new Promise<number>((resolve, reject) => {
      let out = '';
      let err = '';
      const timer = setTimeout(() => reject(new Error(`holder not ready: ${err}`)), 15_000);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /ready (\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`holder exited ${code}: ${err}`));
      });
    });
    return {
      name,
      holder: child,
      heldPort,
      oneShot: () => Number(inNs([process.execPath, '-e', ONE_SHOT]).trim()),
      exec: inNs,
      close,
    };
  } catch (err) {
    close();
    throw err;
  }
}

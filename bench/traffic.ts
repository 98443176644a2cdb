// Bounded traffic for the root benchmarks, run inside a kdiag-bench-* namespace:
//   ip netns exec NS node dist/bench/traffic.js server --port 8080 --life-ms 600000
//   ip netns exec NS node dist/bench/traffic.js bulk|pingpong|churn --host VIP --port 80 --ms 5000 [--rate N]
//     [--procs N] (churn: N processes sharing the rate)
// Every mode ends by itself (duration, life limit); a client prints one `RESULT {json}` line.
// The first byte of a connection tells the server what to do: B = count bytes (bulk), P = echo.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

function arg(argv: readonly string[], flag: string, dflt: number): number {
  const i = argv.indexOf(flag);
  const v = i >= 0 ? Number(argv[i + 1]) : dflt;
  if (!Number.isFinite(v) || v < 0) throw new Error(`bad ${flag}`);
  return v;
}

function strArg(argv: readonly string[], flag: string, dflt: string): string {
  const i = argv.indexOf(flag);
  return i >= 0 ? (argv[i + 1] ?? dflt) : dflt;
}

function server(port: number, lifeMs: number): void {
  const srv = net.createServer((sock) => {
    sock.on('error', () => {});
    let mode = 0;
    let bytes = 0;
    let t0 = 0;
    sock.on('data', (chunk: Buffer) => {
      if (mode === 0) {
        mode = chunk[0]!;
        t0 = performance.now();
        chunk = chunk.subarray(1);
      }
      if (mode === 0x42) bytes += chunk.length;
      else if (mode === 0x50 && chunk.length > 0) sock.write(chunk);
    });
    sock.on('end', () => {
      if (mode === 0x42) sock.end(JSON.stringify({ bytes, ms: performance.now() - t0 }));
      else sock.end();
    });
  });
  srv.listen(port, () => process.stdout.write('LISTENING\n'));
  setTimeout(() => process.exit(0), lifeMs).unref();
  // the driver stops us (SIGKILL through its abort signal, or pdeathsig when it dies)
}

function connect(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

async function bulk(host: string, port: number, ms: number): Promise<unknown> {
  const s = await connect(host, port);
  const chunk = Buffer.alloc(128 * 1024, 0x61);
  s.write('B');
  const until = performance.now() + ms;
  let sent = 0;
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (performance.now() < until) {
        sent += chunk.length;
        if (!s.write(chunk)) {
          s.once('drain', pump);
          return;
        }
      }
      resolve();
    };
    pump();
  });
  s.end();
  const reply = await new Promise<string>((resolve, reject) => {
    let buf = '';
    s.on('data', (d: Buffer) => (buf += d.toString()));
    s.on('end', () => resolve(buf));
    s.on('error', reject);
  });
  const r = JSON.parse(reply) as { bytes: number; ms: number };
  return { sent, received: r.bytes, serverMs: r.ms, bytesPerSec: (r.bytes / r.ms) * 1000 };
}

async function pingpong(host: string, port: number, ms: number, size: number): Promise<unknown> {
  const s = await connect(host, port);
  s.setNoDelay(true);
  s.write('P');
  const msg = Buffer.alloc(size, 0x62);
  let got = 0;
  let rtts = 0;
  const t0 = performance.now();
  const until = t0 + ms;
  await new Promise<void>((resolve, reject) => {
    s.on('error', reject);
    s.on('data', (d: Buffer) => {
      got += d.length;
      while (got >= size) {
        got -= size;
        rtts++;
        if (performance.now() >= until) {
          resolve();
          return;
        }
        s.write(msg);
      }
    });
    s.write(msg);
  });
  const elapsed = performance.now() - t0;
  s.destroy();
  return { rtts, ms: elapsed, perSec: (rtts / elapsed) * 1000 };
}

/** Opens connections at `rate`/s for `ms`, each reset (RST) right after connecting; at most `maxOpen` in flight. */
async function churn(
  host: string,
  port: number,
  ms: number,
  rate: number,
  maxOpen: number,
): Promise<unknown> {
  let attempted = 0;
  let connected = 0;
  let errors = 0;
  let inFlight = 0;
  const t0 = performance.now();
  const until = t0 + ms;
  const errCodes: Record<string, number> = {};
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      const due = rate === 0 ? Infinity : Math.floor(((now - t0) / 1000) * rate);
      while (attempted < due && inFlight < maxOpen && now < until) {
        attempted++;
        inFlight++;
        const s = net.connect({ host, port });
        s.once('connect', () => {
          connected++;
          s.resetAndDestroy();
        });
        s.once('error', (e: NodeJS.ErrnoException) => {
          errors++;
          errCodes[e.code ?? 'unknown'] = (errCodes[e.code ?? 'unknown'] ?? 0) + 1;
        });
        s.once('close', () => {
          inFlight--;
          if (rate === 0) setImmediate(tick);
        });
      }
      if (now >= until) {
        const wait = setInterval(() => {
          if (inFlight === 0 || performance.now() > until + 5000) {
            clearInterval(wait);
            resolve();
          }
        }, 20);
        return;
      }
      setTimeout(tick, 5);
    };
    tick();
  });
  const elapsed = Math.min(performance.now(), until) - t0;
  return {
    attempted,
    connected,
    errors,
    errCodes,
    ms: elapsed,
    perSec: (connected / elapsed) * 1000,
  };
}

/**
 * `churn` in `procs` processes of its own, each at rate/procs, summed: one Node process opens at most
 * ~3,000–4,000 connections/s on this VM (its event loop is the limit: a connect, a reset and a close
 * cost it ~250 µs), short of the 4,000/s (20,000 conntrack events/s) the event figure needs.
 */
async function churnProcs(argv: readonly string[], procs: number, rate: number): Promise<unknown> {
  const script = process.argv[1]!;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--procs' || argv[i] === '--rate') i++;
    else rest.push(argv[i]!);
  }
  const one = async (share: number): Promise<Record<string, unknown>> => {
    const child = spawn(
      process.execPath,
      [script, ...rest, '--rate', String(share), '--procs', '1'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const line = out.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) throw new Error(`churn worker exited ${code} without a result`);
    return JSON.parse(line.slice(7)) as Record<string, unknown>;
  };
  const shares = Array.from({ length: procs }, (_x, i) =>
    rate === 0 ? 0 : Math.floor(rate / procs) + (i < rate % procs ? 1 : 0),
  );
  const rs = await Promise.all(shares.map(one));
  const sum = (k: string): number => rs.reduce((a, r) => a + Number(r[k] ?? 0), 0);
  const ms = Math.max(...rs.map((r) => Number(r.ms)));
  const errCodes: Record<string, number> = {};
  for (const r of rs)
    for (const [k, v] of Object.entries((r.errCodes ?? {}) as Record<string, number>))
      errCodes[k] = (errCodes[k] ?? 0) + v;
  return {
    attempted: sum('attempted'),
    connected: sum('connected'),
    errors: sum('errors'),
    errCodes,
    ms,
    perSec: (sum('connected') / ms) * 1000,
    procs,
    perProc: rs.map((r) => Math.round(Number(r.perSec))),
  };
}

/** Entry point: the mode is the first argument. */
export async function main(argv: readonly string[]): Promise<void> {
  const mode = argv[0];
  const host = strArg(argv, '--host', '127.0.0.1');
  const port = arg(argv, '--port', 80);
  const ms = arg(argv, '--ms', 5000);
  // a hard stop whatever happens: no traffic program outlives its benchmark
  setTimeout(
    () => process.exit(3),
    mode === 'server' ? arg(argv, '--life-ms', 600_000) + 1000 : ms + 30_000,
  ).unref();
  let r: unknown;
  switch (mode) {
    case 'server':
      return server(port, arg(argv, '--life-ms', 600_000));
    case 'bulk':
      r = await bulk(host, port, ms);
      break;
    case 'pingpong':
      r = await pingpong(host, port, ms, arg(argv, '--size', 64));
      break;
    case 'churn': {
      const procs = Math.max(1, Math.floor(arg(argv, '--procs', 1)));
      r =
        procs > 1
          ? await churnProcs(argv, procs, arg(argv, '--rate', 1000))
          : await churn(host, port, ms, arg(argv, '--rate', 1000), arg(argv, '--max-open', 512));
      break;
    }
    default:
      throw new Error('usage: traffic server|bulk|pingpong|churn …');
  }
  process.stdout.write(`RESULT ${JSON.stringify(r)}\n`);
  process.exit(0);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`traffic: ${(err as Error).message}\n`);
    process.exit(1);
  });
}

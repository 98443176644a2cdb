// The lab's traffic agent: a TCP server (backends) or client, run inside a lab namespace as
//   ip netns exec kdiag-lab-be1 node dist/src/lab/agent.js server --ctl SOCK --id be1 --port 8080
//   ip netns exec kdiag-lab-client node dist/src/lab/agent.js client --ctl SOCK --id client
// It talks JSON lines over a UNIX socket (a filesystem path, so it crosses network namespaces):
// events out ({"ev":"accept"|"connected"|"data"|"end"|"error"|"close",…,"t":ms}), commands in
// ({"cmd":"connect"|"write"|"end"|"keepalive"|"destroy"|"quit",…}). It exits by itself when the
// control socket closes or after --max-life-ms, so no agent outlives the lab driver.
import net from 'node:net';
import { pathToFileURL } from 'node:url';

export interface AgentEvent {
  readonly ev:
    | 'hello'
    | 'listening'
    | 'accept'
    | 'connected'
    | 'data'
    | 'end'
    | 'error'
    | 'close'
    | 'written'
    | 'bad-command';
  readonly t: number;
  readonly id?: string;
  readonly conn?: number;
  readonly local?: string;
  readonly remote?: string;
  readonly text?: string;
  readonly code?: string;
  readonly message?: string;
  readonly hadError?: boolean;
}

export type AgentCommand =
  | { cmd: 'connect'; host: string; port: number; keepAliveMs?: number }
  | { cmd: 'write'; conn: number; data: string }
  | { cmd: 'end'; conn: number }
  | { cmd: 'keepalive'; conn: number; ms: number }
  | { cmd: 'destroy'; conn: number }
  | { cmd: 'quit' };

interface Args {
  role: 'server' | 'client';
  ctl: string;
  id: string;
  port: number;
  maxLifeMs: number;
}

function parseArgs(argv: readonly string[]): Args {
  const role = argv[0];
  if (role !== 'server' && role !== 'client')
    throw new Error('usage: agent server|client --ctl SOCK --id ID [--port N] [--max-life-ms N]');
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const ctl = get('--ctl');
  if (!ctl) throw new Error('agent: --ctl is required');
  const port = Number(get('--port') ?? '8080');
  const maxLifeMs = Number(get('--max-life-ms') ?? '180000');
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error('agent: bad --port');
  if (!Number.isFinite(maxLifeMs) || maxLifeMs <= 0) throw new Error('agent: bad --max-life-ms');
  return { role, ctl, id: get('--id') ?? role, port, maxLifeMs };
}

const addr = (ip: string | undefined, port: number | undefined): string =>
  `${ip ?? '?'}:${port ?? 0}`;

/** Runs the agent until the control socket closes, `quit`, or the life limit. */
export async function runAgent(argv: readonly string[]): Promise<void> {
  const args = parseArgs(argv);
  const ctl = net.createConnection(args.ctl);
  await new Promise<void>((resolve, reject) => {
    ctl.once('connect', resolve);
    ctl.once('error', reject);
  });
  const conns = new Map<number, net.Socket>();
  let nextConn = 1;
  const servers: net.Server[] = [];
  const emit = (e: Omit<AgentEvent, 't' | 'id'>): void => {
    if (!ctl.destroyed) ctl.write(`${JSON.stringify({ ...e, id: args.id, t: Date.now() })}\n`);
  };
  const shutdown = (): void => {
    for (const s of conns.values()) s.destroy();
    for (const srv of servers) srv.close();
    ctl.destroy();
    clearTimeout(life);
    // Sockets are gone; let the event loop drain and exit on its own.
    setTimeout(() => process.exit(0), 200).unref();
  };
  const life = setTimeout(shutdown, args.maxLifeMs);
  life.unref();

  const track = (sock: net.Socket, kind: 'accept' | 'connected'): number => {
    const conn = nextConn++;
    conns.set(conn, sock);
    sock.setEncoding('utf8');
    sock.on('data', (text: string) => {
      emit({ ev: 'data', conn, text: text.slice(0, 4096) });
      // Backends echo, so a client can tell "data went through" from "data vanished".
      if (args.role === 'server') sock.write(text);
    });
    sock.on('end', () => emit({ ev: 'end', conn }));
    sock.on('error', (err: NodeJS.ErrnoException) =>
      emit({ ev: 'error', conn, code: err.code ?? 'EUNKNOWN', message: err.message }),
    );
    sock.on('close', (hadError) => {
      conns.delete(conn);
      emit({ ev: 'close', conn, hadError });
    });
    if (kind === 'accept') {
      emit({
        ev: 'accept',
        conn,
        local: addr(sock.localAddress, sock.localPort),
        remote: addr(sock.remoteAddress, sock.remotePort),
      });
    }
    return conn;
  };

  const handle = (c: AgentCommand): void => {
    switch (c.cmd) {
      case 'connect': {
        // allowHalfOpen: a peer's FIN must not close our side, or CLOSE_WAIT cannot be held open.
        const sock = net.createConnection({ host: c.host, port: c.port, allowHalfOpen: true });
        const conn = track(sock, 'connected');
        sock.once('connect', () => {
          if (c.keepAliveMs !== undefined) sock.setKeepAlive(true, c.keepAliveMs);
          emit({
            ev: 'connected',
            conn,
            local: addr(sock.localAddress, sock.localPort),
            remote: addr(sock.remoteAddress, sock.remotePort),
          });
        });
        return;
      }
      case 'write': {
        const sock = conns.get(c.conn);
        if (!sock) return emit({ ev: 'bad-command', message: `no connection ${c.conn}` });
        sock.write(c.data, () => emit({ ev: 'written', conn: c.conn }));
        return;
      }
      case 'end':
        conns.get(c.conn)?.end();
        return;
      case 'keepalive':
        conns.get(c.conn)?.setKeepAlive(true, c.ms);
        return;
      case 'destroy':
        conns.get(c.conn)?.destroy();
        return;
      case 'quit':
        shutdown();
        return;
    }
  };

  let carry = '';
  ctl.setEncoding('utf8');
  ctl.on('data', (chunk: string) => {
    const parts = (carry + chunk).split('\n');
    carry = parts.pop() ?? '';
    if (carry.length > 65536) carry = '';
    for (const line of parts) {
      if (!line.trim()) continue;
      try {
        handle(JSON.parse(line) as AgentCommand);
      } catch (err) {
        emit({ ev: 'bad-command', message: err instanceof Error ? err.message : String(err) });
      }
    }
  });
  ctl.on('close', shutdown);
  ctl.on('error', shutdown);

  emit({ ev: 'hello' });
  if (args.role === 'server') {
    // One listener per family: a dual-stack socket would report IPv4 peers as ::ffff:a.b.c.d.
    const listeners = (['0.0.0.0', '::'] as const).map((host) => {
      const srv = net.createServer({ allowHalfOpen: true }, (sock) => void track(sock, 'accept'));
      srv.on('error', (err: NodeJS.ErrnoException) => {
        emit({ ev: 'error', code: err.code ?? 'EUNKNOWN', message: err.message });
        shutdown();
      });
      return new Promise<net.Server>((resolve) =>
        srv.listen({ port: args.port, host, ipv6Only: host === '::' }, () => resolve(srv)),
      );
    });
    const [v4, v6] = await Promise.all(listeners);
    servers.push(v4!, v6!);
    emit({ ev: 'listening', local: `0.0.0.0:${args.port}` });
  }
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  runAgent(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`agent: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}

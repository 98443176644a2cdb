// Driver side of the lab agents: a UNIX control socket, agents started in namespaces through
// exec.ts, and their events kept in order so scenarios can wait for them.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EnvironmentError } from '../errors.js';
import { spawnLines, type Spawned } from '../host/exec.js';
import type { AgentCommand, AgentEvent } from './agent.js';

/** Finds the compiled agent (dist/src/lab/agent.js) from the package root, source or dist alike. */
export function agentPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) {
      const built = join(dir, 'dist', 'src', 'lab', 'agent.js');
      if (existsSync(built)) return built;
      throw new EnvironmentError(
        'KDIAG_ENVIRONMENT',
        `can't start the lab agent: ${built} is missing`,
        'build first: npx tsc -p tsconfig.build.json (or npm run build)',
      );
    }
    dir = dirname(dir);
  }
  throw new EnvironmentError(
    'KDIAG_ENVIRONMENT',
    "can't start the lab agent: package root not found",
    'run kdiag from its installed package',
  );
}

/** Starts an agent: the single executable (npm run build:exe) has no agent.js to hand to node, so it runs its embedded copy through a hidden command. */
function agentCommand(): string[] {
  let sea = false;
  try {
    sea = (createRequire(import.meta.url)('node:sea') as { isSea(): boolean }).isSea();
  } catch {
    // node:sea arrived in Node 20.12; older Node runs kdiag only from the npm package.
  }
  return sea ? [process.execPath, '__lab-agent'] : [process.execPath, agentPath()];
}

/** One running agent: its events so far, a way to wait for the next matching one, and commands. */
export class AgentHandle {
  readonly events: AgentEvent[] = [];
  private waiters: Array<{
    pred: (e: AgentEvent) => boolean;
    resolve: (e: AgentEvent | undefined) => void;
    from: number;
  }> = [];
  sock: net.Socket | undefined;
  proc: Spawned | undefined;
  stderr = '';

  constructor(readonly id: string) {}

  /** @internal called by the control server */
  push(e: AgentEvent): void {
    this.events.push(e);
    const idx = this.events.length - 1;
    this.waiters = this.waiters.filter((w) => {
      if (idx >= w.from && w.pred(e)) {
        w.resolve(e);
        return false;
      }
      return true;
    });
  }

  /** The first event (at or after index `from`) matching `pred`, or undefined after `timeoutMs`. */
  waitFor(
    pred: (e: AgentEvent) => boolean,
    timeoutMs: number,
    from = 0,
  ): Promise<AgentEvent | undefined> {
    const found = this.events.slice(from).find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => {
      const w = {
        pred,
        from,
        resolve: (e: AgentEvent | undefined) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        resolve(undefined);
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  send(c: AgentCommand): void {
    this.sock?.write(`${JSON.stringify(c)}\n`);
  }

  /** Events of one connection, in order. */
  connEvents(conn: number): AgentEvent[] {
    return this.events.filter((e) => e.conn === conn);
  }
}

/** The control server plus every agent started through it; `close()` stops them all. */
export class Traffic {
  private readonly agents = new Map<string, AgentHandle>();
  private readonly abort = new AbortController();

  private constructor(
    private readonly dir: string,
    private readonly server: net.Server,
    readonly ctlPath: string,
  ) {}

  /** Opens the control socket in a private temporary directory. */
  static async open(): Promise<Traffic> {
    const dir = await mkdtemp(join(tmpdir(), 'kdiag-lab-ctl-'));
    const ctlPath = join(dir, 'ctl.sock');
    let self: Traffic | undefined;
    const server = net.createServer((sock) => {
      let carry = '';
      let agent: AgentHandle | undefined;
      sock.setEncoding('utf8');
      sock.on('error', () => undefined);
      sock.on('data', (chunk: string) => {
        const parts = (carry + chunk).split('\n');
        carry = parts.pop() ?? '';
        for (const line of parts) {
          let e: AgentEvent;
          try {
            e = JSON.parse(line) as AgentEvent;
          } catch {
            continue;
          }
          if (!agent && e.id !== undefined) {
            agent = self?.agents.get(e.id);
            if (agent) agent.sock = sock;
          }
          agent?.push(e);
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(ctlPath, resolve);
    });
    self = new Traffic(dir, server, ctlPath);
    return self;
  }

  /** Starts an agent in `netns` and waits for it to say hello (and, for servers, to listen). */
  async start(
    id: string,
    netns: string,
    role: 'server' | 'client',
    extra: readonly string[] = [],
  ): Promise<AgentHandle> {
    const h = new AgentHandle(id);
    this.agents.set(id, h);
    const argv = [
      ...agentCommand(),
      role,
      '--ctl',
      this.ctlPath,
      '--id',
      id,
      '--max-life-ms',
      '180000',
      ...extra,
    ];
    h.proc = spawnLines(argv, {
      netns,
      signal: this.abort.signal,
      killSignal: 'SIGTERM',
      forceKillAfterMs: 1000,
      dieWithParent: true,
    });
    void (async () => {
      for await (const l of h.proc!.lines)
        if (l.stream === 'stderr') h.stderr = (h.stderr + l.line + '\n').slice(-2000);
    })();
    const ready = await Promise.race([
      h.waitFor((e) => e.ev === (role === 'server' ? 'listening' : 'hello'), 8000),
      h.proc.exited.then(() => undefined),
    ]);
    if (!ready)
      throw new EnvironmentError(
        'KDIAG_ENVIRONMENT',
        `can't start the lab agent ${id} in ${netns}${h.stderr ? `: ${h.stderr.trim().split('\n').pop()}` : ''}`,
        'build first (npm run build) and check node runs under ip netns exec',
      );
    return h;
  }

  /** Stops every agent (quit, then the process signal) and removes the control socket. */
  async close(): Promise<void> {
    for (const a of this.agents.values()) a.send({ cmd: 'quit' });
    for (const a of this.agents.values()) a.sock?.end();
    const exits = [...this.agents.values()].map((a) => a.proc?.exited);
    await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 1500))]);
    this.abort.abort();
    await Promise.all(exits.map((p) => p?.catch(() => undefined)));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.dir, { recursive: true, force: true });
  }
}

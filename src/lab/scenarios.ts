// The lab's scenarios: each sets the kernel knobs it needs, drives real traffic through the
// node namespace and reports what the application saw, the flow's tuples and the conntrack events.
// The building blocks are in scenario-kit.ts; newer scenarios have a file each in scenarios/.
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { parseConntrackEntryLine } from '../parse/conntrack-entry.js';
import { run, spawnLines } from '../host/exec.js';
import { CRAFT_OOW_PY } from './craft.js';
import { CtEventCapture, parseCtEventLine, type CtEvent } from './ct-events.js';
import { labUp } from './lab.js';
import { ADDR, BACKENDS, NS, backendOf } from './topology.js';
import { Traffic } from './traffic.js';
import {
  Ctx,
  EXPIRY_IDLE_S,
  KEEPIDLE_MS,
  MBOX_IDLE_S,
  T,
  VIP,
  beAddr,
  codeOutcome,
  expiryThenWrite,
  nodeExpiry,
  other,
  pickupBackend,
  sleep,
  type AppOutcome,
  type Flow,
  type RunScenarioOptions,
  type ScenarioDef,
  type ScenarioResult,
} from './scenario-kit.js';
import { NEW_SCENARIOS } from './scenarios/index.js';

export { EXPIRY_IDLE_S, EXPIRY_TIMEOUT_S, type AppOutcome, type FlowTuple, type RunScenarioOptions, type ScenarioResult } from './scenario-kit.js';

const BASE_SCENARIOS: readonly ScenarioDef[] = [
  {
    id: 'conntrack-expiry',
    fm: 'FM-1',
    title: 'idle past ct timeout; pickup re-DNATs → RST',
    expected: { client: 'ECONNRESET' },
    settings: nodeExpiry(),
    async run(ctx) {
      const { flow, echo, idleMs } = await expiryThenWrite(ctx, { switchBackend: true, waitMs: 4000 });
      return { flow, outcome: { client: echo }, idleMs, backendAfter: beAddr(pickupBackend(ctx.flowEvents(flow))) };
    },
  },
  {
    id: 'expiry-loose0',
    fm: 'FM-1',
    title: 'same, tcp_loose=0: INVALID, dropped → timeout',
    dropInvalid: true,
    expected: { client: 'ETIMEDOUT' },
    // tcp_retries2=2 makes the client give up after a few seconds of retransmissions instead of ≈15 min.
    settings: { ...nodeExpiry({ 'net.netfilter.nf_conntrack_tcp_loose': 0 }), [NS.client]: { 'net.ipv4.tcp_retries2': 2 } },
    async run(ctx) {
      const { flow, echo, idleMs } = await expiryThenWrite(ctx, { switchBackend: false, waitMs: 10000 });
      return { flow, outcome: { client: echo }, idleMs };
    },
  },
  {
    id: 'server-push-after-expiry',
    fm: 'FM-1',
    title: 'backend writes after expiry: not un-NATed → RST',
    expected: { client: 'ECONNRESET', server: 'ECONNRESET' },
    settings: nodeExpiry(),
    async run(ctx) {
      const flow = await ctx.connect();
      const idleMs = EXPIRY_IDLE_S * 1000;
      ctx.mark('expiryExpected', Date.now() + T * 1000);
      await ctx.idle(idleMs, `conntrack ESTABLISHED timeout ${T} s in ${NS.node}, expiry expected at +${T} s`);
      const server = ctx.servers[flow.backend];
      const sFrom = server.events.length;
      const cFrom = ctx.client.events.length;
      ctx.mark('actionAt');
      server.send({ cmd: 'write', conn: flow.serverConn, data: 'push-after-idle' });
      ctx.step('push', `Backend ${flow.backend} wrote to the client after the idle period`);
      const sErr = await ctx.waitError(server, flow.serverConn, 4000, sFrom);
      if (sErr) ctx.mark('failureObserved', sErr.t);
      const pushed = ctx.client.events.slice(cFrom).some((e) => e.conn === flow.conn && e.ev === 'data' && (e.text ?? '').includes('push'));
      ctx.notes.push(pushed ? 'client received the push' : 'client never received the push (it arrived from the backend address, not the VIP)');
      ctx.step('push-result', sErr ? `Failure observed: backend ${sErr.code}` : 'Backend saw no error');
      const client = await ctx.echo(flow, 'after-push', 4000);
      return { flow, idleMs, outcome: { client, server: sErr ? codeOutcome(sErr.code) : pushed ? 'ok' : 'no-reply' } };
    },
  },
  {
    id: 'keepalive-saves',
    fm: 'FM-12',
    title: 'control: keepalive 1 s < ct timeout 5 s → ok',
    expected: { client: 'ok' },
    settings: { ...nodeExpiry(), [NS.client]: { 'net.ipv4.tcp_keepalive_intvl': 1, 'net.ipv4.tcp_keepalive_probes': 3 } },
    async run(ctx) {
      const { flow, echo, idleMs } = await expiryThenWrite(ctx, { keepAliveMs: 1000, switchBackend: true, waitMs: 4000 });
      const destroyed = ctx.flowEvents(flow).some((e) => e.type === 'DESTROY');
      ctx.notes.push(destroyed ? 'conntrack entry was destroyed during the idle period' : 'conntrack entry survived the idle period (no DESTROY)');
      return { flow, outcome: { client: echo }, idleMs };
    },
  },
  ...(['drop', 'no-drop', 'be-liberal'] as const).map(oowScenario),
  {
    id: 'close-wait-expiry',
    fm: 'FM-4',
    title: 'CLOSE_WAIT expires; late FIN lost → FIN_WAIT2',
    dropInvalid: true,
    expected: { client: 'fin-lost', server: 'fin-lost' },
    settings: { [NS.node]: { 'net.netfilter.nf_conntrack_tcp_timeout_close_wait': 3 } },
    async run(ctx) {
      const flow = await ctx.connect();
      const server = ctx.servers[flow.backend];
      server.send({ cmd: 'end', conn: flow.serverConn });
      const gotEnd = await ctx.client.waitFor((e) => e.conn === flow.conn && e.ev === 'end', 3000);
      ctx.step('half-close', gotEnd ? `Backend half-closed; client in CLOSE_WAIT` : 'Backend half-close not seen by the client');
      ctx.mark('expiryExpected', Date.now() + 3000);
      const idleMs = 5000;
      await ctx.idle(idleMs, `conntrack CLOSE_WAIT timeout 3 s in ${NS.node}`);
      const sFrom = server.events.length;
      ctx.mark('actionAt');
      ctx.client.send({ cmd: 'end', conn: flow.conn });
      ctx.step('late-fin', 'Client closed its side (late FIN sent)');
      const sEnd = await server.waitFor((e) => e.conn === flow.serverConn && (e.ev === 'end' || e.ev === 'error'), 3000, sFrom);
      if (!sEnd) ctx.mark('failureObserved');
      const ssBe = (await run(['ss', '-tanH', 'state', 'fin-wait-2'], { netns: BACKENDS[flow.backend].ns, reject: false })).stdout.trim();
      const ssCl = (await run(['ss', '-tanH', 'state', 'last-ack'], { netns: NS.client, reject: false })).stdout.trim();
      if (ssBe) ctx.notes.push(`${BACKENDS[flow.backend].ns} FIN-WAIT-2: ${ssBe.replace(/\s+/g, ' ')}`);
      if (ssCl) ctx.notes.push(`${NS.client} LAST-ACK: ${ssCl.replace(/\s+/g, ' ')}`);
      const stuck = ssCl.includes(`${ADDR.client}:${flow.tuple.sport}`);
      ctx.step('late-fin-result', sEnd ? `Backend received the client's FIN` : `Failure observed: the client's FIN never reached ${flow.backend}`);
      return {
        flow,
        idleMs,
        outcome: { client: stuck ? 'fin-lost' : 'ok', server: sEnd ? (sEnd.ev === 'end' ? 'ok' : codeOutcome(sEnd.code)) : 'fin-lost' },
      };
    },
  },
  {
    id: 'table-near-full',
    fm: 'FM-8',
    title: 'table at nf_conntrack_max: new conns time out',
    expected: { client: 'ETIMEDOUT', server: 'ok' },
    ctFilter: ['--orig-src', ADDR.client],
    // tcp_syn_retries=1: connect() gives up after ≈3 s instead of ≈127 s.
    settings: { [NS.client]: { 'net.ipv4.tcp_syn_retries': 1 } },
    async run(ctx) {
      const flow = await ctx.connect();
      const max = Number(await ctx.lab.readSysctl(NS.node, 'net.netfilter.nf_conntrack_max'));
      const cleared = await clearAllBut(flow);
      if (cleared.length) ctx.notes.push(`removed before the fill (evictable once the table is full): ${cleared.join(' | ')}`);
      const count = Number(await ctx.lab.readSysctl(NS.node, 'net.netfilter.nf_conntrack_count'));
      ctx.notes.push(`nf_conntrack_max=${max} (global, read-only in a netns); node count before fill=${count}`);
      if (!Number.isFinite(max) || max <= 0 || max > 1_048_576) {
        ctx.notes.push('fill skipped: nf_conntrack_max is unlimited or above 1048576 (the fill would need too much kernel memory)');
        return { flow, outcome: { client: 'skipped', server: 'skipped' } };
      }
      // The fill makes ~262k NEW events; conntrack -E filters them in user space, which triples the
      // fill time, so the capture pauses meanwhile (the fill entries are not the client's anyway).
      await ctx.ct.stop();
      const filled = await fillTable(ctx, max - count + 64);
      await ctx.ct.resume();
      ctx.notes.push(`node count after fill=${filled}`);
      ctx.step('filled', `Conntrack table filled: ${filled}/${max} entries in ${NS.node} (ASSURED, so early_drop cannot evict them)`);
      const from = ctx.client.events.length;
      ctx.mark('actionAt');
      ctx.client.send({ cmd: 'connect', host: ADDR.vip, port: ADDR.vipPort });
      const ev = await ctx.client.waitFor((e) => e.ev === 'connected' || e.ev === 'error', 10000, from);
      if (ev?.ev === 'error') ctx.mark('failureObserved', ev.t);
      const fresh: AppOutcome = !ev ? 'no-reply' : ev.ev === 'connected' ? 'ok' : codeOutcome(ev.code);
      ctx.step('new-conn', fresh === 'ok' ? 'New connection succeeded' : `Failure observed: new connection ${fresh}`);
      const existing = await ctx.echo(flow, 'still-here', 3000);
      const klog = await tableFullLog();
      if (klog) ctx.notes.push(`kernel log: ${klog}`);
      ctx.step('old-conn', `Existing connection: ${existing === 'ok' ? 'data echoed' : existing}`);
      return { flow, outcome: { client: fresh, server: existing } };
    },
  },
  {
    id: 'middlebox-idle-drop',
    fm: 'FM-11',
    title: 'mbox drops flows idle 2 s → keepalive ETIMEDOUT',
    expected: { client: 'ETIMEDOUT' },
    // Node's setKeepAlive (libuv >= 1.46) sets TCP_KEEPINTVL=1 s and TCP_KEEPCNT=10 on the socket
    // itself, so the netns tcp_keepalive_intvl/probes below only matter for other applications.
    settings: { [NS.client]: { 'net.ipv4.tcp_keepalive_intvl': 1, 'net.ipv4.tcp_keepalive_probes': 3 }, [NS.mbox]: { 'idle-drop-seconds': MBOX_IDLE_S } },
    async run(ctx) {
      await ctx.lab.setMiddleboxIdle(MBOX_IDLE_S);
      ctx.step('mbox', `Middlebox idle timer set in ${NS.mbox}: flows idle > ${MBOX_IDLE_S} s are dropped silently`);
      const flow = await ctx.connect({ keepAliveMs: KEEPIDLE_MS });
      ctx.mark('expiryExpected', Date.now() + MBOX_IDLE_S * 1000);
      ctx.mark('idleStart');
      ctx.step('idle', `Idle started: keepalive probes from +${KEEPIDLE_MS / 1000} s (middlebox forgets at +${MBOX_IDLE_S} s); giving up takes ≈${KEEPIDLE_MS / 1000 + 10} s`);
      const err = await ctx.waitError(ctx.client, flow.conn, 25000);
      if (err) ctx.mark('failureObserved', err.t);
      ctx.step('result', err ? `Failure observed: ${err.code} after ${((err.t - (ctx.ts.idleStart ?? err.t)) / 1000).toFixed(1)} s idle` : 'No error within 25 s');
      const ct = (await run(['conntrack', '-L', '-p', 'tcp', '--orig-src', ADDR.client, '--sport', String(flow.tuple.sport)], { netns: NS.node, reject: false })).stdout.trim();
      ctx.notes.push(ct ? `node conntrack still holds the flow: ${ct.replace(/\s+/g, ' ')}` : 'node conntrack no longer holds the flow');
      return { flow, idleMs: err && ctx.ts.idleStart ? err.t - ctx.ts.idleStart : undefined, outcome: { client: err ? codeOutcome(err.code) : 'no-reply' } };
    },
  },
  {
    id: 'unacked-clamp',
    fm: 'FM-7',
    title: 'unacked data clamps ct timeout → re-DNAT → RST',
    expected: { client: 'ECONNRESET' },
    settings: {
      [NS.node]: {
        'net.netfilter.nf_conntrack_tcp_timeout_unacknowledged': 2,
        'net.netfilter.nf_conntrack_tcp_timeout_max_retrans': 2,
        'net.netfilter.nf_conntrack_tcp_loose': 1,
      },
    },
    async run(ctx) {
      const flow = await ctx.connect();
      await ctx.lab.setEndpoints([other(flow.backend)]);
      ctx.step('endpoints', `Service endpoints switched to ${other(flow.backend)} only`);
      await run(['iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', String(ADDR.backendPort), '-j', 'DROP'], { netns: BACKENDS[flow.backend].ns });
      ctx.step('stall', `Backend ${flow.backend} stopped acknowledging (its INPUT drops the flow)`);
      ctx.mark('actionAt');
      ctx.mark('expiryExpected', Date.now() + 2000);
      const echo = await ctx.echo(flow, 'never-acked', 15000);
      if (echo !== 'ok') ctx.mark('failureObserved');
      ctx.step('result', `Failure observed: ${echo}`);
      return { flow, outcome: { client: echo }, backendAfter: beAddr(pickupBackend(ctx.flowEvents(flow))) };
    },
  },
];


export const SCENARIOS: readonly ScenarioDef[] = [...BASE_SCENARIOS, ...NEW_SCENARIOS];

function oowScenario(variant: 'drop' | 'no-drop' | 'be-liberal'): ScenarioDef {
  const id = variant === 'drop' ? 'out-of-window' : `out-of-window-${variant}`;
  const title = {
    drop: 'seq over window: INVALID, DROP rule → survives',
    'no-drop': 'same, no DROP rule: leaks un-NATed → both reset',
    'be-liberal': 'same, be_liberal=1: accepted → survives',
  }[variant];
  return {
    id,
    fm: 'FM-5',
    title,
    dropInvalid: variant === 'drop',
    expected: variant === 'no-drop' ? { client: 'ECONNRESET', server: 'ECONNRESET' } : { client: 'ok', server: 'ok' },
    settings: { [NS.node]: { 'net.netfilter.nf_conntrack_tcp_be_liberal': variant === 'be-liberal' ? 1 : 0 } },
    async run(ctx) {
      const flow = await ctx.connect();
      const be = BACKENDS[flow.backend];
      const abort = new AbortController();
      const crafter = spawnLines(['python3', '-c', CRAFT_OOW_PY, 'eth0', be.ip, String(ADDR.backendPort), ADDR.client, String(flow.tuple.sport), '5'], {
        netns: be.ns,
        signal: abort.signal,
        killSignal: 'SIGTERM',
        forceKillAfterMs: 1000,
        dieWithParent: true,
      });
      const out: string[] = [];
      let readyResolve: () => void = () => undefined;
      const ready = new Promise<void>((r) => (readyResolve = r));
      const pump = (async () => {
        for await (const l of crafter.lines) {
          out.push(l.line);
          if (l.line.includes('"ready"')) readyResolve();
        }
        readyResolve();
      })();
      try {
        await Promise.race([ready, sleep(5000)]);
        const sFrom = ctx.servers[flow.backend].events.length;
        // The echo of this write is the segment the crafter reads seq/ack from.
        await ctx.echo(flow, 'ping');
        await Promise.race([crafter.exited, sleep(6000)]);
        await pump;
        const sent = out.find((l) => l.includes('"sent"'));
        if (!sent) throw new Error(`crafter sent nothing: ${out.join(' | ')}`);
        ctx.mark('actionAt');
        ctx.notes.push(`crafted: ${sent}`);
        ctx.step('crafted', `Out-of-window segment sent from ${be.ip}:${ADDR.backendPort} (seq + 2^30)`);
        const sErr = await ctx.waitError(ctx.servers[flow.backend], flow.serverConn, 1500, sFrom);
        const client = await ctx.echo(flow, 'check', 3000);
        if (client !== 'ok' || sErr) ctx.mark('failureObserved', sErr?.t ?? Date.now());
        const save = await ctx.lab.iptablesSave();
        const dropLine = save.split('\n').find((l) => l.includes('KUBE-FORWARD') && l.includes('INVALID') && l.includes('DROP'));
        if (dropLine) ctx.notes.push(`rule counter: ${dropLine}`);
        ctx.step('result', `Client ${client === 'ok' ? 'data echoed' : client}; backend ${sErr ? sErr.code : 'no error'}`);
        return { flow, outcome: { client, server: sErr ? codeOutcome(sErr.code) : 'ok' } };
      } finally {
        abort.abort();
        await crafter.exited;
      }
    },
  };
}

/**
 * Deletes every node conntrack entry but the flow's and returns them, as listed. Once an allocation
 * fails, the kernel's GC worker evicts entries that are not ASSURED (or are closing) while the table
 * is over 95% full, so one such entry (the IGMP report of an interface coming up, a TIME_WAIT from
 * an earlier connection) makes room for a SYN retransmitted a second later: the new connection
 * succeeds now and then. Only ASSURED ESTABLISHED entries (the fill and the flow) stay.
 */
async function clearAllBut(flow: Flow): Promise<string[]> {
  const listed = await run(['conntrack', '-L'], { netns: NS.node, reject: false });
  const removed: string[] = [];
  for (const line of listed.stdout.split('\n')) {
    const r = parseConntrackEntryLine(line.trim());
    if (r.kind !== 'row') continue;
    const e = r.value;
    const o = e.orig;
    if (e.proto === 'tcp' && o.src === flow.tuple.src && o.sport === flow.tuple.sport && o.dst === flow.tuple.dst && o.dport === flow.tuple.dport) continue;
    const argv = ['conntrack', '-D', '-p', String(e.protonum), '-s', o.src, '-d', o.dst];
    if (o.sport !== undefined && o.dport !== undefined) argv.push('--sport', String(o.sport), '--dport', String(o.dport));
    await run(argv, { netns: NS.node, reject: false });
    removed.push(line.trim().replace(/\s+/g, ' '));
  }
  return removed;
}

async function fillTable(ctx: Ctx, n: number): Promise<number> {
  // `conntrack -R` loads many `-I` commands over one netlink socket: ≈4 s for 262144 entries.
  // The entries are ASSURED ESTABLISHED flows to an unused address (203.0.113.99), so early_drop
  // (which only evicts non-ASSURED entries) cannot make room and the kernel drops new flows.
  const dir = await mkdtemp(join(tmpdir(), 'kdiag-lab-fill-'));
  try {
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      const host = 20 + Math.floor(i / 50000);
      const port = 10000 + (i % 50000);
      lines.push(`-I -p tcp -s 192.0.2.${host} -d 203.0.113.99 --sport ${port} --dport 80 --state ESTABLISHED -u ASSURED -t 600`);
    }
    const file = join(dir, 'fill.txt');
    await writeFile(file, lines.join('\n') + '\n');
    ctx.step('filling', `Filling the node's conntrack table with ${n} entries`);
    await run(['conntrack', '-R', file], { netns: NS.node, reject: false, timeoutMs: 120_000 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return Number(await ctx.lab.readSysctl(NS.node, 'net.netfilter.nf_conntrack_count'));
}

/** The kernel's last "table full" line for the node namespace (6.18 names the netns inode). */
async function tableFullLog(): Promise<string | undefined> {
  try {
    const ino = (await stat(`/run/netns/${NS.node}`)).ino;
    const log = (await run(['dmesg'], { reject: false, timeoutMs: 5000 })).stdout.split('\n');
    const line = log.reverse().find((l) => l.includes('table full') && l.includes(String(ino)));
    return line?.replace(/^\[[ \d.]+\] /, '');
  } catch {
    return undefined;
  }
}

/** Scenario ids with their FM id and one-line description. */
export function listScenarios(): Array<{ id: string; fm: string; title: string }> {
  return SCENARIOS.map(({ id, fm, title }) => ({ id, fm, title }));
}

/** Runs one scenario end to end and returns what the kernel and the applications really did. */
export async function runScenario(name: string, opts: RunScenarioOptions = {}): Promise<ScenarioResult> {
  const def = SCENARIOS.find((s) => s.id === name);
  if (!def) throw new UsageError(`unknown scenario: ${name}`, `one of: ${SCENARIOS.map((s) => s.id).join(', ')}`);
  const start = Date.now();
  const ownLab = opts.lab === undefined;
  const lab = opts.lab ?? (await labUp(opts.onStep ? { onStep: opts.onStep } : {}));
  let traffic: Traffic | undefined;
  let ctx: Ctx | undefined;
  try {
    const dropInvalid = def.dropInvalid ?? (await lab.dropInvalid());
    await lab.reset({ dropInvalid });
    const settings: ScenarioResult['settings'] = {};
    for (const [netns, values] of Object.entries(def.settings)) {
      const sysctls = Object.fromEntries(Object.entries(values).filter(([k]) => k.startsWith('net.')));
      await lab.sysctl(netns, sysctls);
      settings[netns] = { ...values };
    }
    settings[NS.node] = { ...(settings[NS.node] ?? {}), 'KUBE-FORWARD INVALID DROP': dropInvalid };
    const knobs = Object.entries(settings)
      .flatMap(([netns, v]) => Object.entries(v).map(([k, val]) => `${k.replace(/^net\.(netfilter|ipv4)\.(nf_conntrack_)?/, '')}=${val} (${netns.slice(10)})`))
      .join(', ');
    opts.onStep?.({ t: Date.now(), name: 'settings', message: `Scenario settings applied: ${knobs}` });

    traffic = await Traffic.open();
    ctx = new Ctx(lab, traffic, opts.onStep);
    ctx.servers = {
      be1: await traffic.start('be1', NS.be1, 'server', ['--port', String(ADDR.backendPort)]),
      be2: await traffic.start('be2', NS.be2, 'server', ['--port', String(ADDR.backendPort)]),
    };
    ctx.client = await traffic.start('client', NS.client, 'client');
    ctx.step('traffic', `Traffic agents started: backends on ${ADDR.be1}:${ADDR.backendPort} and ${ADDR.be2}:${ADDR.backendPort}, client in ${NS.client}`);
    ctx.ct = await CtEventCapture.start(NS.node, def.ctFilter ?? []);
    ctx.step('capture', `Conntrack events capture started in ${NS.node}`);
    const before = await lab.conntrackStats();
    await opts.onReady?.(lab);
    const ready = ctx.mark('ready');

    const r = await def.run(ctx);
    const after = await lab.conntrackStats();
    const lines = await ctx.ct.stop();
    const flow = r.flow;
    const events = lines.map(parseCtEventLine).filter((e): e is CtEvent => e !== undefined);
    const afterBe = r.backendAfter ?? beAddr(backendOf(events.filter((e) => flow && e.orig?.sport === flow.tuple.sport && e.type === 'NEW' && e.unreplied).pop()?.reply?.src));
    for (const k of ['invalid', 'drop', 'early_drop', 'insert_failed'] as const) {
      const d = (after[k] ?? 0) - (before[k] ?? 0);
      if (d !== 0) ctx.notes.push(`conntrack -S ${k} +${d}`);
    }
    const matched = r.outcome.client === def.expected.client && (def.expected.server === undefined || r.outcome.server === def.expected.server);
    const result: ScenarioResult = {
      scenario: def.id,
      fm: def.fm,
      title: def.title,
      clientTuple: flow?.tuple,
      vip: VIP,
      backendBefore: beAddr(flow?.backend),
      backendAfter: afterBe,
      outcome: r.outcome,
      expected: def.expected,
      matched,
      summary: '',
      settings,
      timestamps: { ...(ctx.ts as object), start, ready, end: Date.now() } as ScenarioResult['timestamps'],
      idleMs: r.idleMs,
      conntrackEvents: lines,
      conntrackStats: { before, after },
      notes: ctx.notes,
    };
    return { ...result, summary: summarize(result) };
  } finally {
    if (ctx?.ct) await ctx.ct.stop().catch(() => undefined);
    await traffic?.close().catch(() => undefined);
    if (ownLab && !opts.keep) await lab.down();
  }
}

/** One line: scenario, FM id, what the client (and server) saw, the backend change. */
export function summarize(r: ScenarioResult): string {
  const who = `client ${r.outcome.client}${r.outcome.server ? `, backend ${r.outcome.server}` : ''}`;
  const be = r.backendAfter && r.backendAfter !== r.backendBefore ? `; ${r.backendBefore} → ${r.backendAfter}` : r.backendBefore ? `; backend ${r.backendBefore}` : '';
  return `${r.scenario} (${r.fm}): ${who}${be}${r.matched ? '' : ` (expected client ${r.expected.client})`}`;
}

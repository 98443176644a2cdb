// FM-8 in the lab: table at nf_conntrack_max: new conns time out.
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConntrackEntryLine } from '../../parse/conntrack-entry.js';
import { run } from '../../host/exec.js';
import { ADDR, NS } from '../topology.js';
import type { Ctx } from './context.js';
import { codeOutcome } from './helpers.js';
import type { AppOutcome, Flow, ScenarioDef } from './types.js';

export const tableNearFull: ScenarioDef = {
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
    if (cleared.length)
      ctx.notes.push(
        `removed before the fill (evictable once the table is full): ${cleared.join(' | ')}`,
      );
    const count = Number(await ctx.lab.readSysctl(NS.node, 'net.netfilter.nf_conntrack_count'));
    ctx.notes.push(
      `nf_conntrack_max=${max} (global, read-only in a netns); node count before fill=${count}`,
    );
    if (!Number.isFinite(max) || max <= 0 || max > 1_048_576) {
      ctx.notes.push(
        'fill skipped: nf_conntrack_max is unlimited or above 1048576 (the fill would need too much kernel memory)',
      );
      return { flow, outcome: { client: 'skipped', server: 'skipped' } };
    }
    // The fill makes ~262k NEW events; conntrack -E filters them in user space, which triples the
    // fill time, so the capture pauses meanwhile (the fill entries are not the client's anyway).
    await ctx.ct.stop();
    const filled = await fillTable(ctx, max - count + 64);
    await ctx.ct.resume();
    ctx.notes.push(`node count after fill=${filled}`);
    ctx.step(
      'filled',
      `Conntrack table filled: ${filled}/${max} entries in ${NS.node} (ASSURED, so early_drop cannot evict them)`,
    );
    const from = ctx.client.events.length;
    ctx.mark('actionAt');
    ctx.client.send({ cmd: 'connect', host: ADDR.vip, port: ADDR.vipPort });
    const ev = await ctx.client.waitFor(
      (e) => e.ev === 'connected' || e.ev === 'error',
      10000,
      from,
    );
    if (ev?.ev === 'error') ctx.mark('failureObserved', ev.t);
    const fresh: AppOutcome = !ev
      ? 'no-reply'
      : ev.ev === 'connected'
        ? 'ok'
        : codeOutcome(ev.code);
    ctx.step(
      'new-conn',
      fresh === 'ok' ? 'New connection succeeded' : `Failure observed: new connection ${fresh}`,
    );
    const existing = await ctx.echo(flow, 'still-here', 3000);
    const klog = await tableFullLog();
    if (klog) ctx.notes.push(`kernel log: ${klog}`);
    ctx.step('old-conn', `Existing connection: ${existing === 'ok' ? 'data echoed' : existing}`);
    return { flow, outcome: { client: fresh, server: existing } };
  },
};

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
    if (
      e.proto === 'tcp' &&
      o.src === flow.tuple.src &&
      o.sport === flow.tuple.sport &&
      o.dst === flow.tuple.dst &&
      o.dport === flow.tuple.dport
    )
      continue;
    const argv = ['conntrack', '-D', '-p', String(e.protonum), '-s', o.src, '-d', o.dst];
    if (o.sport !== undefined && o.dport !== undefined)
      argv.push('--sport', String(o.sport), '--dport', String(o.dport));
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
      lines.push(
        `-I -p tcp -s 192.0.2.${host} -d 203.0.113.99 --sport ${port} --dport 80 --state ESTABLISHED -u ASSURED -t 600`,
      );
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

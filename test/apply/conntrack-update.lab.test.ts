// `kdiag apply` of a conntrack timer update against the real kernel, in a throwaway loopback-only
// network namespace (kdiag-dl-*): a sysctl change leaves the held entry's timer alone, the planned
// update journals the entry's tuple and remaining timer, moves it, reads it back, and revert sets it
// back to the journaled remaining time minus the time elapsed (docs/kernel-timers.md b).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPlan, planChange } from '../../src/apply/apply-change.js';
import { readTimers, REVERT_NOTE } from '../../src/apply/conntrack-update.js';
import { formatPlan } from '../../src/apply/format.js';
import { readJournal } from '../../src/apply/journal.js';
import { systemLive } from '../../src/apply/live-system.js';
import { revertEntries } from '../../src/apply/revert-change.js';
import { targetFor } from '../../src/apply/target.js';
import { labSkipReason } from '../helpers/lab-guard.js';

const reason = labSkipReason('root', 'netns', 'iptables', 'conntrack');
const EST = 'net.netfilter.nf_conntrack_tcp_timeout_established';
const why = { via: 'change-flag' as const, findings: [], cause: 'lab test' };

// A server on 127.0.0.1:9000 and one idle client connection to it; exits when stdin closes.
const HOLDER = `
const net = require('net');
const server = net.createServer((s) => { s.on('data', (d) => s.write(d)); s.on('error', () => {}); });
server.listen(9000, '127.0.0.1', () => {
  const c = net.connect({ host: '127.0.0.1', port: 9000 }, () => c.write('hi'));
  c.once('data', () => process.stdout.write('ready ' + c.localPort + '\\n'));
  c.on('error', (e) => { process.stderr.write(e.message + '\\n'); process.exit(1); });
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
setTimeout(() => process.exit(0), 120000);
`;

describe.skipIf(reason)('conntrack -U through kdiag apply, in a real network namespace', () => {
  const ns = `kdiag-dl-${randomBytes(3).toString('hex')}`;
  const target = targetFor(ns);
  const live = systemLive();
  const inNs = (argv: readonly string[]) =>
    execFileSync('ip', ['netns', 'exec', ns, ...argv], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  let holder: ChildProcess | undefined;
  let port = 0;
  let dir = '';
  const held = async () => {
    const all = await readTimers(live, { family: 'ipv4', state: 'ESTABLISHED' }, target);
    const e = all.find((t) => t.sport === port && t.dport === 9000);
    if (!e) throw new Error(`no entry for port ${port} in ${JSON.stringify(all)}`);
    return e;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kdiag-dl-'));
    execFileSync('ip', ['netns', 'add', ns]);
    inNs(['ip', 'link', 'set', 'lo', 'up']);
    // A conntrack match registers conntrack's hooks in the namespace, so loopback flows are tracked.
    inNs(['iptables', '-A', 'OUTPUT', '-m', 'conntrack', '--ctstate', 'INVALID', '-j', 'DROP']);
    inNs(['sysctl', '-q', '-w', `${EST}=100`]);
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', HOLDER], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    holder = child;
    port = await new Promise<number>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('holder not ready')), 15_000);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /ready (\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`holder exited ${code}`));
      });
    });
  }, 30_000);

  afterAll(() => {
    if (holder && holder.exitCode === null) {
      holder.stdin?.end();
      holder.kill('SIGKILL');
    }
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      // already gone
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a raised sysctl leaves the held entry on its old deadline', async () => {
    expect((await held()).remaining).toBeLessThanOrEqual(100);
    inNs(['sysctl', '-q', '-w', `${EST}=300`]);
    expect((await held()).remaining).toBeLessThanOrEqual(100);
  });

  it('a filtered update without -f moves nothing (conntrack 1.4.7)', async () => {
    const before = (await held()).remaining;
    await live
      .conntrack(['-U', '-p', 'tcp', '--state', 'ESTABLISHED', '--timeout', '250'], target)
      .catch(() => undefined);
    expect((await held()).remaining).toBeLessThanOrEqual(before);
  });

  it('apply journals the entry, moves its timer and reads it back; revert sets it back minus the time elapsed', async () => {
    const jdir = join(dir, 'journal');
    const plan = await planChange(
      { kind: 'conntrack-update', family: 'ipv4', state: 'ESTABLISHED', timeoutSec: 300 },
      target,
      why,
      {},
      live,
    );
    expect(plan.noop).toBe(false);
    expect(
      formatPlan(plan, { findings: [], journalFile: join(jdir, 'journal.json') })
        .join(' ')
        .replace(/\s+/g, ' '),
    ).toContain(REVERT_NOTE.split(' ').slice(0, 6).join(' '));
    const before = (await held()).remaining;
    const out = await applyPlan(plan, { live, journalDir: jdir });
    expect(out.ok, out.message).toBe(true);
    const after = (await held()).remaining;
    expect(after).toBeGreaterThanOrEqual(297);
    const entry = (await readJournal(jdir)).entries[0]!;
    expect(entry.state).toBe('applied');
    const c = entry.change;
    if (c.kind !== 'conntrack-update') throw new Error(`journaled ${c.kind}`);
    const journaled = c.entries.find((e) => e.sport === port && e.dport === 9000);
    expect(journaled).toMatchObject({ proto: 'tcp', src: '127.0.0.1', dst: '127.0.0.1' });
    expect(journaled!.remaining).toBeLessThanOrEqual(before);
    expect(journaled!.remaining).toBeGreaterThanOrEqual(before - 3);

    await new Promise((r) => setTimeout(r, 2000));
    const [rev] = await revertEntries({ ids: [entry.id] }, { live, journalDir: jdir });
    expect(rev?.status, rev?.message).toBe('restored');
    const back = (await held()).remaining;
    // The journaled remaining time minus the ~2 s elapsed, not the 300 s the update gave it.
    expect(back).toBeLessThanOrEqual(journaled!.remaining - 1);
    expect(back).toBeGreaterThanOrEqual(journaled!.remaining - 6);
    expect((await readJournal(jdir)).entries[0]!.state).toBe('reverted');
  }, 30_000);
});

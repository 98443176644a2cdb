// apply / revert / journal against the real kernel, inside a throwaway network namespace
// (loopback only). The host's own sysctls are never written: every change targets the namespace,
// and afterAll checks the host values did not move.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { applyPlan, planChange } from '../../src/apply/apply-change.js';
import { readJournal } from '../../src/apply/journal.js';
import { systemLive, type LiveSystem } from '../../src/apply/live-system.js';
import { LOCK_FILE } from '../../src/apply/lock.js';
import { revertEntries } from '../../src/apply/revert-change.js';
import { targetFor } from '../../src/apply/target.js';
import { EnvironmentError, KdiagError, UsageError } from '../../src/errors.js';
import { labSkipReason } from '../helpers/lab-guard.js';
import { cliRunner } from '../helpers/cli-runner.js';

const reason = labSkipReason('root', 'netns', 'iptables');
const hasIpvsadm = spawnSync('sh', ['-c', 'command -v ipvsadm']).status === 0;
const KEEPALIVE = 'net.ipv4.tcp_keepalive_time';
const EST = 'net.netfilter.nf_conntrack_tcp_timeout_established';
const why = { via: 'change-flag' as const, findings: [], cause: 'lab test' };

describe.skipIf(reason)('apply and revert in a real network namespace', () => {
  const ns = `kdiag-apply-${randomBytes(3).toString('hex')}`;
  const target = targetFor(ns);
  const live = systemLive();
  let dir = '';
  let child = '';
  let jdir = '';
  const hostBefore: Record<string, string> = {};
  const hostRead = (key: string) => execFileSync('sysctl', ['-n', key]).toString().trim();
  const nsRead = (key: string) =>
    execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-n', key]).toString().trim();
  const nsWrite = (key: string, value: string) =>
    execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', `${key}=${value}`]);
  let n = 0;
  const freshJournal = () => join(dir, `journal-${++n}`);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kdiag-apply-lab-'));
    for (const k of [KEEPALIVE, EST]) hostBefore[k] = hostRead(k);
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    // A conntrack match makes sure nf_conntrack is loaded, so its sysctls exist in the namespace.
    execFileSync('ip', [
      'netns',
      'exec',
      ns,
      'iptables',
      '-A',
      'OUTPUT',
      '-m',
      'conntrack',
      '--ctstate',
      'INVALID',
      '-j',
      'DROP',
    ]);
    // The crash victim runs in its own node process: bundle it (TypeScript and all) into one file.
    const { rolldown } = await import('rolldown');
    const bundle = await rolldown({
      input: join(import.meta.dirname, '../helpers/crash-child.ts'),
      platform: 'node',
      logLevel: 'silent',
    });
    child = join(dir, 'crash-child.mjs');
    await bundle.write({ file: child, format: 'esm' });
    await bundle.close();
  });

  afterAll(() => {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      // already gone
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
    for (const k of Object.keys(hostBefore))
      expect(hostRead(k), `host ${k} untouched`).toBe(hostBefore[k]);
    expect(execFileSync('ip', ['netns', 'list']).toString()).not.toContain(ns);
  });

  afterEach(() => {
    // Each test starts from the namespace defaults.
    nsWrite(KEEPALIVE, '7200');
    nsWrite(EST, '432000');
  });

  it('applies and reverts per-netns sysctls, read back through sysctl -n', async () => {
    jdir = freshJournal();
    expect(nsRead(KEEPALIVE)).toBe('7200');
    expect(nsRead(EST)).toBe('432000');
    for (const [key, value] of [
      [KEEPALIVE, '600'],
      [EST, '3600'],
    ] as const) {
      const plan = await planChange({ kind: 'sysctl', key, value }, target, why, {}, live);
      const out = await applyPlan(plan, { live, journalDir: jdir });
      expect(out.ok, out.message).toBe(true);
      expect(nsRead(key)).toBe(value);
    }
    expect(hostRead(KEEPALIVE)).toBe(hostBefore[KEEPALIVE]);
    expect(statSync(jdir).mode & 0o777).toBe(0o700);
    expect(statSync(join(jdir, 'journal.json')).mode & 0o777).toBe(0o600);
    const j = await readJournal(jdir);
    expect(j.entries.map((e) => [e.id, e.state, e.change])).toEqual([
      [1, 'applied', { kind: 'sysctl', key: KEEPALIVE, old: '7200', new: '600' }],
      [2, 'applied', { kind: 'sysctl', key: EST, old: '432000', new: '3600' }],
    ]);
    const st = statSync(`/run/netns/${ns}`);
    expect(j.entries[0]!.nsId).toBe(`${st.dev}:${st.ino}`);

    const out = await revertEntries({ all: true }, { live, journalDir: jdir });
    expect(out.map((o) => [o.id, o.status])).toEqual([
      [2, 'restored'],
      [1, 'restored'],
    ]);
    expect(nsRead(KEEPALIVE)).toBe('7200');
    expect(nsRead(EST)).toBe('432000');
    expect((await readJournal(jdir)).entries.map((e) => e.state)).toEqual(['reverted', 'reverted']);
  });

  it('a writer that writes something else is caught by the read-back and rolled back', async () => {
    jdir = freshJournal();
    // Writes value+1 into the real kernel, as a clamping or buggy writer would.
    const skewed: LiveSystem = {
      ...live,
      writeSysctl: (key, value, t) => live.writeSysctl(key, value === '600' ? '601' : value, t),
    };
    const plan = await planChange(
      { kind: 'sysctl', key: KEEPALIVE, value: '600' },
      target,
      why,
      {},
      skewed,
    );
    const out = await applyPlan(plan, { live: skewed, journalDir: jdir });
    expect(out).toMatchObject({ ok: false, rolledBack: true });
    expect(out.message).toMatch(/wrote 600 but read back 601; rolled back to 7200/);
    expect(nsRead(KEEPALIVE)).toBe('7200');
    const [e] = (await readJournal(jdir)).entries;
    expect(e).toMatchObject({ state: 'rolled-back', observed: '601' });
    expect(e!.history.map((h) => h.state)).toEqual(['pending', 'failed', 'rolled-back']);
  });

  it('a write the kernel refuses is reported failed (global key in a netns is refused before)', async () => {
    jdir = freshJournal();
    await expect(
      planChange(
        { kind: 'sysctl', key: 'net.netfilter.nf_conntrack_max', value: '1000' },
        target,
        why,
        {},
        live,
      ),
    ).rejects.toThrow(/global/);
    // nf_conntrack_max is 0444 in a netns: force the write past planning to see the kernel refuse it.
    const plan = await planChange(
      { kind: 'sysctl', key: KEEPALIVE, value: '600' },
      target,
      why,
      {},
      live,
    );
    const refusing: LiveSystem = {
      ...live,
      writeSysctl: (_k, v, t) => live.writeSysctl('net.netfilter.nf_conntrack_max', v, t),
    };
    const out = await applyPlan(plan, { live: refusing, journalDir: jdir });
    expect(out).toMatchObject({ ok: false, rolledBack: true });
    expect(out.entry.error).toMatch(/write refused: .*Permission denied/);
    expect(nsRead(KEEPALIVE)).toBe('7200');
  });

  for (const step of ['journaled-pending', 'written', 'journaled-applied'] as const) {
    it(`kill -9 at "${step}" leaves a journal that revert finishes`, async () => {
      jdir = freshJournal();
      const r = spawnSync(process.execPath, [child, step, ns, jdir, EST, '1800'], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(r.signal, r.stderr).toBe('SIGKILL');
      expect(r.stdout).not.toContain('completed');
      const [e] = (await readJournal(jdir)).entries;
      expect(e!.state).toBe(step === 'journaled-applied' ? 'applied' : 'pending');
      expect(nsRead(EST)).toBe(step === 'journaled-pending' ? '432000' : '1800');
      expect(existsSync(join(jdir, LOCK_FILE))).toBe(true); // the dead child's lock: stale, broken below

      const [o] = await revertEntries({ all: true }, { live, journalDir: jdir, lockWaitMs: 0 });
      expect(o!.status).toBe(step === 'journaled-pending' ? 'closed' : 'restored');
      expect(nsRead(EST)).toBe('432000');
      expect((await readJournal(jdir)).entries[0]!.state).toBe('reverted');
      expect(existsSync(join(jdir, LOCK_FILE))).toBe(false);
    });
  }

  it('kill -9 after a failed read-back was journaled, before the rollback: revert restores the old value', async () => {
    jdir = freshJournal();
    const r = spawnSync(process.execPath, [child, 'skew:journaled-failed', ns, jdir, EST, '1800'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.signal, r.stderr).toBe('SIGKILL');
    const [e] = (await readJournal(jdir)).entries;
    expect(e).toMatchObject({ state: 'failed', observed: '1801' });
    expect(nsRead(EST)).toBe('1801');
    const [o] = await revertEntries({ all: true }, { live, journalDir: jdir, lockWaitMs: 0 });
    expect(o!.status).toBe('restored');
    expect(nsRead(EST)).toBe('432000');
  });

  it.skipIf(!hasIpvsadm)(
    'IPVS timeouts: read for real, or a clear one-line error where the kernel has no IPVS',
    async () => {
      jdir = freshJournal();
      const probe = spawnSync('ip', ['netns', 'exec', ns, 'ipvsadm', '-Ln', '--timeout'], {
        encoding: 'utf8',
      });
      const req = { kind: 'ipvs-timeout' as const, tcp: 7260, tcpfin: 0, udp: 0 };
      if (probe.status === 0) {
        const plan = await planChange(req, target, why, {}, live);
        expect(plan.change.kind).toBe('ipvs-timeout');
        if (plan.change.kind === 'ipvs-timeout')
          expect(probe.stdout).toContain(`Timeout (tcp tcpfin udp): ${plan.change.old.tcp} `);
      } else {
        expect(probe.stderr).toMatch(/Protocol not available/);
        const err = await planChange(req, target, why, {}, live).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(EnvironmentError);
        expect((err as EnvironmentError).message).toBe(
          "can't reach IPVS: this kernel has no IPVS loaded",
        );
        expect((err as EnvironmentError).hint).toMatch(/modprobe ip_vs/);
      }
    },
  );

  it('holds off a second kdiag while one holds the lock, and breaks the lock when its holder is killed', async () => {
    jdir = freshJournal();
    const holder = spawn(process.execPath, [child, 'hold-lock', ns, jdir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
        holder.on('exit', () => reject(new Error('lock holder exited early')));
      });
      const plan = await planChange(
        { kind: 'sysctl', key: KEEPALIVE, value: '600' },
        target,
        why,
        {},
        live,
      );
      const err = await applyPlan(plan, { live, journalDir: jdir, lockWaitMs: 0 }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(KdiagError);
      expect((err as KdiagError).message).toContain(`pid ${holder.pid}`);
      expect(nsRead(KEEPALIVE)).toBe('7200');
      expect(JSON.parse(readFileSync(join(jdir, LOCK_FILE), 'utf8')).pid).toBe(holder.pid);

      const exited = new Promise((r) => holder.once('exit', r));
      holder.kill('SIGKILL');
      await exited;
      const out = await applyPlan(plan, { live, journalDir: jdir, lockWaitMs: 0 });
      expect(out.ok).toBe(true);
      expect(nsRead(KEEPALIVE)).toBe('600');
      await revertEntries({ all: true }, { live, journalDir: jdir });
      expect(nsRead(KEEPALIVE)).toBe('7200');
    } finally {
      if (holder.exitCode === null && holder.signalCode === null) holder.kill('SIGKILL');
    }
  });

  describe('the commands', () => {
    const runner = cliRunner();
    const cli = runner.run;

    it('--dry-run shows the change (key, where, old → new) and changes nothing', async () => {
      jdir = freshJournal();
      await cli(
        'apply',
        '--change',
        `sysctl:${KEEPALIVE}=600`,
        '--netns',
        ns,
        '--journal-dir',
        jdir,
        '--dry-run',
      );
      expect(runner.printed).toMatch(new RegExp(`Change +${KEEPALIVE}`));
      expect(runner.printed).toMatch(new RegExp(`Where +netns ${ns}`));
      expect(runner.printed).toMatch(/Value +7200 → 600/);
      expect(runner.printed).toMatch(/Dry run: nothing changed/);
      expect(nsRead(KEEPALIVE)).toBe('7200');
      expect(existsSync(join(jdir, 'journal.json'))).toBe(false);
    });

    it('refuses without --yes when there is no terminal to ask on (exit 2), changing nothing', async () => {
      jdir = freshJournal();
      expect(process.stdin.isTTY).toBeFalsy();
      const err = await cli(
        'apply',
        '--change',
        `sysctl:${KEEPALIVE}=600`,
        '--netns',
        ns,
        '--journal-dir',
        jdir,
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KdiagError);
      expect((err as KdiagError).message).toMatch(/unconfirmed: no terminal/);
      expect((err as KdiagError).exitCode).toBe(2);
      expect(nsRead(KEEPALIVE)).toBe('7200');
    });

    it('refuses keys off the allowlist and --persist in a netns, changing nothing', async () => {
      jdir = freshJournal();
      // A new netns copies the host's IPv4 forwarding (1 wherever podman or a CNI ran), so ask
      // for the opposite of what it holds and check that it still holds it.
      const forward = nsRead('net.ipv4.ip_forward');
      const other = forward === '1' ? '0' : '1';
      const err = await cli(
        'apply',
        '--change',
        `sysctl:net.ipv4.ip_forward=${other}`,
        '--netns',
        ns,
        '--journal-dir',
        jdir,
        '--yes',
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toBe(
        "can't change net.ipv4.ip_forward: not on kdiag's allowlist",
      );
      expect(nsRead('net.ipv4.ip_forward')).toBe(forward);
      const err2 = await cli(
        'apply',
        '--change',
        `sysctl:${KEEPALIVE}=600`,
        '--netns',
        ns,
        '--journal-dir',
        jdir,
        '--yes',
        '--persist',
      ).catch((e: unknown) => e);
      expect((err2 as Error).message).toMatch(/can't persist/);
      expect(nsRead(KEEPALIVE)).toBe('7200');
      expect(existsSync(join(jdir, 'journal.json'))).toBe(false);
    });

    it('apply --yes, journal, revert: end to end', async () => {
      jdir = freshJournal();
      await cli(
        'apply',
        '--change',
        `sysctl:${KEEPALIVE}=600`,
        '--netns',
        ns,
        '--journal-dir',
        jdir,
        '--yes',
      );
      expect(runner.printed).toMatch(
        /Applied net\.ipv4\.tcp_keepalive_time = 600 in netns \S+ \(was\s+7200\); journal entry 1/,
      );
      expect(runner.printed).toMatch(/Undo with: kdiag revert 1/);
      expect(nsRead(KEEPALIVE)).toBe('600');

      await cli('journal', '--journal-dir', jdir);
      expect(runner.printed).toMatch(
        /^#1 +applied +\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ  netns kdiag-apply-/m,
      );
      expect(runner.printed).toMatch(/tcp_keepalive_time: 7200 → 600/);
      for (const l of runner.printed.split('\n')) expect(l.length).toBeLessThanOrEqual(80);
      await cli('journal', '--journal-dir', jdir, '--json');
      expect(JSON.parse(runner.printed).entries[0]).toMatchObject({ id: 1, state: 'applied' });

      await cli('revert', '--all', '--journal-dir', jdir, '--dry-run');
      expect(runner.printed).toMatch(/would restore/);
      expect(nsRead(KEEPALIVE)).toBe('600');
      await cli('revert', '1', '--journal-dir', jdir);
      expect(runner.printed).toMatch(/restored net\.ipv4\.tcp_keepalive_time = 7200/);
      expect(nsRead(KEEPALIVE)).toBe('7200');
      await cli('revert', '--all', '--journal-dir', jdir);
      expect(runner.printed).toMatch(/Nothing to revert/);
      await expect(cli('revert', '--journal-dir', jdir)).rejects.toThrow(UsageError);
    });
  });
});

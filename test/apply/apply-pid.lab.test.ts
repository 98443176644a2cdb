// apply / revert in the network namespace of a process, a namespace with no name under /run/netns
// (a pod's, where the runtime does not pin it there): made here with `unshare -n`, loopback only,
// and gone when its processes are. The host's own sysctls are never written.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPlan, planChange } from '../../src/apply/apply-change.js';
import { pidTarget, scopeTarget } from '../../src/apply/find-target.js';
import { readJournal } from '../../src/apply/journal.js';
import { systemLive } from '../../src/apply/live-system.js';
import { revertEntries } from '../../src/apply/revert-change.js';
import { UsageError } from '../../src/errors.js';
import type { Diagnosis, Suggestion } from '../../src/model/diagnosis.js';
import { sessionApplier } from '../../src/services/session-apply.js';
import { pidNetnsId } from '../../src/host/netns.js';
import { labSkipReason } from '../helpers/lab-guard.js';
import { cliRunner } from '../helpers/cli-runner.js';

const reason = labSkipReason('root', 'netns');
const KEEPALIVE = 'net.ipv4.tcp_keepalive_time';
const why = { via: 'change-flag' as const, findings: [], cause: 'lab test' };

/** A process that sleeps (bounded) in the given netns, or in a new one. */
function sleeper(inNetnsOf?: number): ChildProcess {
  const argv =
    inNetnsOf === undefined
      ? ['unshare', '--net', 'sleep', '120']
      : ['nsenter', `--net=/proc/${inNetnsOf}/ns/net`, 'sleep', '120'];
  return spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
}

/** Resolves once the process has left the host's netns (unshare/nsenter exec sleep in place). */
async function settled(p: ChildProcess): Promise<number> {
  const host = await readlink('/proc/self/ns/net');
  for (let i = 0; i < 100; i++) {
    const link = await readlink(`/proc/${p.pid}/ns/net`).catch(() => host);
    if (link !== host) return p.pid!;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`process ${p.pid} never left the host's network namespace`);
}

async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise((r) => p.once('exit', r));
  p.kill('SIGKILL');
  await gone;
}

describe.skipIf(reason)('apply and revert in the network namespace of a process', () => {
  const live = systemLive();
  const procs: ChildProcess[] = [];
  let dir = '';
  let n = 0;
  const freshJournal = () => join(dir, `journal-${++n}`);
  const hostRead = (key: string) => execFileSync('sysctl', ['-n', key]).toString().trim();
  const pidRead = (pid: number, key: string) =>
    execFileSync('nsenter', [`--net=/proc/${pid}/ns/net`, 'sysctl', '-n', key])
      .toString()
      .trim();
  let hostBefore = '';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kdiag-apply-pid-'));
    hostBefore = hostRead(KEEPALIVE);
  });

  afterAll(async () => {
    for (const p of procs) await stop(p);
    if (dir) rmSync(dir, { recursive: true, force: true });
    expect(hostRead(KEEPALIVE), 'host keepalive untouched').toBe(hostBefore);
  });

  const start = async (inNetnsOf?: number): Promise<{ p: ChildProcess; pid: number }> => {
    const p = sleeper(inNetnsOf);
    procs.push(p);
    return { p, pid: await settled(p) };
  };

  it('changes and restores a sysctl there, journaling the namespace by identity', async () => {
    const { pid } = await start();
    const jdir = freshJournal();
    expect(pidRead(pid, KEEPALIVE)).toBe('7200');
    // kdiag (here, vitest) runs in the node's namespace: its identity is known even where PID 1's link is unreadable.
    expect(await live.namespaceId({ kind: 'node' })).toBe(await pidNetnsId(process.pid));
    const target = await pidTarget(pid, 'pod_default_web-0');
    expect(target).toMatchObject({ kind: 'pid', pid, nsId: await pidNetnsId(pid) });
    const plan = await planChange(
      { kind: 'sysctl', key: KEEPALIVE, value: '600' },
      target,
      why,
      {},
      live,
    );
    const out = await applyPlan(plan, { live, journalDir: jdir });
    expect(out.ok, out.message).toBe(true);
    expect(out.message).toContain(`netns of pid ${pid} (pod_default_web-0)`);
    expect(pidRead(pid, KEEPALIVE)).toBe('600');
    expect(hostRead(KEEPALIVE)).toBe(hostBefore);
    const entry = (await readJournal(jdir)).entries[0]!;
    expect(entry.target).toEqual({ kind: 'pid', pid, label: 'pod_default_web-0' });
    expect(entry.nsId).toBe(await pidNetnsId(pid));

    const [r] = await revertEntries({ all: true }, { live, journalDir: jdir });
    expect(r?.status, r?.message).toBe('restored');
    expect(pidRead(pid, KEEPALIVE)).toBe('7200');
  });

  it('reverts through another process of the namespace when the one it was applied through is gone, and closes the entry once none is left', async () => {
    const a = await start();
    const b = await start(a.pid);
    expect(await pidNetnsId(b.pid)).toBe(await pidNetnsId(a.pid));
    const jdir = freshJournal();
    const plan = await planChange(
      { kind: 'sysctl', key: KEEPALIVE, value: '900' },
      await pidTarget(a.pid),
      why,
      {},
      live,
    );
    expect((await applyPlan(plan, { live, journalDir: jdir })).ok).toBe(true);
    await stop(a.p);
    expect(pidRead(b.pid, KEEPALIVE)).toBe('900');
    const [r] = await revertEntries({ all: true }, { live, journalDir: jdir });
    expect(r?.status, r?.message).toBe('restored');
    expect(pidRead(b.pid, KEEPALIVE)).toBe('7200');

    const plan2 = await planChange(
      { kind: 'sysctl', key: KEEPALIVE, value: '900' },
      await pidTarget(b.pid),
      why,
      {},
      live,
    );
    expect((await applyPlan(plan2, { live, journalDir: jdir })).ok).toBe(true);
    await stop(b.p);
    const [r2] = await revertEntries({ all: true }, { live, journalDir: jdir });
    expect(r2?.status, r2?.message).toBe('closed');
    expect(r2?.message).toMatch(/no process is left in that namespace/);
  });

  it("finds the namespace a suggestion names by kdiag's label for it", async () => {
    const { pid } = await start();
    const nsId = (await pidNetnsId(pid))!;
    const label = `netns_${nsId.split(':')[1]}`;
    const t = await scopeTarget(label);
    expect(t).toMatchObject({ kind: 'pid', nsId, label });
    await expect(scopeTarget('pod_default_gone-0')).rejects.toThrow(
      /no network namespace named pod_default_gone-0/,
    );
  });

  it('applies a pod suggestion from the TUI into the namespace its label names, and reverts it', async () => {
    const { pid } = await start();
    const label = `netns_${(await pidNetnsId(pid))!.split(':')[1]}`;
    const jdir = freshJournal();
    const suggestion: Suggestion = {
      id: 'pod-keepalive-time',
      scope: 'pod',
      rank: 2,
      title: 'Lower tcp_keepalive_time in the pod',
      rationale: 'r',
      fixes: [],
      commands: [],
      warnings: [],
      change: { kind: 'sysctl', key: KEEPALIVE, value: '600', netns: label },
    };
    const diagnosis = (): Diagnosis => ({
      at: 0,
      findings: [],
      predictions: [],
      flows: [],
      suggestions: [suggestion],
    });
    const applier = await sessionApplier({ scope: {}, journalDir: jdir });
    const preview = await applier.plan('pod-keepalive-time', diagnosis());
    expect(preview.lines.join('\n')).toMatch(
      new RegExp(`Where +netns of pid ${pid} \\(${label}\\)\\nIdentity +${await pidNetnsId(pid)} `),
    );
    const applied = await applier.apply('pod-keepalive-time');
    expect(applied.summary).toBe(`${KEEPALIVE}: 7200 → 600`);
    expect(pidRead(pid, KEEPALIVE)).toBe('600');
    expect((await readJournal(jdir)).entries[0]?.target).toMatchObject({ kind: 'pid', label });
    await applier.revert(applied.journalId);
    expect(pidRead(pid, KEEPALIVE)).toBe('7200');
  });

  it('refuses a process that is no longer in the namespace it was chosen for', async () => {
    const { pid } = await start();
    const target = { kind: 'pid' as const, pid, nsId: '0:1' };
    const err = await planChange(
      { kind: 'sysctl', key: KEEPALIVE, value: '600' },
      target,
      why,
      {},
      live,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe(
      `process ${pid} left the network namespace it was chosen for`,
    );
    await expect(live.writeSysctl(KEEPALIVE, '600', target)).rejects.toThrow(
      /no longer in the network namespace/,
    );
    expect(pidRead(pid, KEEPALIVE)).toBe('7200');
  });

  describe('the command', () => {
    const runner = cliRunner();
    const cli = runner.run;

    it('apply --pid: dry run, then --yes, then revert', async () => {
      const { pid } = await start();
      const jdir = freshJournal();
      await cli(
        'apply',
        '--change',
        `sysctl:${KEEPALIVE}=600`,
        '--pid',
        String(pid),
        '--journal-dir',
        jdir,
        '--dry-run',
      );
      expect(runner.printed).toMatch(new RegExp(`Where +netns of pid ${pid}`));
      expect(pidRead(pid, KEEPALIVE)).toBe('7200');
      await cli(
        'apply',
        '--change',
        `sysctl:${KEEPALIVE}=600`,
        '--pid',
        String(pid),
        '--journal-dir',
        jdir,
        '--yes',
      );
      expect(pidRead(pid, KEEPALIVE)).toBe('600');
      await cli('journal', '--journal-dir', jdir);
      expect(runner.printed).toContain(`netns of pid ${pid}`);
      await cli('revert', '1', '--journal-dir', jdir);
      expect(pidRead(pid, KEEPALIVE)).toBe('7200');
    });

    it('says what is wrong with --pid', async () => {
      const jdir = freshJournal();
      const bad = async (...args: string[]) =>
        (await cli(
          'apply',
          '--change',
          `sysctl:${KEEPALIVE}=600`,
          '--journal-dir',
          jdir,
          '--dry-run',
          ...args,
        ).catch((e: unknown) => e)) as Error;
      expect((await bad('--pid', 'web-0')).message).toBe('--pid "web-0": not a process id');
      expect((await bad('--pid', '1', '--netns', 'x')).message).toBe(
        'give --netns or --pid, not both',
      );
      expect((await bad('--pid', '4194304')).message).toBe('no process 4194304');
    });
  });
});

// The crash tests' victim: runs one real apply in its own process and SIGKILLs itself at a chosen
// step (argv), or takes the journal lock and waits to be killed ("hold-lock").
import { applyPlan, planChange, type ApplyStep } from '../../src/apply/apply-change.js';
import { prepareJournalDir } from '../../src/apply/journal.js';
import { systemLive } from '../../src/apply/live-system.js';
import { acquireLock } from '../../src/apply/lock.js';
import { targetFor, type Target } from '../../src/apply/target.js';

const [mode, netns, journalDir, key, value] = process.argv.slice(2);
if (!mode || !netns || !journalDir)
  throw new Error('usage: crash-child MODE NETNS JOURNAL_DIR [KEY VALUE]');

if (mode === 'hold-lock') {
  await prepareJournalDir(journalDir);
  await acquireLock(journalDir);
  process.stdout.write('locked\n');
  setInterval(() => {}, 1000);
} else {
  // "skew:STEP": the writer stores value+1, so the read-back fails and the failure path runs.
  const skew = mode.startsWith('skew:');
  const step = skew ? mode.slice('skew:'.length) : mode;
  const real = systemLive();
  const live = skew
    ? {
        ...real,
        writeSysctl: (k: string, v: string, t: Target) =>
          real.writeSysctl(k, v === value ? String(Number(v) + 1) : v, t),
      }
    : real;
  const plan = await planChange(
    { kind: 'sysctl', key: key!, value: value! },
    targetFor(netns),
    { via: 'change-flag', findings: [], cause: 'crash test' },
    {},
    live,
  );
  await applyPlan(plan, {
    live,
    journalDir,
    onStep: (s: ApplyStep) => {
      if (s === step) process.kill(process.pid, 'SIGKILL');
    },
  });
  process.stdout.write('completed\n');
}

// kdiag apply / revert / journal: make an allowlisted fix live (journaled first), undo it, list it.
// Only commander and types are imported here; the work is loaded when a command runs.
import type { Command } from 'commander';
import type { Diagnosis } from '../../model/diagnosis.js';

/** Seams for tests and the TUI; by default the suggestion comes from a fresh diagnosis. */
export interface ApplyCommandDeps {
  readonly diagnose?: (opts: { netns?: string }) => Promise<Diagnosis>;
}

interface ApplyOpts {
  readonly yes?: boolean;
  readonly dryRun?: boolean;
  readonly netns?: string;
  readonly pid?: string;
  readonly journalDir?: string;
  readonly persist?: boolean;
  readonly change?: string;
  readonly from?: string;
}

interface RevertOpts {
  readonly all?: boolean;
  readonly force?: boolean;
  readonly dryRun?: boolean;
  readonly journalDir?: string;
  readonly json?: boolean;
}

interface JournalOpts {
  readonly json?: boolean;
  readonly journalDir?: string;
}

const out = (lines: readonly string[]): void => {
  if (lines.length) process.stdout.write(`${lines.join('\n')}\n`);
};

async function confirmOnTty(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(question);
    return /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    rl.close();
  }
}

async function applyAction(
  suggestionId: string | undefined,
  opts: ApplyOpts,
  deps: ApplyCommandDeps,
): Promise<void> {
  const { UsageError, KdiagError } = await import('../../errors.js');
  if ((suggestionId === undefined) === (opts.change === undefined)) {
    throw new UsageError(
      'give a SUGGESTION_ID or --change, not both or neither',
      'e.g. kdiag apply node-conntrack-established, or --change sysctl:KEY=VALUE',
    );
  }
  if (opts.from !== undefined && suggestionId === undefined)
    throw new UsageError(
      '--from FILE takes a SUGGESTION_ID, not --change',
      'e.g. kdiag apply node-conntrack-established --from capture.tar.gz --dry-run',
    );
  // A dry run from a file reads this node's values and namespaces, and changes nothing.
  if (!(opts.from !== undefined && opts.dryRun)) {
    const { requireRoot } = await import('../../host/root.js');
    requireRoot('apply changes');
  }
  const { pidOf, targetFor } = await import('../../apply/target.js');
  const { aimOf } = await import('../../apply/aim.js');
  const { systemNamespaces } = await import('../../apply/find-target.js');
  const { journalDirFrom } = await import('../../apply/journal.js');
  const { changeSubject } = await import('../../apply/apply-change.js');
  const { proposeApply, commitApply } = await import('../../apply/apply-plan.js');
  const { systemLive } = await import('../../apply/live-system.js');
  const resolve = await import('../../apply/resolve.js');
  const { formatMessage } = await import('../../apply/format.js');
  const { notesForSysctl } = await import('../../apply/allowlist.js');

  const scope = {
    ...(opts.netns === undefined ? {} : { netns: opts.netns }),
    ...(opts.pid === undefined ? {} : { pid: pidOf(opts.pid) }),
  };
  // Flag mistakes are said before the node is read for a diagnosis.
  aimOf(scope);
  if (opts.netns !== undefined) targetFor(opts.netns);
  const journalDir = journalDirFrom(opts.journalDir);
  const live = systemLive();

  let what: import('../../apply/apply-plan.js').ApplyWhat;
  if (suggestionId !== undefined) {
    let diagnosis: Diagnosis;
    let s: import('../../model/diagnosis.js').Suggestion;
    if (opts.from !== undefined) {
      // The diagnosis the recording or bundle gives, read the way replay and check read it.
      const { analyzeInput } = await import('../../services/analyze-input.js');
      const { suggestionIn } = await import('../../apply/apply-from.js');
      diagnosis = (await analyzeInput(opts.from)).diagnosis;
      s = suggestionIn(diagnosis, suggestionId, opts.from);
    } else {
      const diagnoseForApply =
        deps.diagnose ?? (await import('../../services/check.js')).diagnoseForApply;
      diagnosis = await diagnoseForApply(opts.netns === undefined ? {} : { netns: opts.netns });
      s = resolve.findSuggestion(diagnosis, suggestionId).suggestion;
    }
    if (resolve.requestOf(s) === undefined && s.scope === 'kube-proxy') {
      if (!opts.persist) {
        throw new UsageError(
          `suggestion ${s.id} changes kube-proxy's configuration: kdiag never edits the cluster`,
          're-run with --persist to write the patch to a file and print the kubectl commands',
        );
      }
      const { writeKubeProxyPatch } = await import('../../apply/kube-proxy-patch.js');
      const { path, patch } = await writeKubeProxyPatch(s, process.cwd());
      out([
        `Wrote ${path}`,
        'Apply it to the cluster with:',
        ...patch.kubectl.map((k) => `  ${k}`),
      ]);
      return;
    }
    what = { suggestionId, diagnosis };
  } else {
    what = { changeSpec: opts.change! };
  }

  const proposal = await proposeApply(
    { scope, what, persist: Boolean(opts.persist) },
    { live, journalDir, namespaces: systemNamespaces() },
  );
  const { plan } = proposal;
  if (opts.from !== undefined && 'suggestionId' in what) {
    const { directionRefusal } = await import('../../apply/apply-from.js');
    const s = resolve.findSuggestion(what.diagnosis, what.suggestionId).suggestion;
    const why = directionRefusal(s, plan.change);
    if (why !== undefined)
      throw new KdiagError('KDIAG_REFUSED', why, {
        hint: 'run kdiag check on this node for its own suggestions',
      });
  }
  out([...proposal.lines]);
  for (const w of proposal.warnings) out(formatMessage(`Warning: ${w}`));
  const subject = changeSubject(plan.change);
  if (plan.noop) {
    out([
      `Nothing to change: ${subject} is already ${plan.change.kind === 'sysctl' ? plan.change.new : 'set'}.`,
    ]);
    return;
  }
  if (opts.dryRun) {
    out(['Dry run: nothing changed.']);
    return;
  }
  if (!opts.yes) {
    if (!process.stdin.isTTY) {
      throw new KdiagError(
        'KDIAG_REFUSED',
        `won't change ${subject} unconfirmed: no terminal to ask on`,
        { hint: 'check with --dry-run, then re-run with --yes' },
      );
    }
    if (!(await confirmOnTty('Apply this change? [y/N] '))) {
      throw new KdiagError('KDIAG_REFUSED', 'cancelled: nothing changed', { exitCode: 1 });
    }
  }
  const outcome = await commitApply(proposal, { live, journalDir });
  if (!outcome.ok) {
    throw new KdiagError('KDIAG_APPLY_FAILED', outcome.message, {
      exitCode: 1,
      hint: outcome.rolledBack
        ? 'nothing is left changed; see kdiag journal'
        : `run: kdiag revert ${outcome.entry.id}`,
    });
  }
  out(formatMessage(`${outcome.message}.`));
  if (plan.change.kind === 'sysctl') {
    for (const n of notesForSysctl(plan.change.key, {
      node: plan.target.kind === 'node',
      persisted: plan.persist !== undefined,
    }))
      out(formatMessage(n));
  }
  out([`Undo with: kdiag revert ${outcome.entry.id}`]);
}

async function revertAction(id: string | undefined, opts: RevertOpts): Promise<void> {
  const { UsageError, KdiagError } = await import('../../errors.js');
  if ((id === undefined) === !opts.all)
    throw new UsageError(
      'give a journal entry ID or --all, not both or neither',
      'list entries with: kdiag journal',
    );
  let ids: number[] | undefined;
  if (id !== undefined) {
    if (!/^#?[0-9]{1,9}$/.test(id))
      throw new UsageError(
        `"${id.slice(0, 40)}" is not a journal entry id`,
        'list entries with: kdiag journal',
      );
    ids = [Number(id.replace('#', ''))];
  }
  const { requireRoot } = await import('../../host/root.js');
  requireRoot('revert changes');
  const { journalDirFrom } = await import('../../apply/journal.js');
  const { revertEntries } = await import('../../apply/revert-change.js');
  const { systemLive } = await import('../../apply/live-system.js');
  const { formatMessage } = await import('../../apply/format.js');
  const outcomes = await revertEntries(ids === undefined ? { all: true } : { ids }, {
    live: systemLive(),
    journalDir: journalDirFrom(opts.journalDir),
    force: Boolean(opts.force),
    dryRun: Boolean(opts.dryRun),
  });
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify(
        outcomes.map((o) => ({
          id: o.id,
          status: o.status,
          message: o.message,
          state: o.entry.state,
        })),
        null,
        2,
      )}\n`,
    );
  } else {
    if (outcomes.length === 0) out(['Nothing to revert: every journal entry is closed.']);
    for (const o of outcomes) out(formatMessage(o.message));
    if (opts.dryRun && outcomes.length) out(['Dry run: nothing changed.']);
  }
  const bad = outcomes.filter((o) => o.status === 'skipped' || o.status === 'failed');
  if (bad.length) {
    throw new KdiagError(
      'KDIAG_APPLY_FAILED',
      `${bad.length} of ${outcomes.length} journal entries not reverted`,
      { exitCode: 1, hint: 'see the lines above; kdiag journal shows what is still applied' },
    );
  }
}

async function journalAction(opts: JournalOpts): Promise<void> {
  const { journalDirFrom, journalPath, readJournal } = await import('../../apply/journal.js');
  const { formatJournal } = await import('../../apply/format.js');
  const dir = journalDirFrom(opts.journalDir);
  const journal = await readJournal(dir);
  const entries = [...journal.entries].sort((a, b) => b.id - a.id);
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify({ journal: journalPath(dir), format: journal.format, version: journal.version, entries }, null, 2)}\n`,
    );
    return;
  }
  out(formatJournal(entries));
}

/** Registers `apply`, `revert` and `journal`. */
export function registerApply(program: Command, deps: ApplyCommandDeps = {}): void {
  program
    .command('apply')
    .description('make a suggested fix live on this node, journaled so revert can undo it')
    .argument('[SUGGESTION_ID]', 'a suggestion id from kdiag check')
    .option('--change <SPEC>', 'change by hand: sysctl:KEY=VALUE or ipvs-timeout:TCP,TCPFIN,UDP')
    .option(
      '--from <FILE>',
      'take the suggestion from the diagnosis of this recording or bundle (as replay/check print it)',
    )
    .option('--yes', 'apply without asking')
    .option('--dry-run', 'show the change, make none')
    .option('--netns <NAME>', 'in this named network namespace instead of the node')
    .option(
      '--pid <PID>',
      "in the network namespace of this process (a pod's without a name under /run/netns)",
    )
    .option('--persist', 'also write /etc/sysctl.d/90-kdiag-KEY.conf (kube-proxy: the patch file)')
    .option(
      '--journal-dir <DIR>',
      'journal directory (default $KDIAG_JOURNAL_DIR or /var/lib/kdiag)',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  kdiag apply node-conntrack-established --dry-run\n  kdiag apply node-conntrack-established --from capture.tar.gz --dry-run\n  kdiag apply --change sysctl:net.ipv4.tcp_keepalive_time=600 --netns ns1 --yes\n  kdiag apply --change sysctl:net.ipv4.tcp_keepalive_time=600 --pid 4242 --dry-run',
    )
    .action((id: string | undefined, opts: ApplyOpts) => applyAction(id, opts, deps));

  program
    .command('revert')
    .description('restore the values a journal entry (or all of them) replaced')
    .argument('[ID]', 'journal entry id (see kdiag journal)')
    .option('--all', 'revert every open entry, newest first')
    .option('--force', 'restore even when something else changed the value since')
    .option('--dry-run', 'say what would be restored, change nothing')
    .option('--json', 'print the results as JSON')
    .option(
      '--journal-dir <DIR>',
      'journal directory (default $KDIAG_JOURNAL_DIR or /var/lib/kdiag)',
    )
    .addHelpText('after', '\nExamples:\n  kdiag revert 3\n  kdiag revert --all --dry-run')
    .action((id: string | undefined, opts: RevertOpts) => revertAction(id, opts));

  program
    .command('journal')
    .description('list the changes kdiag made here, newest first')
    .option('--json', 'print the journal as JSON')
    .option(
      '--journal-dir <DIR>',
      'journal directory (default $KDIAG_JOURNAL_DIR or /var/lib/kdiag)',
    )
    .action((opts: JournalOpts) => journalAction(opts));
}

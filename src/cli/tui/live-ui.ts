// `kdiag` / `kdiag ui`: the TUI on the live host.
import type { AnalyzeOptions } from '../../analysis/analyze.js';
import { PendingStore, startingSnapshot } from '../../services/pending-store.js';
import { preflightTrace } from '../../services/trace-preflight.js';
import type { StartedTrace } from '../../services/trace.js';
import type { AppExit } from '../../ui/render-app.js';

export interface LiveUiOptions {
  readonly netns?: string;
  readonly record?: string;
  readonly intervalMs: number;
  readonly probes?: readonly string[];
  readonly kubeProxyConfig?: string;
  readonly analysis: AnalyzeOptions;
}

/**
 * Opens the TUI, then starts the live session behind it, and stops every source when the user
 * quits; returns the exit status (q: 1 with findings, else 0; Ctrl-C 130, SIGTERM 143).
 */
export async function runLiveUi(o: LiveUiOptions): Promise<number> {
  // What would stop the session is said before the terminal is taken.
  await preflightTrace(o);
  // The first frame comes before the session's modules load and its sources are found (about half
  // a second): it shows them starting, and bpftrace attaching.
  const store = new PendingStore(
    startingSnapshot({
      probes: o.probes === undefined || o.probes.length > 0,
      ...(o.record ? { record: o.record } : {}),
    }),
  );
  const { renderApp, exitCodeOf } = await import('../../ui/render-app.js');
  const failed = new AbortController();
  let drawing = false;
  let drawn!: () => void;
  const firstFrame = new Promise<void>((resolve) => (drawn = resolve));
  const ui = renderApp(store, {
    signal: failed.signal,
    onRendered: () => {
      drawing = true;
      drawn();
    },
  });
  await Promise.race([firstFrame, ui.catch(() => undefined)]);
  // The UI ended before it drew (it could not load): nothing was started; its error is the answer.
  if (!drawing) return exitCodeOf(await ui, 0);
  let error: unknown;
  const starting = startSession(o, store, (l) => {
    // Once the TUI has the terminal, progress lines would tear its frame: the status line says it.
    if (!drawing) process.stderr.write(`${l}\n`);
  }).catch((err: unknown) => {
    error = err;
    failed.abort();
    return undefined;
  });
  let how: AppExit = 'quit';
  try {
    how = await ui;
  } finally {
    // Quit while it was starting: the session is stopped as soon as it exists.
    const started = await starting;
    if (started) {
      process.stderr.write('Stopping probes…\n');
      await started.session.stop();
    }
  }
  if (error !== undefined) {
    // The UI's last frame ends mid-line: the error starts on a line of its own.
    process.stderr.write('\n');
    throw error;
  }
  return exitCodeOf(how, store.getSnapshot().diagnosis.findings.length);
}

async function startSession(
  o: LiveUiOptions,
  store: PendingStore,
  progress: (line: string) => void,
): Promise<StartedTrace> {
  const [{ startTrace }, { sessionApplier, withApplyPlanner }, probes, { systemClock }] =
    await Promise.all([
      import('../../services/trace.js'),
      import('../../services/session-apply.js'),
      import('../../services/trace-command.js'),
      import('../../sources/source.js'),
    ]);
  // Changes made from this session go into the namespace it diagnoses, never elsewhere.
  const applier = await sessionApplier({ scope: o.netns ? { netns: o.netns } : {} });
  const started = await startTrace(
    {
      probes: o.probes ?? probes.DEFAULT_PROBES,
      probesDir: probes.probesDir(),
      intervalMs: o.intervalMs,
      analysis: o.analysis,
      clock: systemClock,
      progress,
      onApply: (id) => applier.apply(id),
      onRevert: (id) => applier.revert(id),
      ...(o.netns ? { netns: o.netns } : {}),
      ...(o.record ? { record: o.record } : {}),
      ...(o.kubeProxyConfig ? { kubeProxyConfig: o.kubeProxyConfig } : {}),
    },
    () => {},
  );
  store.attach(withApplyPlanner(started.session, applier));
  return started;
}

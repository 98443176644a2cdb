// `kdiag` / `kdiag ui`: the TUI on the live host.
import type { AnalyzeOptions } from '../../analysis/analyze.js';
import { systemClock } from '../../sources/source.js';
import { sessionApplier, withApplyPlanner } from '../../services/session-apply.js';
import { DEFAULT_PROBES, probesDir } from '../../services/trace-command.js';
import { startTrace } from '../../services/trace.js';
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
 * Starts the live session, opens the TUI, and stops every source when the user quits; returns the
 * exit status (q: 1 with findings, else 0; Ctrl-C 130, SIGTERM 143).
 */
export async function runLiveUi(o: LiveUiOptions): Promise<number> {
  // Load the UI while the session sets up (mostly waiting on its tools); renderApp awaits the same
  // load and reports its failure.
  void import('../../ui/load-ui.js').then((m) => m.loadUi()).catch(() => undefined);
  // Changes made from this session go into the namespace it diagnoses, never elsewhere.
  const applier = await sessionApplier({ scope: o.netns ? { netns: o.netns } : {} });
  let drawing = false;
  const started = await startTrace(
    {
      probes: o.probes ?? DEFAULT_PROBES,
      probesDir: probesDir(),
      intervalMs: o.intervalMs,
      analysis: o.analysis,
      clock: systemClock,
      // Once the TUI has the terminal, progress lines would tear its frame: the status line says it.
      progress: (l) => void (drawing ? undefined : process.stderr.write(`${l}\n`)),
      onApply: (id) => applier.apply(id),
      onRevert: (id) => applier.revert(id),
      ...(o.netns ? { netns: o.netns } : {}),
      ...(o.record ? { record: o.record } : {}),
      ...(o.kubeProxyConfig ? { kubeProxyConfig: o.kubeProxyConfig } : {}),
    },
    () => {},
  );
  // The first frame does not wait for bpftrace (seconds of compiling): its source shows
  // "attaching…" on the status line until the probes are attached.
  let how: AppExit = 'quit';
  try {
    const { renderApp } = await import('../../ui/render-app.js');
    drawing = true;
    how = await renderApp(withApplyPlanner(started.session, applier), {});
  } finally {
    process.stderr.write('Stopping probes…\n');
    await started.session.stop();
  }
  const { exitCodeOf } = await import('../../ui/render-app.js');
  return exitCodeOf(how, started.session.getSnapshot().diagnosis.findings.length);
}

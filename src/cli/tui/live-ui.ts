// `kdiag` / `kdiag ui`: the TUI on the live host.
import type { AnalyzeOptions } from '../../analysis/analyze.js';
import { systemClock } from '../../sources/source.js';
import { sessionApplier, withApplyPlanner } from '../../services/session-apply.js';
import { DEFAULT_PROBES, probesDir } from '../../services/trace-command.js';
import { startTrace } from '../../services/trace.js';

export interface LiveUiOptions {
  readonly netns?: string;
  readonly record?: string;
  readonly intervalMs: number;
  readonly probes?: readonly string[];
  readonly kubeProxyConfig?: string;
  readonly analysis: AnalyzeOptions;
}

/** Starts the live session, opens the TUI, and stops every source when the user quits. */
export async function runLiveUi(o: LiveUiOptions): Promise<void> {
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
  try {
    const { renderApp } = await import('../../ui/render-app.js');
    drawing = true;
    await renderApp(withApplyPlanner(started.session, applier), {});
  } finally {
    process.stderr.write('Stopping probes…\n');
    await started.session.stop();
  }
}
